-- Checks, through ARM and Batch, what the three tutorial scripts left behind (run from the work dir
-- of an end-to-end test, with AZURE_CLOUD=local). Prints "N passed, N failed".
local t = dofile(os.getenv("AZLUA_SOURCE_DIR") .. "/tests/lua/lib/testing.lua")
local azure = require "azure"
local tutorial = require "azure.tutorial"
local sys = require "azure.core.sys"

local cred, sub, cloud = tutorial.sign_in("config.lua")
local arm = azure.arm.client{ credential = cred, subscription = sub, cloud = cloud }
local rg, sa_name, ba_name = "group-centrale-supelec", "as03centralesupelec", "ab03centralesupelec"

t.test("config_resources.lua is 0600 and loads with every field", function()
  t.eq(sys.file_mode("config_resources.lua"), tonumber("600", 8))
  local r = tutorial.resources("config_resources.lua")
  t.eq(r.resource_gpe_name, rg)
  t.eq(r.batch.name, ba_name)
  t.match(r.blob_container.sas_token, "sig=")
  t.match(r.blob_container.url, "/" .. sa_name .. "/results$")
end)

t.test("resource group, storage and Batch accounts exist with the right properties", function()
  local g = arm:resource_groups():get(rg)
  t.eq(g.location, "centralus")
  local sa = arm:storage_accounts(rg):get(sa_name)
  t.eq(sa.kind, "StorageV2"); t.eq(sa.sku.name, "Standard_LRS")
  local ba = arm:batch_accounts(rg):get(ba_name)
  t.eq(ba.properties.autoStorage.storageAccountId, sa.id)
  local c = arm:blob_containers(rg, sa_name):get("results")
  t.eq(c.name, "results")
end)

local r = tutorial.resources("config_resources.lua")
local b = azure.batch.client{ endpoint = r.batch.url, account = r.batch.name, key = r.batch.key }

t.test("pool: autoscale, inter-node communication, one slot per node, a supported Ubuntu", function()
  local p = b:get_pool("mpi-pool")
  t.eq(p.enableAutoScale, true)
  t.eq(p.enableInterNodeCommunication, true)
  t.eq(p.taskSlotsPerNode, 1)
  t.match(p.autoScaleFormula, "%$TargetDedicatedNodes = min%(2, %$pending%)")
  t.match(p.virtualMachineConfiguration.nodeAgentSKUId, "^batch%.node%.ubuntu 2[24]%.04$")
end)

t.test("the preparation task ran, successfully, on both nodes", function()
  local res = b:request("GET", "/jobs/mpi-job/jobpreparationandreleasetaskstatus")
  local items = res.json.value
  local nodes = {}
  for _, it in ipairs(items) do
    local info = it.jobPreparationTaskExecutionInfo
    t.eq(info and info.result, "success", "prep task on " .. tostring(it.nodeId))
    nodes[it.nodeId] = true
  end
  local n = 0
  for _ in pairs(nodes) do n = n + 1 end
  t.eq(n, 2, "nodes that ran the preparation task")
end)

t.test("the MPI task completed with a subtask on another node", function()
  local task = b:get_task("mpi-job", "mpi-task")
  t.eq(task.state, "completed"); t.eq(task.executionInfo.result, "success")
  local subs = b:subtasks("mpi-job", "mpi-task")
  t.eq(#subs, 1)
  t.ok(subs[1].nodeInfo.nodeId ~= task.nodeInfo.nodeId, "subtask on a different node than the primary")
end)

t.test("the pool scales back to 0 nodes once the work is done", function()
  local deadline = os.time() + 120
  local p
  repeat
    p = b:get_pool("mpi-pool", { select = "currentDedicatedNodes,allocationState" })
    if p.currentDedicatedNodes == 0 and p.allocationState == "steady" then break end
    azure.time.sleep(1)
  until os.time() > deadline
  t.eq(p.currentDedicatedNodes, 0)
end)

t.test("the MPI output came back through Blob Storage and shows 2 ranks", function()
  local f = assert(io.open("output/mpi-job/mpi-task/stdout.txt"))
  local out = f:read("a"); f:close()
  t.match(out, "MPI world size: 2")
  t.match(out, "rank 0 on host")
  t.match(out, "rank 1 on host")
  t.match(out, "pi ~= 3%.14159265")
  local c = azure.blob.container{ url = r.blob_container.url .. "?" .. r.blob_container.sas_token }
  t.eq(c:download_string("mpi-job/mpi-task/stdout.txt"), out)
end)

t.test("the job terminated itself when its task completed", function()
  t.eq(b:get_job("mpi-job").state, "completed")
end)

t.run()
