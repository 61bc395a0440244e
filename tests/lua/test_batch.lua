-- azure.batch against the emulator: pools (fixed + autoscale), images, jobs, tasks (one and
-- thousands), wait, subtasks, files; Shared Key and bearer; faults during add_tasks.
local t = dofile("tests/lua/lib/testing.lua")
local emu = dofile("tests/lua/lib/emulator.lua").start{ lro_polls = 0, retry_after = 0, autoscale_interval = 1 }
local E = emu.endpoints
local identity = require "azure.identity"
local batch = require "azure.batch"
local errors = require "azure.errors"

local cred = identity.client_secret{ tenant = E.tenant, client_id = E.client_id, secret = E.client_secret, cloud = emu.cloud }
local arm = require("azure.arm").client{ credential = cred, cloud = emu.cloud, subscription = E.subscription, poll_interval = 0.1 }
local loc = E.location or "eastus"
arm:resource_groups():create("azlua-batch", { location = loc })
local st = arm:storage_accounts("azlua-batch"):create("azluabst", { location = loc })
arm:batch_accounts("azlua-batch"):create("azluab", { location = loc, storage_account_id = st.id })
local keys = arm:batch_accounts("azlua-batch"):keys("azluab")
local endpoint = arm:batch_accounts("azlua-batch"):endpoint("azluab")
local b = batch.client{ endpoint = endpoint, account = "azluab", key = keys.primary }

local image
t.test("supported images: pick the newest supported Ubuntu", function()
  local n = 0
  for _ in b:supported_images() do n = n + 1 end
  t.ok(n > 0)
  image = b:pick_ubuntu_image()
  t.match(image.nodeAgentSKUId, "^batch%.node%.ubuntu %d+%.04$")
  t.ok(image.imageReference.publisher and image.imageReference.offer and image.imageReference.sku)
  local v = tonumber(image.nodeAgentSKUId:match("(%d+)%.04"))
  t.ok(v >= 22, "not a retired Ubuntu: " .. image.nodeAgentSKUId)
end)

