-- Your own workflow in a few lines: 100 tasks on the tutorial's pool, added 100 per request,
-- waited for, counted. Run it where config_resources.lua is: azlua scripts/examples/many_tasks.lua
local azure = require "azure"
local r = require("azure.tutorial").resources()
local b = azure.batch.client{ endpoint = r.batch.url, account = r.batch.name, key = r.batch.key }

local job = "squares-" .. os.time()
b:add_job{ id = job, poolInfo = { poolId = "mpi-pool" } }
local tasks = {}
for i = 1, 100 do
  tasks[i] = { id = "t" .. i, commandLine = ("/bin/sh -c 'echo $((%d * %d))'"):format(i, i) }
end
local res = b:add_tasks(job, tasks)
print(("added %d of %d tasks to %s"):format(res.added, res.total, job))
local counts = b:wait_tasks(job, { timeout = 600 })
print(("succeeded %d, failed %d"):format(counts.succeeded, counts.failed))
print("t7 printed: " .. b:read_file(job, "t7", "stdout.txt"))
b:patch_job(job, { onAllTasksComplete = "terminatejob" })
