-- Reliability under the emulator's faults (issue 5, "How it is checked"): with 10 % 429/503 (Retry-After: 0, the
-- smallest the emulator offers), 5 % resets before and 5 % after processing and 2 % truncated bodies on every kind of
-- request (sign-in, ARM, Batch), a full create → pool → job → tasks → counts sequence succeeds and
-- add_tasks of 5,000 tasks ends with exactly 5,000 tasks (task counts and a listing agree).
local t = dofile("tests/lua/lib/testing.lua")
local FAULTS = "429=0.05,503=0.05,reset_before=0.05,reset_after=0.05,truncate=0.02,retry_after=0,seed="
  .. (os.getenv("AZLUA_FAULT_SEED") or "11")
local emu = dofile("tests/lua/lib/emulator.lua").start{ lro_polls = 1, retry_after = 0, faults = FAULTS }
local E = emu.endpoints
local identity = require "azure.identity"
local batch = require "azure.batch"
local time = require "azure.core.time"

local N = 5000
-- Retries happen at a fixed, small Retry-After or short backoff: a few per request is enough, but with
-- ~20 % of attempts failing, 5 attempts would leave a run of bad luck fatal now and then.
local RETRY = { max_attempts = 10, base_delay = 0.05, max_delay = 0.5 }

local cred = identity.client_secret{ tenant = E.tenant, client_id = E.client_id, secret = E.client_secret,
  cloud = emu.cloud, retry = RETRY }
local arm = require("azure.arm").client{ credential = cred, cloud = emu.cloud, subscription = E.subscription,
  poll_interval = 0.05, retry = RETRY }
local loc = E.location or "eastus"
local b, job_seen

local function injected()
  local _, f = emu.admin("GET", "/faults")
  local n = 0
  for _, v in pairs(f.injected or {}) do n = n + v end
  return n, f
end

t.test("faults are on for every kind of request", function()
  local status, f = emu.admin("GET", "/faults")
  t.eq(status, 200)
  t.match(require("azure.core.json").encode(f), "reset_after")
end)

t.test("ARM under faults: resource group, storage account, Batch account with autoStorage, keys", function()
  arm:resource_groups():create("azlua-faults", { location = loc })
  t.ok(arm:resource_groups():exists("azlua-faults"))
  local st = arm:storage_accounts("azlua-faults"):create("azluafst", { location = loc })
  t.match(st.id, "/storageAccounts/azluafst$")
  local acct = arm:batch_accounts("azlua-faults"):create("azluaf", { location = loc, storage_account_id = st.id })
  t.eq(acct.properties.provisioningState, "Succeeded")
  t.eq(acct.properties.autoStorage.storageAccountId, st.id)
  local keys = arm:batch_accounts("azlua-faults"):keys("azluaf")
  t.ok(keys.primary and #keys.primary > 20, "primary key")
  local endpoint = arm:batch_accounts("azlua-faults"):endpoint("azluaf")
  b = batch.client{ endpoint = endpoint, account = "azluaf", key = keys.primary, retry = RETRY }
end)

t.test("Batch under faults: pool (no nodes), job, a few tasks, counts", function()
  t.ok(b, "Batch client from the ARM step")
  local image = b:pick_ubuntu_image()
  b:add_pool{ id = "fp", vmSize = "standard_d2s_v3", targetDedicatedNodes = 0, virtualMachineConfiguration = {
    imageReference = image.imageReference, nodeAgentSKUId = image.nodeAgentSKUId } }
  t.eq(b:get_pool("fp", { select = "id" }).id, "fp")
  b:add_job{ id = "fj", poolInfo = { poolId = "fp" } }
  for i = 1, 20 do b:add_task("fj", { id = "one" .. i, commandLine = "/bin/true" }) end
  t.eq(b:task_counts("fj").active, 20)
  job_seen = true
end)

-- A request processed and then reset: libcurl resends it by itself on a fresh connection when the
-- dead one was reused, so the answer is TaskExists/PoolExists on what looks like a first attempt.
t.test("processed, then reset: add_task, add_pool, add_tasks count the first copy, not an *Exists", function()
  t.ok(job_seen, "job from the previous step")
  local vmc = b:get_pool("fp", { select = "virtualMachineConfiguration" }).virtualMachineConfiguration
  for _, what in ipairs{ "/jobs/fj/tasks$", "/pools$", "/jobs/fj/addtaskcollection$" } do
    emu.admin("POST", "/faults", { next = { "reset_after" }, match = what })
  end
  b:get_pool("fp", { select = "id" }) -- a kept-alive connection to reuse
  b:add_task("fj", { id = "resent1", commandLine = "/bin/true" })
  b:add_pool{ id = "fp2", vmSize = "standard_d2s_v3", targetDedicatedNodes = 0, virtualMachineConfiguration = vmc }
  t.ok(b:pool_exists("fp2"))
  local list = {}
  for i = 1, 100 do list[i] = { id = "resent-c" .. i, commandLine = "/bin/true" } end
  local r = b:add_tasks("fj", list)
  t.eq(#r.failed, 0, r.failed[1] and (r.failed[1].id .. " " .. tostring(r.failed[1].code)))
  t.eq(r.added, 100)
  t.eq(b:task_counts("fj").active, 121)
  local _, f = injected()
  t.eq(#f.next, 0, "every one-shot reset was used")
end)

t.test("add_tasks of 5,000 under faults: exactly 5,000 tasks (counts and listing), no duplicates", function()
  t.ok(job_seen, "pool from the previous step")
  b:add_job{ id = "big", poolInfo = { poolId = "fp" } }
  local list = {}
  for i = 1, N do list[i] = { id = string.format("t%05d", i), commandLine = "/bin/true" } end
  local before = injected()
  local t0 = time.monotonic()
  local r = b:add_tasks("big", list, { concurrency = 8 })
  local secs = time.monotonic() - t0
  local during = injected() - before
  t.ok(during >= 5, "faults during add_tasks: " .. during)
  t.eq(#r.failed, 0, r.failed[1] and (r.failed[1].id .. " " .. tostring(r.failed[1].code) .. " " .. tostring(r.failed[1].message)))
  t.eq(r.total, N)
  t.eq(r.added, N)
  local c = b:task_counts("big")
  t.eq(c.active, N, "active task count")
  t.eq((c.active or 0) + (c.running or 0) + (c.completed or 0), N, "total task count")
  local seen, n = {}, 0
  for task in b:tasks("big", { select = "id" }) do
    t.ok(not seen[task.id], "listed twice: " .. tostring(task.id))
    seen[task.id] = true
    n = n + 1
  end
  t.eq(n, N, "tasks listed")
  for i = 1, N do t.ok(seen[list[i].id], "missing " .. list[i].id) end
  io.stderr:write(string.format("add_tasks: %d tasks in %.1f s, %d faults injected\n", N, secs, during))
end)

t.test("the faults really fired", function()
  local _, f = injected()
  local counts = f.injected or {}
  for _, k in ipairs{ "429", "503", "reset_before", "reset_after", "truncate" } do
    t.ok((counts[k] or 0) > 0, "no " .. k .. " fault was injected: " .. require("azure.core.json").encode(f))
  end
end)

t.run()
