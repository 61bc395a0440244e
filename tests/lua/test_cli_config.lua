-- azure.cli (argparse-like parsing) and azure.config (the tutorial's config files).
local t = dofile("tests/lua/lib/testing.lua")
local cli = require "azure.cli"
local config = require "azure.config"
local sys = require "azure.core.sys"

-- Captures what a parser prints and the exit code instead of exiting.
local function capture(fn)
  local real_exit, real_out, real_err = cli.exit, io.stdout, io.stderr
  local buf = { out = {}, err = {} }
  local function sink(which) return { write = function(self, ...) for _, s in ipairs({ ... }) do table.insert(buf[which], s) end return self end } end
  io.stdout, io.stderr = sink("out"), sink("err")
  cli.exit = function(code) error({ exit = code }, 0) end
  local ok, res = pcall(fn)
  cli.exit, io.stdout, io.stderr = real_exit, real_out, real_err
  local code = (not ok and type(res) == "table") and res.exit or nil
  if not ok and code == nil then error(res, 0) end
  return ok and res or nil, code, table.concat(buf.out), table.concat(buf.err)
end

local function seed_parser()
  local p = cli.parser{ prog = "create_resource.lua", description = "Creating a resource group." }
  p:option("--resource_gp_name", { metavar = "RESOURCE_GPE_NAME", default = "group-centrale-supelec", help = "Name of resource group" })
  p:option("--region_name", { metavar = "REGION_NAME", default = "centralus", help = "Location" })
  p:option("--count", { type = "integer", default = 2 })
  p:flag("--wait", { help = "wait" })
  p:option("-o", "--output", { choices = { "table", "json", "tsv" }, default = "table" })
  return p
end

t.test("defaults, values, = form, flags, prefixes", function()
  local a = seed_parser():parse({})
  t.eq(a.resource_gp_name, "group-centrale-supelec"); t.eq(a.wait, false); t.eq(a.count, 2)
  a = seed_parser():parse({ "--region_name", "westeurope", "--wait", "--count=5", "-o", "json", "--resource", "rg" })
  t.eq(a.region_name, "westeurope"); t.eq(a.wait, true); t.eq(a.count, 5); t.eq(a.output, "json")
  t.eq(a.resource_gp_name, "rg")
end)

t.test("-h prints usage with defaults and exits 0", function()
  local _, code, out = capture(function() return seed_parser():parse({ "-h" }) end)
  t.eq(code, 0)
  t.match(out, "^usage: create_resource%.lua %[%-h%] %[%-%-resource_gp_name RESOURCE_GPE_NAME%]")
  t.match(out, "Name of resource group %(default:%s+group%-centrale%-supelec%)")
end)

t.test("bad arguments: usage + 'error:' on stderr, exit 2", function()
  local _, code, _, err = capture(function() return seed_parser():parse({ "--nope" }) end)
  t.eq(code, 2); t.match(err, "create_resource%.lua: error: unrecognized arguments: %-%-nope\n$")
  _, code, _, err = capture(function() return seed_parser():parse({ "--count", "x" }) end)
  t.eq(code, 2); t.match(err, "invalid integer value: 'x'")
  _, code, _, err = capture(function() return seed_parser():parse({ "-o", "xml" }) end)
  t.eq(code, 2); t.match(err, "invalid choice: 'xml'")
  _, code, _, err = capture(function() return seed_parser():parse({ "--region_name" }) end)
  t.eq(code, 2); t.match(err, "expected one argument")
end)

local function write(path, text)
  local f = assert(io.open(path, "w")); f:write(text); f:close()
end

t.test("config.load runs the file sandboxed and returns its globals", function()
  local p = os.tmpname()
  write(p, 'subs = "11111111-2222-3333-4444-555555555555"\nsp = {appId="a", password=os.getenv("HOME") and "pw", tenant="t"}\n')
  local cfg = config.load(p)
  t.eq(cfg.subs, "11111111-2222-3333-4444-555555555555")
  t.eq(config.service_principal(cfg, "config.lua"), { client_id = "a", secret = "pw", tenant = "t" })
  t.eq(config.subscription(cfg), "11111111-2222-3333-4444-555555555555")
  write(p, 'io.open("/tmp/x", "w")')
  t.raises(function() config.load(p) end, "attempt to index a nil value %(global 'io'%)")
  write(p, 'subs = ')
  t.raises(function() config.load(p) end, "^" .. p:gsub("%p", "%%%0") .. ":1:")
  os.remove(p)
end)

t.test("config errors name the field and how to get it", function()
  t.raises(function() config.load("/nonexistent/config.lua", { missing = "config.lua not found: copy scripts/config.lua.example" }) end,
    "^config%.lua not found: copy")
  t.raises(function() config.service_principal({}) end, "'sp' is missing")
  t.raises(function() config.service_principal({ sp = { appId = "a", tenant = "t" } }) end,
    "sp%.password is missing: it is the password that 'az ad sp create%-for%-rbac' printed")
  t.raises(function() config.service_principal({ sp = { password = "p", tenant = "t" } }) end, "client_id %(or appId%)")
  t.raises(function() config.subscription({ subs = "nope" }) end, "must be a subscription id")
  -- the seed's own key names work too
  t.eq(config.service_principal({ sp = { client_id = "c", password = "p", tenant = "t", name = "n" } }),
    { client_id = "c", secret = "p", tenant = "t", name = "n" })
end)

t.test("config.write: loadable Lua, 0600, atomic", function()
  local p = os.tmpname()
  config.write(p, { resource_gpe_name = "rg", batch = { name = "ab", key = "k==", url = "https://x" },
    blob_container = { url = "u", sas_token = "sv=1&sig=a%2Fb" } }, { header = "written by test\nsecond line" })
  t.eq(sys.file_mode(p), tonumber("600", 8))
  local cfg = config.load(p)
  t.eq(cfg.batch, { name = "ab", key = "k==", url = "https://x" })
  t.eq(cfg.blob_container.sas_token, "sv=1&sig=a%2Fb")
  local f = assert(io.open(p)); t.match(f:read("a"), "^%-%- written by test\n%-%- second line\n"); f:close()
  os.remove(p)
end)

t.run()
