-- Batch Shared Key against the vectors the Azure SDK for Python computed (shared/vectors).
local t = dofile("tests/lua/lib/testing.lua")
local sign = require "azure.batch.sign"
local json = require "azure.core.json"

local root = os.getenv("AZLUA_SOURCE_DIR") or "."
local path = root .. "/../shared/vectors/signing.json"
local f = io.open(path, "rb")
if not f then
  print("notice: " .. path .. " not found; Batch signing vectors skipped")
  t.test("batch vectors", function() t.skip("shared vectors absent") end)
  t.run()
end
local vectors = json.decode(f:read("a"))
f:close()

for _, section in ipairs{ "batch_sharedkey", "batch_sharedkey_pipeline" } do
  for _, v in ipairs(vectors[section]) do
    t.test(section .. "/" .. v.name, function()
      local i = v.input
      local auth, sts = sign.sign({ method = i.method, url = i.url, headers = i.headers, body = i.body }, i.account, i.key)
      t.eq(sts, v.expected.string_to_sign)
      t.eq(auth, v.expected.authorization)
    end)
  end
end

t.test("Content-Length: empty POST signs 0, GET signs empty", function()
  local sts = sign.string_to_sign({ method = "POST", url = "https://a.b/pools/p/disableautoscale?api-version=1", headers = {} }, "a")
  t.match(sts, "^POST\n\n\n0\n")
  sts = sign.string_to_sign({ method = "GET", url = "https://a.b/pools?api-version=1&%24filter=id%20eq%20'x'", headers = {} }, "a")
  t.match(sts, "^GET\n\n\n\n")
  t.match(sts, "/a/pools\n%$filter:id eq 'x'\napi%-version:1$")
end)

t.run()
