-- The REPL session: lazy clients from config files, the banner, lasterror, ?name rewriting,
-- and resource-name completion (on a fake transport: nothing here talks to a network).
local t = dofile("tests/lua/lib/testing.lua")
local env = require "azure.repl.env"
local repl = require "azure.repl"
local json = require "azure.core.json"

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))
local function write(name, text)
  local f = assert(io.open(dir .. "/" .. name, "w"))
  f:write(text)
  f:close()
end
env.CONFIG, env.RESOURCES = dir .. "/config.lua", dir .. "/config_resources.lua"

t.test("no config: the banner says what is missing and how to change it", function()
  env.reset()
  local b = env.banner()
  t.match(b, "^cloud ")
  t.match(b, "no Batch account")
  t.match(b, "AZURE_CLOUD")
  local g = env.install(setmetatable({}, { __index = _G }))
  local e = t.raises(function() return g.batch end)
  t.match(tostring(e), "^batch: no Batch account: run scripts/create_resource%.lua")
  t.eq(rawget(g, "batch"), nil, "a failed build leaves the global unset")
  t.eq(g.print, print, "other globals still resolve")
end)

t.test("config files: banner names subscription and Batch account; clients built on first use only", function()
  write("config.lua", 'subs = "11111111-2222-3333-4444-555555555555"\n' ..
    'sp = { appId = "c", password = "s", tenant = "t" }\n')
  write("config_resources.lua", 'batch = { name = "mybatch", key = "a2V5", url = "https://mybatch.eastus.batch.azure.com" }\n' ..
    'blob_container = { url = "https://acct.blob.core.windows.net/results", sas_token = "sv=1&sig=x" }\n')
  env.reset()
  local b = env.banner()
  t.match(b, "subscription 11111111… %(" .. dir:gsub("%p", "%%%0") .. "/config%.lua%)")
  t.match(b, "Batch mybatch %(")
  local g = env.install({})
  t.eq(rawget(g, "batch"), nil)
  local batch = g.batch
  t.eq(getmetatable(batch), require("azure.batch").Client)
  t.eq(batch.account, "mybatch")
  t.eq(rawget(g, "batch"), batch, "built once")
  t.eq(getmetatable(g.blob), require("azure.blob.container").Container)
  t.eq(g.blob.name, "results")
  t.eq(getmetatable(g.cred), require("azure.identity").Credential)
  t.eq(g.arm.subscription, "11111111-2222-3333-4444-555555555555")
end)

t.test("a broken config file shows in the banner and in the error", function()
  write("config_resources.lua", "batch = {")
  env.reset()
  t.match(env.banner(), "config_resources%.lua")
  local g = env.install({})
  t.raises(function() return g.batch end, "config_resources%.lua")
  os.remove(dir .. "/config_resources.lua")
  os.remove(dir .. "/config.lua")
  env.reset()
end)

t.test("lasterror keeps the whole error object; the host gets it back to print", function()
  local errors = require "azure.errors"
  local obj = errors.new{ service = "batch", status = 404, code = "PoolNotFound", message = "The specified pool does not exist.",
    request_id = "r1", details = { { key = "k", value = "v" } } }
  local ok, e = pcall(repl.call, function() error(obj, 0) end)
  t.eq(ok, false)
  t.eq(e, obj)
  t.eq(rawget(_G, "lasterror"), obj)
  t.eq(tostring(e), "Batch 404 PoolNotFound: The specified pool does not exist. (request id r1)")
  t.match(rawget(_G, "lasterror_traceback"), "traceback")
  t.eq(table.pack(repl.call(function() return 1, nil, 3 end)).n, 3, "results pass through, nils too")
  local plain = { code = "X" }
  local _, msg = pcall(repl.call, function() error(plain) end)
  t.eq(msg, 'error object {"code":"X"} (whole in lasterror)')
  t.eq(rawget(_G, "lasterror"), plain)
end)

t.test("?name becomes help(\"name\")", function()
  t.eq(repl.rewrite("?batch.add_pool"), 'return help("batch.add_pool")')
  t.eq(repl.rewrite("  ? batch:add_pool "), 'return help("batch:add_pool")')
  t.eq(repl.rewrite("x = 1"), nil)
  t.eq(repl.rewrite("?"), "return help()")
end)

t.test("pool and job ids complete for a built client; never for one not built", function()
  local names = require "azure.repl.names"
  local complete = require "azure.complete"
  names.install()
  local requests = {}
  local transport = { request = function(req)
    requests[#requests + 1] = req
    local body = req.url:find("/pools", 1, true) and { value = { { id = "mpi-pool" }, { id = "other" } } }
      or req.url:find("/tasks", 1, true) and { value = { { id = "t-1" }, { id = "t-2" } } }
      or { value = { { id = "job-1" } } }
    return { status = 200, headers = {}, body = json.encode(body) }
  end }
  local function comp(line, g)
    local start = #line - #(line:match("[%w_%-]*$"))
    return complete.complete(line, start, #line, g)
  end
  local g = env.install({})
  t.eq(comp('batch:get_pool("', g), {})
  t.eq(#requests, 0, "an unbuilt batch is not built by Tab")
  g.batch = require("azure.batch").client{ endpoint = "http://127.0.0.1:1/batch/a", account = "a", key = "a2V5",
    transport = transport }
  t.eq(comp('batch:get_pool("', g), { "mpi-pool", "other" })
  t.eq(comp('batch:delete_pool("mp', g), { "mpi-pool" })
  t.eq(#requests, 1, "cached until the next line runs")
  t.match(requests[1].url, "%$select=id")
  t.eq(requests[1].timeout, names.TIMEOUT)
  t.eq(comp('batch:wait_tasks("', g), { "job-1" })
  t.eq(comp('batch:get_task("job-1", "t', g), { "t-1", "t-2" })
  repl.call(function() end)
  comp('batch:get_pool("', g)
  t.eq(#requests, 4, "a new line asks again")
  -- a failing service: nothing offered, and the failure is cached (no second 2 s wait)
  g.bad = require("azure.batch").client{ endpoint = "http://127.0.0.1:1/batch/b", account = "b", key = "a2V5",
    transport = { request = function() requests[#requests + 1] = true; return nil, { kind = "timeout", message = "t" } end } }
  t.eq(comp('bad:get_pool("', g), {})
  t.eq(comp('bad:get_pool("', g), {})
  t.eq(#requests, 5)
end)

t.test("Tab completes methods of a lazy global before it is built", function()
  local complete = require "azure.complete"
  local g = env.install({})
  local got = complete.complete("batch:add_p", 0, #"batch:add_p", g)
  t.eq(got, { "batch:add_pool" })
  t.eq(rawget(g, "batch"), nil)
  local names = complete.complete("bat", 0, 3, g)
  t.eq(names, { "batch" })
end)

t.run()
