---@meta
-- Generated from lua/azure/docs/batch.lua by azure.docs.stubs: do not edit.

---The Batch data plane; bodies use the REST field names (BatchService.json).
---@class azure.batch
local batch = {}

---A Batch client: Shared Key (account=, key=) or Entra ID (credential=).
---@param opts {endpoint: string, account?: string, key?: string, credential?: azure.identity.Credential}
---@return azure.batch.Client
function batch.client(opts) end

---The Shared Key Authorization header value for {method=, url=, headers={}}.
---@param request table
---@param account string
---@param key string
---@return string
function batch.sign(request, account, key) end

---Every item of a lazy list iterator, as an array.
---@param iter function
---@return table[]
function batch.collect(iter) end

---A pool body with an autoscale formula and inter-node communication: {id=, vmSize=, image=, max_nodes=, …}.
---@param o table
---@return table
function batch.autoscale_pool(o) end

---An autoscale formula that follows the pending tasks.
---@param max_nodes integer
---@return string
function batch.autoscale_formula(max_nodes) end

---A job body with a preparation (and release) task.
---@param o table
---@return table
function batch.job_with_prep(o) end

---A multi-instance (MPI) task body.
---@param o table
---@return table
function batch.multi_instance_task(o) end

---A Batch account's data plane. Lists are lazy iterators; errors are azure.errors objects.
---@class azure.batch.Client
local Client = {}
batch.Client = Client

---Adds a pool (PoolAddParameter: id, vmSize, virtualMachineConfiguration, targetDedicatedNodes, …); raises PoolExists if the id is taken.
---@param body table
---@return table
function Client:add_pool(body) end

---One pool.
---@param id string
---@param opts? {select?: string, expand?: string}
---@return table
function Client:get_pool(id, opts) end

---One pool (short for get_pool).
---@param id string
---@param opts? {select?: string, expand?: string}
---@return table
function Client:pool(id, opts) end

---Whether the pool exists (HEAD).
---@param id string
---@return boolean
function Client:pool_exists(id) end

---Lazy iterator over the pools.
---@param opts? {filter?: string, select?: string}
---@return fun(): table
function Client:pools(opts) end

---Every pool, as an array.
---@param opts? {filter?: string, select?: string}
---@return table[]
function Client:list_pools(opts) end

---Updates some of a pool's properties.
---@param id string
---@param body table
---@return table
function Client:patch_pool(id, body) end

---Deletes a pool and waits until it is gone (wait=false returns at once); false if it did not exist.
---@param id string
---@param opts? {wait?: boolean, timeout?: number}
---@return boolean
function Client:delete_pool(id, opts) end

---Resizes a fixed-size pool (a number = dedicated nodes).
---@param id string
---@param body table|integer
---@return table
function Client:resize_pool(id, body) end

---Stops a resize in progress.
---@param id string
---@return table
function Client:stop_resize(id) end

---Turns autoscale on (a string = the formula).
---@param id string
---@param body table|string
---@return table
function Client:enable_autoscale(id, body) end

---Turns autoscale off.
---@param id string
---@return table
function Client:disable_autoscale(id) end

---Evaluates a formula on the pool: AutoScaleRun.
---@param id string
---@param formula string
---@return table
function Client:evaluate_autoscale(id, formula) end

---Waits until the pool is steady (and has that many usable nodes); resize errors raise as one line. Ctrl-C stops it.
---@param id string
---@param opts? {timeout?: number, nodes?: integer, interval?: number}
---@return table
function Client:wait_pool(id, opts) end

---Lazy iterator over a pool's nodes.
---@param pool string
---@param opts? {filter?: string, select?: string}
---@return fun(): table
function Client:nodes(pool, opts) end

---Node counts per pool and state.
---@param opts? table
---@return table[]
function Client:node_counts(opts) end

---Node counts of one pool.
---@param pool string
---@return table
function Client:pool_node_counts(pool) end

