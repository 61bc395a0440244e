-- azure.complete: what Tab offers in the REPL.
local t = dofile("tests/lua/lib/testing.lua")
local c = require "azure.complete"

local function comp(line, env)
  local start = #line - #(line:match("[%w_%.:]*$"))
  return c.complete(line, start, #line, env)
end

t.test("keywords and globals", function()
  t.eq(comp("whi"), { "while" })
  t.eq(comp("x = pri"), { "print" })
  t.eq(comp("prin", { printer = 1, print = print }), { "print", "printer" })
end)

t.test("fields, nested fields, and string methods", function()
  t.eq(comp("string.fo"), { "string.format" })
  t.eq(comp("(\"x\"):up"), {}) -- an expression is not resolved: nothing is called
  local env = { s = "text", cfg = { batch = { name = "ab", url = "u" } } }
  t.eq(comp("cfg.batch.n", env), { "cfg.batch.name" })
  t.eq(comp("s:up", env), { "s:upper" })
end)

t.test("methods through __index tables, ':' offers functions only", function()
  local class = { add_pool = function() end, add_job = function() end }
  class.__index = class
  local obj = setmetatable({ endpoint = "e" }, class)
  local env = { batch = obj }
  t.eq(comp("batch:add", env), { "batch:add_job", "batch:add_pool" })
  t.eq(comp("batch:", env), { "batch:add_job", "batch:add_pool" })
  t.eq(comp("batch.end", env), { "batch.endpoint" })
end)

t.test("an __index function is never called", function()
  local called = false
  local env = { o = setmetatable({}, { __index = function() called = true end }) }
  t.eq(comp("o.x", env), {})
  t.eq(called, false)
end)

t.test("lazy submodules of azure are offered without loading them", function()
  local env = { azure = require "azure" }
  local got = comp("azure.ba", env)
  t.eq(got, { "azure.batch" })
  t.eq(package.loaded["azure.batch"], nil)
end)

t.test("module names inside require(\"...\")", function()
  local line = 'require("azure.cl'
  local got = c.complete(line, #'require("', #line)
  t.ok(#got >= 1, "some module")
  t.eq(got[1], "azure.cli")
end)

t.run()
