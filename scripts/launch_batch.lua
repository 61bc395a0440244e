-- launch_batch.lua: the tutorial's second workflow. With the Batch account and blob container from
-- config_resources.lua it creates an autoscaling pool with inter-node communication, a job whose
-- preparation task installs the MPI program on every node, and a 2-instance MPI task whose
-- stdout/stderr land in the blob container.
local azure = require "azure"
local cli = require "azure.cli"
local tutorial = require "azure.tutorial"
local batch = azure.batch

local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local p = cli.parser{
  prog = "launch_batch.lua",
  description = "Creating in a batch account a pool, a job and an MPI task (see config_resources.lua).",
}
p:option("--pool_id", { default = "mpi-pool", help = "Pool to create or reuse" })
p:option("--job_id", { default = "mpi-job", help = "Job to create or reuse" })
p:option("--task_id", { default = "mpi-task", help = "Id of the MPI task" })
p:option("--vm-size", { default = "Standard_D2s_v5", help = "Node size (a Gen2-capable size for Ubuntu 24.04)" })
p:option("--image", { metavar = "PUBLISHER:OFFER:SKU:AGENT_SKU",
  help = "Image and node agent SKU; default: a supported Ubuntu LTS image found at run time" })
p:option("--max_nodes", { type = "integer", default = 2, help = "Upper bound of the autoscale formula" })
p:option("--instances", { type = "integer", default = 2, help = "Instances (MPI ranks) of the multi-instance task" })
p:option("--repo", { metavar = "URL", help = "Clone this git repository on each node instead of uploading demo_azure_batch/" })
p:option("--demo_dir", { metavar = "DIR", default = here .. "/../demo_azure_batch", help = "The folder a node runs" })
p:flag("--recreate_job", { help = "Delete an existing job of the same id first (its tasks go with it)" })
p:option("--resources", { metavar = "FILE", default = "config_resources.lua", help = "Written by create_resource.lua" })
require("azure.output").add_option(p)
local args = p:parse(arg)
tutorial.set_output(args.output)
if args.instances < 1 or args.instances > args.max_nodes then
  p:error("argument --instances: must be between 1 and --max_nodes (" .. args.max_nodes .. ")")
end

local r = tutorial.resources(args.resources)
local b = batch.client{ endpoint = r.batch.url, account = r.batch.name, key = r.batch.key }
local container_url, sas = r.blob_container.url, r.blob_container.sas_token
tutorial.say(("Launching on Batch account %s (%s)"):format(r.batch.name, r.batch.url))

-- The image: never hard-coded (Ubuntu releases are retired in turn); a supported LTS from the
-- account's supportedimages list unless --image says otherwise.
local image
if args.image then
  local pub, offer, sku, agent = args.image:match("^([^:]+):([^:]+):([^:]+):(.+)$")
  if not pub then p:error("argument --image: expected PUBLISHER:OFFER:SKU:AGENT_SKU, e.g. canonical:ubuntu-24_04-lts:server:batch.node.ubuntu 24.04") end
  image = { imageReference = { publisher = pub, offer = offer, sku = sku, version = "latest" }, nodeAgentSKUId = agent }
else
  image = b:pick_ubuntu_image()
end
tutorial.step("image", ("%s %s %s (%s)"):format(image.imageReference.publisher, image.imageReference.offer,
  image.imageReference.sku, image.nodeAgentSKUId))

-- What the preparation task runs: demo_azure_batch/ from the blob container, or a git clone.
local prep, script_path
if args.repo then
  prep = { commandLine = ("/bin/sh -c 'rm -rf demo && git clone --depth 1 %s demo && sh demo/install.sh'"):format(args.repo) }
  script_path = "$AZ_BATCH_JOB_PREP_WORKING_DIR/demo/script.py"