---Lazy iterator over the supported VM images.
---@param opts? {filter?: string}
---@return fun(): table
function Client:supported_images(opts) end

---The newest supported Ubuntu LTS image: {imageReference=, nodeAgentSKUId=} for a pool body.
---@param opts? {generation?: integer, min_days_left?: integer}
---@return table
function Client:pick_ubuntu_image(opts) end

---Adds a job (JobAddParameter: id, poolInfo={poolId=}, …); raises JobExists if taken.
---@param body table
---@return table
function Client:add_job(body) end

---One job.
---@param id string
---@param opts? {select?: string, expand?: string}
---@return table
function Client:get_job(id, opts) end

---One job (short for get_job).
---@param id string
---@param opts? {select?: string, expand?: string}
---@return table
function Client:job(id, opts) end

---Lazy iterator over the jobs.
---@param opts? {filter?: string, select?: string}
---@return fun(): table
function Client:jobs(opts) end

---Every job, as an array.
---@param opts? table
---@return table[]
function Client:list_jobs(opts) end

---Updates some of a job's properties (e.g. onAllTasksComplete).
---@param id string
---@param body table
---@return table
function Client:patch_job(id, body) end

---Deletes a job; false if it did not exist.
---@param id string
---@param opts? {wait?: boolean, timeout?: number}
---@return boolean
function Client:delete_job(id, opts) end

---Terminates a job (its running tasks end).
---@param id string
---@param reason? string
---@return table
function Client:terminate_job(id, reason) end

---{active, running, completed, succeeded, failed} of a job (cheap).
---@param job string
---@return table
function Client:task_counts(job) end

---Adds one task (TaskAddParameter: id, commandLine, …).
---@param job string
---@param body table
---@return table
function Client:add_task(job, body) end

---Adds any number of tasks, 100 per request, several in flight: {added=, total=, failed={…}}.
---@param job string
---@param tasks table[]
---@param opts? {concurrency?: integer}
---@return table
function Client:add_tasks(job, tasks, opts) end

---One task.
---@param job string
---@param id string
---@param opts? table
---@return table
function Client:get_task(job, id, opts) end

---Lazy iterator over a job's tasks.
---@param job string
---@param opts? {filter?: string, select?: string}
---@return fun(): table
function Client:tasks(job, opts) end

---Every task of a job, as an array.
---@param job string
---@param opts? table
---@return table[]
function Client:list_tasks(job, opts) end

---The subtasks of a multi-instance task.
---@param job string
---@param id string
---@return table[]
function Client:subtasks(job, id) end

---Deletes a task; false if it did not exist.
---@param job string
---@param id string
---@return boolean
function Client:delete_task(job, id) end

---Terminates a task.
---@param job string
---@param id string
---@return table
function Client:terminate_task(job, id) end

---Waits until every task of the job completed, showing progress; returns the task counts. Ctrl-C stops it.
---@param job string
---@param opts? {timeout?: number, interval?: number, progress?: boolean}
---@return table
function Client:wait_tasks(job, opts) end

---Lazy iterator over a task's files.
---@param job string
---@param task string
---@param opts? {recursive?: boolean}
---@return fun(): table
function Client:files(job, task, opts) end

---A task file's content (e.g. "stdout.txt").
---@param job string
---@param task string
---@param path string
---@return string
function Client:read_file(job, task, path) end

---Streams a task file to dest; the byte count.
---@param job string
---@param task string
---@param path string
---@param dest string
---@return integer
function Client:download_file(job, task, path, dest) end

---A task file's size, times and mode.
---@param job string
---@param task string
---@param path string
---@return table
function Client:file_properties(job, task, path) end

---Any Batch REST call through the pipeline (signing, retries, errors).
---@param method string
---@param path string
---@param opts? {query?: table, body?: table, expect?: integer[]}
---@return table
function Client:request(method, path, opts) end

---Lazy iterator over any Batch list (follows odata.nextLink).
---@param path string
---@param opts? table
---@return fun(): table
function Client:list(path, opts) end
return batch
