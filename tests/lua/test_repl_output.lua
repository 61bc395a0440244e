-- What the REPL prints: azure.repl.show (resource tables, trees, truncation, iterators),
-- azure.pretty (nested values, nulls, cycles) and the output additions (dotted columns,
-- azure.output(...) callable, iterators, -o/--output).
local t = dofile("tests/lua/lib/testing.lua")
local json = require "azure.core.json"
local output = require "azure.output"
local pretty = require "azure.pretty"
local show = require "azure.repl.show"

local function lines(s) local out = {} for l in s:gmatch("[^\n]*") do out[#out + 1] = l end return out end

local pool = {
  id = "mpi-pool", state = "active", allocationState = "steady", vmSize = "standard_d2s_v3",
  currentDedicatedNodes = 2, targetDedicatedNodes = 2, eTag = "0x8D", url = "https://x/pools/mpi-pool",
  lastModified = "2026-01-01T00:00:00Z", resizeErrors = json.null,
  virtualMachineConfiguration = { imageReference = { publisher = "canonical", sku = "22_04-lts" },
                                  nodeAgentSKUId = "batch.node.ubuntu 22.04" },
  startTask = { commandLine = "/bin/sh -c 'echo hi'", resourceFiles = { { httpUrl = "h", filePath = "f" } } },
}

t.test("pool list: the useful columns, in order, aligned", function()
  local s = show.format({ pool, { id = "p2", state = "deleting", allocationState = "resizing", vmSize = "a1",
    currentDedicatedNodes = 0 } }, { width = 120 })
  t.eq(lines(s)[1], "id        state     allocationState  vmSize           currentDedicatedNodes  targetDedicatedNodes")
  t.eq(lines(s)[3], "mpi-pool  active    steady           standard_d2s_v3  2                      2")
  t.eq(lines(s)[4], "p2        deleting  resizing         a1               0                      ")
  t.ok(not s:find("eTag"), "no eTag column")
end)

t.test("task list: nested columns (executionInfo.exitCode) headed by their last part", function()
  local tasks = json.decode('[{"id":"t1","state":"completed","commandLine":"echo 1",' ..
    '"executionInfo":{"exitCode":0,"result":"success"},"nodeInfo":{"nodeId":"n1"}},' ..
    '{"id":"t2","state":"active","commandLine":"echo 2","executionInfo":null}]')
  local s = show.format(tasks, { width = 120 })
  t.eq(lines(s)[1], "id  state      exitCode  result   nodeId  commandLine")
  t.eq(lines(s)[3], "t1  completed  0         success  n1      echo 1")
  t.eq(lines(s)[4], "t2  active                                echo 2")
end)

t.test("wide columns are cut to the terminal width", function()
  local rows = {}
  for i = 1, 3 do rows[i] = { id = "job-" .. i, state = "active", poolInfo = { poolId = string.rep("p", 90) },
    creationTime = "2026-01-01T00:00:00Z" } end
  local s = show.format(rows, { width = 60 })
  for _, l in ipairs(lines(s)) do t.ok(utf8.len(l) <= 60, "fits: " .. l) end
  t.match(s, "p…")
end)

t.test("long lists: first 50 rows and a count of the rest", function()
  local rows = {}
  for i = 1, 1000 do rows[i] = { id = ("task-%04d"):format(i), state = "active", commandLine = "x" } end
  local s = show.format(rows, { width = 100 })
  local ls = lines(s)
  t.eq(ls[2 + 50], "task-0050  active  x")
  t.eq(ls[2 + 51], "… 950 more (all 1000 in _)")
end)

t.test("an iterator from a list call is collected and shown; a plain function is not called", function()
  -- a zero-argument closure made inside an azure module, as batch:pools() returns
  local list = { { id = "a", state = "active", vmSize = "v", allocationState = "steady" } }
  local called = false
  local function user_fn() called = true end
  t.eq(show.is_iterator(user_fn), false)
  t.eq(show.is_iterator(require("azure.progress").clear), false, "a module function is never called")
  t.eq(show.is_iterator(print), false)
  -- azure.batch's lazy list, on a fake transport
  local batch = require "azure.batch"
  local b = batch.client{ endpoint = "http://127.0.0.1:1/batch/acct", account = "acct", key = "a2V5",
    transport = { request = function() return { status = 200, headers = {}, body = json.encode({ value = list }) } end } }
  local iter = b:pools()
  t.eq(show.is_iterator(iter), true)
  local got, complete = show.collect(iter, 10)
  t.eq(#got, 1); t.eq(complete, true)
  t.eq(called, false)
  local many = 0
  local function gen() many = many + 1; return many end
  local part, done = show.collect(gen, 5)
  t.eq(#part, 5); t.eq(done, false)
  local s = show.format(part, { complete = false })
  t.match(s, "^%{\n  1,\n")
end)

t.test("one resource prints as an indented tree, identity first, nulls as null", function()
  local s = show.format(pool)
  local ls = lines(s)
  t.eq(ls[1], "id: mpi-pool")
  t.eq(ls[2], "state: active")
  t.match(s, "\nresizeErrors: null\n")
  t.match(s, "\nvirtualMachineConfiguration:\n  imageReference:\n    publisher: canonical\n")
  t.match(s, "\n  resourceFiles:\n    %- filePath: f\n      httpUrl: h\n")
end)

t.test("pretty: nested values, nulls, empty arrays, cycles, depth", function()
  local v = { a = { b = { c = json.null } }, list = json.array({}), s = "two\nlines" }
  v.self = v
  local s = pretty.format(v)
  t.match(s, "c = null")
  t.match(s, "list = {}")
  t.match(s, "self = <cycle")
  t.match(s, '"two\\nlines"')
  t.eq(pretty.format({ { { { 1 } } } }, { depth = 2 }), "{\n  {\n    {...},\n  },\n}")
  local tree = pretty.tree({ id = "x", tags = json.array({}), n = json.null, s = "", deep = { a = { b = 1 } } })
  t.eq(tree, "id: x\ndeep:\n  a:\n    b: 1\nn: null\ns: \"\"\ntags: []")
end)

t.test("several scalar results print on one line", function()
  local path = os.tmpname()
  local f = io.open(path, "w")
  local real = io.stdout
  io.stdout = f -- show writes to io.stdout
  show.show(1, "a", json.null)
  io.stdout = real
  f:close()
  local text = io.open(path):read("a")
  os.remove(path)
  t.eq(text, '1\t"a"\tnull\n')
end)

t.test("output: callable module, dotted columns, iterators, -o/--output option", function()
  local azure = require "azure"
  t.eq(azure.output, output)
  t.ok(getmetatable(output).__call, "azure.output(...) is callable")
  t.eq(output.format({ { id = "t", executionInfo = { exitCode = 3 } } }, "tsv", { columns = { "id", "executionInfo.exitCode" } }),
    "t\t3\n")
  local items = { { id = "a" }, { id = "b" } }
  local i = 0
  local function iter() i = i + 1; return items[i] end
  t.eq(output.format(iter, "tsv"), "a\nb\n")
  local cli = require "azure.cli"
  local p = cli.parser{ prog = "x.lua" }
  output.add_option(p)
  t.eq(p:parse({ "-o", "json" }).output, "json")
  t.eq(p:parse({}).output, "table")
  t.eq(p:parse({ "--output", "tsv" }).output, "tsv")
end)

t.run()
