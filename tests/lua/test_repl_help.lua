-- Help in place (azure.help) and the LuaCATS stubs in types/, both from azure.docs.
local t = dofile("tests/lua/lib/testing.lua")
local help = require "azure.help"
local docs = require "azure.docs"

t.test("?name and help(value) give the signature and a line", function()
  t.match(help.text("batch.add_pool"), "^batch:add_pool%(body: table%) → table\n  Adds a pool")
  t.match(help.text("batch:wait_tasks"), "^batch:wait_tasks%(job: string, opts%?: ")
  t.match(help.text("azure.batch.client"), "^azure%.batch%.client%(opts: {endpoint: string")
  t.match(help.text(require("azure.batch").Client.get_pool), "^batch:get_pool%(id: string")
  t.match(help.text(require("azure.output").format), "^azure%.output%.format%(")
end)

t.test("help(class or module) lists its methods; naming a lazy global never builds it", function()
  local env = require "azure.repl.env"
  local g = setmetatable({}, { __index = _G })
  env.install(g)
  local s = help.text("batch")
  t.match(s, "^azure%.batch%.Client  %(the REPL's `batch`%)")
  t.match(s, "\n  :add_pool%(body%)%s+Adds a pool")
  t.eq(rawget(g, "batch"), nil)
  t.match(help.text("azure.output"), "azure%.output%(value, fmt%?, opts%?%)")
  t.match(help.text(require("azure.arm")), "\n  %.client%(opts%?%)")
end)

t.test("what is not documented says what Lua knows", function()
  t.match(help.text(require("azure.cli").parser), "^function%(opts%)  defined at .*cli%.lua:%d+")
  t.match(help.text(print), "built%-in")
  t.match(help.text("no.such"), "^no help for 'no%.such'")
  t.match(help.text(), "^azlua REPL")
end)

t.test("every documented function exists, and every public Batch method is documented", function()
  for _, e in ipairs(docs.entries()) do
    local mod = require(e.module)
    local owner = e.class and mod[e.field] or mod
    t.ok(type(owner) == "table", (e.class or e.module) .. " exists")
    for _, f in ipairs(e.methods or e.functions or {}) do
      t.ok(type(owner[f[1]]) == "function", (e.class or e.module) .. "." .. f[1] .. " is a function")
    end
  end
  local documented = {}
  for _, e in ipairs(docs.entries()) do
    if e.class == "azure.batch.Client" then for _, m in ipairs(e.methods) do documented[m[1]] = true end end
  end
  for name, v in pairs(require("azure.batch").Client) do
    if type(v) == "function" and not name:match("^_") and name ~= "url" then
      t.ok(documented[name], "azure.batch.Client:" .. name .. " has help")
    end
  end
end)

t.test("params split at top-level commas only", function()
  local p = docs.params("opts: {a: string, b?: integer}, n?: integer")
  t.eq(#p, 2)
  t.eq(p[1], { name = "opts", optional = false, type = "{a: string, b?: integer}" })
  t.eq(p[2], { name = "n", optional = true, type = "integer" })
end)

t.test("types/ holds exactly what azure.docs.stubs generates (regenerate: see the stubs module)", function()
  local root = os.getenv("AZLUA_SOURCE_DIR") or "."
  for rel, text in pairs(require("azure.docs.stubs").generate()) do
    local f = io.open(root .. "/types/" .. rel, "r")
    t.ok(f, "types/" .. rel .. " exists")
    local have = f:read("a")
    f:close()
    t.ok(have == text, "types/" .. rel .. " is up to date: azlua -e 'require(\"azure.docs.stubs\").write(\"types\")'")
    t.ok(text:match("^%-%-%-@meta\n"), "a ---@meta file")
    t.ok(load(text, "=" .. rel), "valid Lua")
  end
end)

t.run()