t.test("pools: add, exists, get, list, resize, wait, node counts, nodes, PoolExists", function()
  b:add_pool{ id = "p1", vmSize = "standard_d2s_v3", virtualMachineConfiguration = {
    imageReference = image.imageReference, nodeAgentSKUId = image.nodeAgentSKUId }, targetDedicatedNodes = 1 }
  t.eq(b:pool_exists("p1"), true)
  t.eq(b:pool_exists("nope"), false)
  t.eq(b:get_pool("p1").id, "p1")
  t.eq(b:get_pool("p1", { select = "id,vmSize" }).vmSize, "standard_d2s_v3")
  local ids = {}
  for p in b:pools{ select = "id" } do ids[#ids + 1] = p.id end
  t.eq(ids, { "p1" })
  b:wait_pool("p1", { timeout = 30, nodes = 1, interval = 0.3 })
  b:resize_pool("p1", 2)
  local p = b:wait_pool("p1", { timeout = 30, nodes = 2, interval = 0.3 })
  t.eq(p.currentDedicatedNodes, 2)
  local nc = b:pool_node_counts("p1")
  t.eq(nc.poolId, "p1")
  local n = 0
  for _ in b:nodes("p1") do n = n + 1 end
  t.eq(n, 2)
  local e = t.raises(function() b:add_pool{ id = "p1", vmSize = "standard_d2s_v3", virtualMachineConfiguration = {
    imageReference = image.imageReference, nodeAgentSKUId = image.nodeAgentSKUId }, targetDedicatedNodes = 1 } end)
  t.eq(e.code, "PoolExists")
  t.match(tostring(e), "^Batch 409 PoolExists: ")
end)

t.test("autoscale pool body with inter-node communication; evaluate, disable, enable", function()
  local body = batch.autoscale_pool{ id = "ap", vmSize = "standard_d2s_v3", image = image, max_nodes = 2,
    start_task = "/bin/sh -c 'echo start'" }
  t.eq(body.enableInterNodeCommunication, true)
  t.eq(body.taskSlotsPerNode, 1)
  b:add_pool(body)
  local run = b:evaluate_autoscale("ap", "$TargetDedicatedNodes = 1;")
  t.match(run.results, "%$TargetDedicatedNodes=1")
  b:disable_autoscale("ap")
  t.eq(b:get_pool("ap").enableAutoScale, false)
  b:enable_autoscale("ap", { autoScaleFormula = "$TargetDedicatedNodes = 0;", autoScaleEvaluationInterval = "PT5M" })
  t.eq(b:get_pool("ap").enableAutoScale, true)
  b:delete_pool("ap", { timeout = 30 })
  t.eq(b:pool_exists("ap"), false)
end)

t.test("jobs and tasks: prep task, add, get, list with $select/$filter, wait, counts, files", function()
  b:add_job(batch.job_with_prep{ id = "j1", pool_id = "p1", prep = "/bin/sh -c 'echo prep'" })
  t.eq(b:get_job("j1").jobPreparationTask.commandLine, "/bin/sh -c 'echo prep'")
  b:add_task("j1", { id = "t1", commandLine = "/bin/sh -c 'echo hello; mkdir -p out; echo data > out/x.txt'" })
  b:add_task("j1", { id = "t2", commandLine = "/bin/sh -c 'exit 3'" })
  local counts = b:wait_tasks("j1", { timeout = 40, interval = 0.3 })
  t.eq(counts.completed, 2)
  t.eq(counts.failed, 1)
  local ids = {}
  for task in b:tasks("j1", { select = "id,state", filter = "executionInfo/exitCode eq 3" }) do ids[#ids + 1] = task.id end
  t.eq(ids, { "t2" })
  t.eq(b:get_task("j1", "t1").executionInfo.exitCode, 0)
  t.eq(b:read_file("j1", "t1", "stdout.txt"), "hello\n")
  local props = b:file_properties("j1", "t1", "stdout.txt")
  t.eq(props.content_length, 6)
  local names = {}
  for f in b:files("j1", "t1", { recursive = true }) do names[f.name] = true end
  t.ok(names["stdout.txt"], "stdout listed")
  local dest = os.tmpname()
  b:download_file("j1", "t1", "wd/out/x.txt", dest)
  local f = io.open(dest); t.eq(f:read("a"), "data\n"); f:close(); os.remove(dest)
  t.eq(#b:subtasks("j1", "t1"), 0)
  b:delete_task("j1", "t2")
  t.raises(function() b:get_task("j1", "t2") end, "TaskNotFound")
  b:terminate_job("j1", "done")
  t.eq(#b:list_jobs{ filter = "id eq 'j1'" }, 1)
end)

t.test("add_tasks: 2,500 tasks in chunks, several in flight; per-task failures reported", function()
  b:add_job{ id = "big", poolInfo = { poolId = "nopool" } } -- no pool: tasks stay active, nothing runs
  local list = {}
  for i = 1, 2500 do list[i] = { id = string.format("t%05d", i), commandLine = "/bin/true" } end
  list[7].commandLine = nil -- invalid: missing required property
  local calls = 0
  local r = b:add_tasks("big", list, { concurrency = 8, progress = function() calls = calls + 1 end })
  t.eq(r.total, 2500)
  t.eq(r.added, 2499)
  t.eq(#r.failed, 1)
  t.eq(r.failed[1].id, "t00007")
  t.ok(calls >= 1)
  t.eq(b:task_counts("big").active, 2499)
  local n = 0
  for _ in b:tasks("big", { select = "id" }) do n = n + 1 end
  t.eq(n, 2499, "lazy paging over every task")
end)

t.test("add_tasks under faults (429/503/resets/truncated): exactly N tasks, no duplicates", function()
  b:add_job{ id = "faulty", poolInfo = { poolId = "nopool" } }
  emu.admin("POST", "/faults", { spec = "429=0.1,503=0.1,reset_after=0.05,truncate=0.02,retry_after=0,seed=5,only=batch" })
  local list = {}
  for i = 1, 1500 do list[i] = { id = "f" .. i, commandLine = "/bin/true" } end
  local ok, r = pcall(b.add_tasks, b, "faulty", list, { concurrency = 6 })
  emu.admin("DELETE", "/faults")
  t.ok(ok, tostring(r))
  t.eq(#r.failed, 0, r.failed[1] and (r.failed[1].id .. " " .. tostring(r.failed[1].message)))
  t.eq(r.added, 1500)
  t.eq(b:task_counts("faulty").active, 1500)
end)

t.test("RequestBodyTooLarge halves the chunk", function()
  b:add_job{ id = "fat", poolInfo = { poolId = "nopool" } }
  local list = {}
  local blob = string.rep("x", 20000) -- 100 × 20 kB > 1 MB per request
  for i = 1, 100 do list[i] = { id = "fat" .. i, commandLine = "/bin/echo " .. blob } end
  local r = b:add_tasks("fat", list)
  t.eq(r.added, 100, r.failed[1] and r.failed[1].message)
end)

t.test("multi-instance task body; bearer credential with the Batch scope", function()
  local body = batch.multi_instance_task{ id = "mpi", command = "/bin/sh -c 'echo $AZ_BATCH_HOST_LIST'", instances = 2,
    coordination = "/bin/true", output_container_url = "http://127.0.0.1:10000/acct/out?sig=x" }
  t.eq(body.multiInstanceSettings.numberOfInstances, 2)
  t.eq(body.outputFiles[1].destination.container.path, "mpi")
  local bb = batch.client{ endpoint = endpoint, credential = cred, cloud = emu.cloud }
  t.eq(bb:get_pool("p1").id, "p1")
  local bad = batch.client{ endpoint = endpoint, account = "azluab", key = require("azure.core.crypto").base64_encode(string.rep("k", 64)) }
  local e = t.raises(function() bad:get_pool("p1") end)
  t.eq(e.code, "AuthenticationFailed")
  t.match(tostring(e), "check the Batch account name and key")
end)

t.test("delete pool and wait", function()
  b:delete_job("j1", { wait = true, timeout = 30 })
  b:delete_pool("p1", { timeout = 30 })
  t.eq(b:pool_exists("p1"), false)
  t.eq(b:delete_pool("p1"), false, "already gone is fine")
end)

t.run()
