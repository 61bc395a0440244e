-- azure.arm against the emulator: raw verbs, LROs (Location + Retry-After, provisioningState),
-- paging over thousands, provider registration on MissingSubscriptionRegistration, throttling
-- with injected faults, the helpers and name validation. Azure-AsyncOperation through a fake transport.
local t = dofile("tests/lua/lib/testing.lua")
local emu = dofile("tests/lua/lib/emulator.lua").start{ lro_polls = 2, retry_after = 1, page_size = 100 }
local E = emu.endpoints
local armmod = require "azure.arm"
local identity = require "azure.identity"
local errors = require "azure.errors"
local time = require "azure.core.time"

local cred = identity.client_secret{ tenant = E.tenant, client_id = E.client_id, secret = E.client_secret, cloud = emu.cloud }
local arm = armmod.client{ credential = cred, cloud = emu.cloud, subscription = E.subscription, poll_interval = 0.2 }
local loc = E.location or "eastus"

t.test("resource groups: create, get, exists, list, delete (LRO through Location)", function()
  local rgs = arm:resource_groups()
  local g = rgs:create("azlua-rg1", { location = loc, tags = { purpose = "test" } })
  t.eq(g.name, "azlua-rg1")
  t.eq(g.properties.provisioningState, "Succeeded")
  t.eq(rgs:get("azlua-rg1").tags.purpose, "test")
  t.eq(rgs:exists("azlua-rg1"), true)
  t.eq(rgs:exists("azlua-nope"), false)
  local found = false
  for x in rgs:list() do if x.name == "azlua-rg1" then found = true end end
  t.ok(found, "listed")
  local t0 = time.monotonic()
  rgs:delete("azlua-rg1")
  t.ok(time.monotonic() - t0 >= 1.5, "Retry-After honoured while polling")
  t.eq(rgs:exists("azlua-rg1"), false)
  local e = t.raises(function() rgs:get("azlua-rg1") end)
  t.eq(tostring(e):match("^ARM 404 ResourceGroupNotFound: Resource group 'azlua%-rg1' could not be found%."), "ARM 404 ResourceGroupNotFound: Resource group 'azlua-rg1' could not be found.")
end)

t.test("names validated before any call, saying why", function()
  t.raises(function() arm:storage_accounts("rg"):create("Bad_Name") end, "lower%-case letters and digits")
  t.raises(function() arm:storage_accounts("rg"):create("ab") end, "3 to 24 characters")
  t.raises(function() arm:batch_accounts("rg"):get(string.rep("a", 25)) end, "3 to 24")
  t.raises(function() arm:resource_groups():get("bad/name") end, "may only use")
  t.raises(function() arm:resource_groups():get("endsdot.") end, "cannot end with")
  t.raises(function() armmod.validate.container("a--b") end, "cannot contain '%-%-'")
end)

t.test("raw verbs on paths with {sub}; api-version per provider", function()
  t.eq(arm:api_version_for("/subscriptions/x/providers/Microsoft.Storage/storageAccounts"), "2025-08-01")
  t.eq(arm:api_version_for("/subscriptions/x/resourcegroups/y"), "2025-04-01")
  local u = arm:url("/subscriptions/{sub}/resourceGroups/r/providers/Microsoft.Batch/batchAccounts/b")
  t.match(u, "api%-version=2026%-08%-01")
  t.ok(u:find(E.subscription, 1, true), "subscription filled in")
  local g = arm:put("/subscriptions/{sub}/resourcegroups/azlua-raw", { location = loc })
  t.eq(g.location, loc)
  t.eq(arm:head("/subscriptions/{sub}/resourcegroups/azlua-raw"), true)
  arm:delete("/subscriptions/{sub}/resourcegroups/azlua-raw", { wait = false })
end)