else
  local c = azure.blob.container{ url = container_url .. "?" .. sas }
  local files = {}
  for _, name in ipairs{ "install.sh", "requirements_node.txt", "script.py" } do
    local path = args.demo_dir .. "/" .. name
    local blob_name = "demo_azure_batch/" .. name
    c:upload(blob_name, path)
    files[#files + 1] = { httpUrl = container_url .. "/" .. blob_name .. "?" .. sas, filePath = blob_name }
  end
  tutorial.step("uploaded", ("demo_azure_batch/ (%d files) to %s"):format(#files, container_url))
  prep = { commandLine = "/bin/sh -c 'sh demo_azure_batch/install.sh'", resourceFiles = files }
  script_path = "$AZ_BATCH_JOB_PREP_WORKING_DIR/demo_azure_batch/script.py"
end
prep.waitForSuccess = true
prep.userIdentity = { autoUser = { scope = "pool", elevationLevel = "admin" } }

-- The pool starts with a formula of 0 nodes; the real formula is evaluated on it first and only
-- applied when it evaluates cleanly, so a bad formula is reported instead of stalling the pool.
local formula = batch.autoscale_formula(args.max_nodes)
if b:pool_exists(args.pool_id) then
  local pool = b:get_pool(args.pool_id)
  if pool.state ~= "active" then
    error(("pool %s is %s: wait for it to go, or use --pool_id NEW"):format(args.pool_id, tostring(pool.state)), 0)
  end
  if not pool.enableInterNodeCommunication or (pool.taskSlotsPerNode or 1) ~= 1 then
    error(("pool %s exists without inter-node communication or with more than one task slot per node, so an MPI task " ..
      "would never start there: delete it (az batch pool delete --pool-id %s) or use --pool_id NEW"):format(args.pool_id, args.pool_id), 0)
  end
  tutorial.step("reused", ("pool %s (%s, %d nodes now)"):format(args.pool_id, tostring(pool.vmSize), pool.currentDedicatedNodes or 0))
else
  local body = batch.autoscale_pool{ id = args.pool_id, vmSize = args.vm_size, image = image,
    formula = "$TargetDedicatedNodes = 0; $TargetLowPriorityNodes = 0;", inter_node = true }
  b:add_pool(body)
  tutorial.step("created", ("pool %s (%s, inter-node communication, 1 task slot per node)"):format(args.pool_id, args.vm_size))
end
local run = b:evaluate_autoscale(args.pool_id, formula)
if run and run.error then
  local e = run.error
  local details = {}
  for _, v in ipairs(e.values or {}) do details[#details + 1] = tostring(v.name) .. "=" .. tostring(v.value) end
  error(("the autoscale formula does not evaluate on pool %s: %s %s%s"):format(args.pool_id, tostring(e.code),
    tostring(e.message), #details > 0 and (" (" .. table.concat(details, ", ") .. ")") or ""), 0)
end
b:enable_autoscale(args.pool_id, { autoScaleFormula = formula, autoScaleEvaluationInterval = "PT5M" })
tutorial.step("autoscale", ("0..%d nodes while tasks are pending (evaluated: %s)"):format(args.max_nodes,
  tostring(run and run.results or ""):gsub(";", "; ")))

-- The job: its preparation task runs once per node before the MPI task; it terminates itself once
-- the task completes, so no job is left holding the account's quota.
local job_state
local ok, existing = pcall(b.get_job, b, args.job_id, { select = "id,state" })
if ok and existing then
  job_state = existing.state
  if args.recreate_job then
    b:delete_job(args.job_id, { wait = true })
    tutorial.step("deleted", "job " .. args.job_id)
    job_state = nil
  elseif job_state ~= "active" then
    error(("job %s is %s and takes no new tasks: re-run with --recreate_job, or use --job_id NEW"):format(args.job_id, tostring(job_state)), 0)
  end
elseif not ok and not (type(existing) == "table" and existing.code == "JobNotFound") then
  error(existing, 0)
end
if job_state == "active" then
  tutorial.step("reused", "job " .. args.job_id)
else
  b:add_job(batch.job_with_prep{ id = args.job_id, pool_id = args.pool_id, prep = prep })
  tutorial.step("created", ("job %s (preparation task installs Open MPI and mpi4py as an admin auto-user)"):format(args.job_id))
end

-- The MPI task, as Azure's documentation describes multi-instance tasks on Linux pools: every
-- instance runs the coordination command, then the primary runs mpirun over AZ_BATCH_HOST_LIST.
local task = batch.multi_instance_task{
  id = args.task_id,
  instances = args.instances,
  coordination = "/bin/sh -c 'echo coordination on $AZ_BATCH_NODE_ID: master=$AZ_BATCH_IS_CURRENT_NODE_MASTER'",
  command = ("/bin/sh -c 'mpirun -np %d --host $AZ_BATCH_HOST_LIST python3 %s'"):format(args.instances, script_path),
  output_container_url = container_url .. "?" .. sas,
  output_path = args.job_id .. "/" .. args.task_id,
}
local added, terr = pcall(b.add_task, b, args.job_id, task)
if not added then
  if type(terr) == "table" and terr.code == "TaskExists" then
    error(("job %s already has a task %s: use --task_id NEW, or --recreate_job to start over"):format(args.job_id, args.task_id), 0)
  end
  error(terr, 0)
end
b:patch_job(args.job_id, { onAllTasksComplete = "terminatejob" })
tutorial.step("added", ("MPI task %s (%d instances; stdout/stderr to %s/%s/%s)"):format(args.task_id, args.instances,
  r.blob_container.url, args.job_id, args.task_id))
tutorial.finish()
tutorial.say("Watch it with: azlua scripts/check_task.lua --wait")
