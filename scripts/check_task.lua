-- check_task.lua: the tutorial's third workflow. Summarizes the task states of each job in the
-- Batch account, and for each job whose tasks are all complete downloads every task's stdout and
-- stderr (from the blob container, where outputs outlive the pool; else from the node).
local azure = require "azure"
local cli = require "azure.cli"
local tutorial = require "azure.tutorial"
local output = require "azure.output"
local errors = require "azure.errors"

local p = cli.parser{
  prog = "check_task.lua",
  description = "Checks the status of the jobs' tasks and downloads their stdout/stderr once all tasks of a job are finished.",
}
p:flag("--wait", { help = "Wait (with a progress line) until the tasks are complete" })
p:option("--job", { metavar = "ID", help = "Only this job (default: every job in the account)" })
p:option("--out", { metavar = "DIR", default = "output", help = "Where outputs go: DIR/<job>/<task>/" })
p:option("--timeout", { metavar = "SECONDS", type = "integer", default = 3600, help = "Give up waiting after this long" })
require("azure.output").add_option(p)
p:option("--resources", { metavar = "FILE", default = "config_resources.lua", help = "Written by create_resource.lua" })
local args = p:parse(arg)

-- With -o json|tsv stdout carries only the summary; the lines for people go to stderr.
local say = (args.output == "table") and print or function(text) io.stderr:write(text, "\n") end
local r = tutorial.resources(args.resources)
local b = azure.batch.client{ endpoint = r.batch.url, account = r.batch.name, key = r.batch.key }
local progress = require "azure.progress"
local time = require "azure.core.time"

local function job_list()
  if args.job then return { b:get_job(args.job, { select = "id,state,poolInfo" }) } end
  return b:list_jobs{ select = "id,state,poolInfo" }
end

local function counts_row(job)
  local c = b:task_counts(job.id)
  return { job = job.id, state = job.state, active = c.active or 0, running = c.running or 0,
           completed = c.completed or 0, succeeded = c.succeeded or 0, failed = c.failed or 0 }
end

-- A pool that cannot get nodes would keep tasks active forever: say why instead of waiting.
local function check_pool(pool_id)
  if not pool_id then return end
  local ok, pool = pcall(b.get_pool, b, pool_id, { select = "id,resizeErrors,allocationState,currentDedicatedNodes" })
  if not ok then
    if errors.is(pool) and pool.code == "PoolNotFound" then
      error(("the job's pool %s does not exist: run 'azlua scripts/launch_batch.lua' again"):format(pool_id), 0)
    end
    return
  end
  local errs = pool.resizeErrors
  if type(errs) == "table" and #errs > 0 then
    local parts = {}
    for _, e in ipairs(errs) do parts[#parts + 1] = tostring(e.code) .. ": " .. tostring(e.message) end
    error(("pool %s cannot get nodes (%s): check your Batch core quota and the VM size, then resize or recreate the pool")
      :format(pool_id, table.concat(parts, "; ")), 0)
  end
end

local jobs = job_list()
if #jobs == 0 then
  say("No jobs in Batch account " .. r.batch.name .. ": run 'azlua scripts/launch_batch.lua' first.")
  os.exit(0)
end

if args.wait then
  local started = time.monotonic()
  local last_pool_check = -math.huge
  while true do
    local pending, done, failed = 0, 0, 0
    for _, job in ipairs(jobs) do
      local row = counts_row(job)
      pending = pending + row.active + row.running
      done, failed = done + row.completed, failed + row.failed
      if row.active > 0 and time.monotonic() - last_pool_check > 10 then
        check_pool(job.poolInfo and job.poolInfo.poolId)
      end
    end
    if time.monotonic() - last_pool_check > 10 then last_pool_check = time.monotonic() end
    if pending == 0 then break end
    local waited = time.monotonic() - started
    if waited > args.timeout then
      progress.clear()
      error(("still %d tasks pending after %d s: check the pool (az batch pool show) or wait longer with --timeout"):format(pending, math.floor(waited)), 0)
    end
    progress.show(("waiting: %d tasks pending, %d completed (%d failed) — %d s"):format(pending, done, failed, math.floor(waited)))
    time.sleep(2)
  end
  progress.clear()
end

local rows = {}
for i, job in ipairs(jobs) do rows[i] = counts_row(job) end
output.print(rows, args.output, { columns = { "job", "state", "active", "running", "completed", "succeeded", "failed" } })

-- Outputs: blob container first (outputFiles put them at <job>/<task>/), then the node's files.
local container = azure.blob.container{ url = r.blob_container.url .. "?" .. r.blob_container.sas_token }
local sys = require "azure.core.sys"
local failures = {}
for _, row in ipairs(rows) do
  if row.active + row.running == 0 and row.completed > 0 then
    for task in b:tasks(row.job, { select = "id,state,executionInfo" }) do
      local dir = ("%s/%s/%s"):format(args.out, row.job, task.id)
      assert(sys.mkdir_p(dir))
      local got = {}
      for item in container:blobs{ prefix = row.job .. "/" .. task.id .. "/" } do
        local name = item.name:sub(#row.job + #task.id + 3)
        if name == "stdout.txt" or name == "stderr.txt" then
          container:download(item.name, dir .. "/" .. name)
          got[name] = "blob"
        end
      end
      for _, name in ipairs{ "stdout.txt", "stderr.txt" } do
        if not got[name] then
          local ok = pcall(b.download_file, b, row.job, task.id, name, dir .. "/" .. name)
          got[name] = ok and "node" or nil
        end
      end
      local where = {}
      for _, name in ipairs{ "stdout.txt", "stderr.txt" } do
        if got[name] then where[#where + 1] = ("%s/%s (from %s)"):format(dir, name, got[name]) end
      end
      say(("%s/%s: %s"):format(row.job, task.id, #where > 0 and table.concat(where, ", ") or "no output found"))
      local ex = task.executionInfo or {}
      if ex.result == "failure" then
        local why = ex.failureInfo and ex.failureInfo.message or ("exit code " .. tostring(ex.exitCode))
        failures[#failures + 1] = ("%s/%s failed: %s (see %s/stderr.txt)"):format(row.job, task.id, why, dir)
      end
    end
  elseif row.active + row.running > 0 then
    say(("%s: %d tasks still pending; outputs are downloaded once all are complete (use --wait)"):format(row.job, row.active + row.running))
  end
end

if #failures > 0 then
  for _, f in ipairs(failures) do io.stderr:write("check_task.lua: ", f, "\n") end
  os.exit(1)
end