t.test("storage: provider registered automatically, check_name reason, LRO create, keys, delete", function()
  arm:resource_groups():create("azlua-st", { location = loc })
  local before = arm:provider("Microsoft.Storage")
  local sa = arm:storage_accounts("azlua-st")
  t.eq(sa:check_name("azluast1"), true)
  local acct = sa:create("azluast1", { location = loc })
  t.eq(acct.name, "azluast1")
  t.eq(acct.properties.provisioningState, "Succeeded")
  t.eq(arm:provider("Microsoft.Storage").registrationState, "Registered")
  if before.registrationState ~= "Registered" then print("  (provider was " .. before.registrationState .. ", registered on demand)") end
  local e = t.raises(function() sa:check_name("azluast1") end)
  t.eq(e.code, "AlreadyExists")
  t.match(tostring(e), "already taken")
  local keys = sa:keys("azluast1")
  t.eq(#keys, 2)
  t.ok(#sa:key("azluast1") > 20)
  t.eq(sa:get("azluast1").kind, "StorageV2")
  t.eq(sa:exists("azluast1"), true)
  if E.blob then
    local bc = arm:blob_containers("azlua-st", "azluast1")
    t.eq(bc:create("results").name, "results")
    t.eq(bc:get("results").name, "results")
    bc:delete("results")
  end
  sa:delete("azluast1")
  t.eq(sa:exists("azluast1"), false)
end)

t.test("Batch account with autoStorage: create (LRO), get, keys, endpoint, delete", function()
  arm:resource_groups():create("azlua-ba", { location = loc })
  local st = arm:storage_accounts("azlua-ba"):create("azluabast", { location = loc })
  local ba = arm:batch_accounts("azlua-ba")
  t.eq(ba:check_name("azluaba1", loc), true)
  local a = ba:create("azluaba1", { location = loc, storage_account_id = st.id })
  t.eq(a.properties.provisioningState, "Succeeded")
  t.eq(a.properties.autoStorage.storageAccountId, st.id)
  local k = ba:keys("azluaba1")
  t.ok(k.primary and k.secondary)
  t.match(ba:endpoint("azluaba1"), "^http://127%.0%.0%.1:%d+/batch/azluaba1$")
  ba:delete("azluaba1")
  t.raises(function() ba:get("azluaba1") end, "404")
end)

t.test("paging: 1,500 items over 15 pages, lazily", function()
  local p = arm.pipeline
  local reqs = {}
  for i = 1, 1500 do
    reqs[i] = { method = "PUT", url = arm:url("/subscriptions/{sub}/resourcegroups/azlua-page-" .. i), json = { location = loc } }
  end
  local out = p:send_many(reqs, { concurrency = 16 })
  for i = 1, #out do t.ok(not errors.is(out[i]), tostring(out[i])) end
  local pages, n = 0, 0
  for page in arm:pages("/subscriptions/{sub}/resourcegroups") do
    pages = pages + 1
    n = n + #page.value
  end
  t.ok(n >= 1500, "all items: " .. n)
  t.ok(pages >= 15, "pages: " .. pages)
  -- lazy: taking 3 items costs one request
  local calls = 0
  local hook_arm = armmod.client{ credential = cred, cloud = emu.cloud, subscription = E.subscription }
  local send = hook_arm.pipeline.send
  hook_arm.pipeline.send = function(self, r) calls = calls + 1; return send(self, r) end
  local it = hook_arm:list("/subscriptions/{sub}/resourcegroups")
  it(); it(); it()
  t.eq(calls, 1)
end)

t.test("throttling: 429/503 with Retry-After and resets are retried to success", function()
  local st = emu.admin("POST", "/faults", { spec = "429=0.25,503=0.15,reset_before=0.05,retry_after=1,seed=11,only=arm" })
  t.eq(st, 200)
  local ok_count = 0
  local t0 = time.monotonic()
  for i = 1, 12 do
    local g = arm:resource_groups():get("azlua-page-" .. i)
    if g then ok_count = ok_count + 1 end
  end
  emu.admin("DELETE", "/faults")
  t.eq(ok_count, 12)
  t.ok(time.monotonic() - t0 >= 1, "waited for Retry-After")
end)

t.test("a lost response to a PUT is replayed (idempotent)", function()
  emu.admin("POST", "/faults", { next = { "reset_after" }, match = "azlua%-replay" })
  local g = arm:resource_groups():create("azlua-replay", { location = loc })
  t.eq(g.name, "azlua-replay")
end)

-- Azure-AsyncOperation: the emulator only uses Location, so this path runs on a scripted transport.
t.test("LRO via Azure-AsyncOperation, then GET of the resource; Failed raises the operation's error", function()
  local script, calls = {}, {}
  local tr = {}
  function tr.request(req)
    calls[#calls + 1] = req.method .. " " .. req.url:gsub("%?.*", "")
    local a = table.remove(script, 1)
    return { status = a[1], headers = a[2] or {}, body = a[3] or "" }
  end
  local fake_cred = { token = function() return "tok", os.time() + 3600 end }
  local c = armmod.client{ credential = fake_cred, cloud = "AzureCloud", subscription = "s1", transport = tr,
                           sleep = function() end, poll_interval = 0 }
  local op = "https://management.azure.com/subscriptions/s1/providers/X/operations/1?api-version=1"
  script = {
    { 201, { ["azure-asyncoperation"] = op }, '{"properties":{"provisioningState":"Creating"}}' },
    { 200, {}, '{"status":"InProgress"}' },
    { 200, {}, '{"status":"Succeeded"}' },
    { 200, {}, '{"name":"thing","properties":{"provisioningState":"Succeeded"}}' },
  }
  local body = c:put("/subscriptions/{sub}/resourceGroups/r/providers/X/things/thing", { location = "x" })
  t.eq(body.name, "thing")
  t.eq(#calls, 4)
  t.match(calls[4], "^GET https://management.azure.com/subscriptions/s1/resourceGroups/r/providers/X/things/thing$")
  script = {
    { 202, { ["azure-asyncoperation"] = op } },
    { 200, {}, '{"status":"Failed","error":{"code":"QuotaExceeded","message":"Not enough cores."}}' },
  }
  local e = t.raises(function() c:put("/subscriptions/{sub}/resourceGroups/r/providers/X/things/t2", {}) end)
  t.eq(e.code, "QuotaExceeded")
  t.match(tostring(e), "Not enough cores")
  -- provisioningState polling without headers
  script = {
    { 200, {}, '{"properties":{"provisioningState":"Updating"}}' },
    { 200, {}, '{"properties":{"provisioningState":"Succeeded"},"name":"t3"}' },
  }
  t.eq(c:put("/subscriptions/{sub}/resourceGroups/r/providers/X/things/t3", {}).name, "t3")
  -- timeout
  script = {}
  for _ = 1, 50 do script[#script + 1] = { 202, { location = op } } end
  local c2 = armmod.client{ credential = fake_cred, subscription = "s1", transport = tr, poll_interval = 0,
                            sleep = function() end, lro_timeout = -1 }
  e = t.raises(function() c2:delete("/subscriptions/{sub}/resourceGroups/r") end)
  t.eq(e.code, "LongRunningOperationTimeout")
end)

t.run()
