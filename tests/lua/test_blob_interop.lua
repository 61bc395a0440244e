-- Interop with Azure's own SDK (Debian's python3-azure-storage, azure.storage.blob): what azlua
-- uploads the SDK reads byte for byte and the reverse, in blocks on both sides; a SAS made by azlua
-- works in the SDK, and one made by the SDK works in azlua.
local t = dofile("tests/lua/lib/testing.lua")
local azurite = dofile("tests/lua/lib/azurite.lua")
local blob = require "azure.blob"
local crypto = require "azure.core.crypto"

local PY = "/usr/bin/python3"
local HELPER = (os.getenv("AZLUA_SOURCE_DIR") or ".") .. "/tests/lua/lib/pysdk_blob.py"
local MiB = 1024 * 1024

local function q(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function have_sdk()
  return os.execute(PY .. " -c 'import azure.storage.blob' 2>/dev/null") == true
end

local function py(...)
  local args = {}
  for i, a in ipairs({ ... }) do args[i] = q(a) end
  local p = io.popen(PY .. " " .. q(HELPER) .. " " .. table.concat(args, " ") .. " 2>&1")
  local out = p:read("a")
  local ok = p:close()
  if not ok then error("python SDK failed: " .. out, 2) end
  return out
end

local function sha(path) return crypto.hex(crypto.sha256_file(path)) end

local srv, c
local function setup()
  if not have_sdk() then t.skip("python3-azure-storage not installed") end
  if not srv then
    srv = azurite.start_or_skip(t)
    c = blob.service { connection_string = srv.connection_string }:container("interop")
    c:create()
  end
  return srv, c
end

local function random_file(size)
  local p = os.tmpname()
  assert(os.execute(string.format("head -c %d /dev/urandom > %s", size, p)))
  return p
end

t.test("azlua uploads (blocks and single put), the Python SDK reads byte for byte", function()
  local s = setup()
  for _, case in ipairs({ { "dir/azlua blöck ü+.bin", 5 * MiB + 123 }, { "small one.txt", 1000 }, { "empty", 0 } }) do
    local src, dst = random_file(case[2]), os.tmpname()
    c:upload(case[1], src, { block_size = MiB, concurrency = 4 })
    py("download", s.connection_string, "interop", case[1], dst)
    t.eq(sha(dst), sha(src), case[1])
    os.remove(src); os.remove(dst)
  end
end)

t.test("the Python SDK uploads in blocks, azlua reads byte for byte", function()
  local s = setup()
  local src, dst = random_file(3 * MiB + 7), os.tmpname()
  py("upload", s.connection_string, "interop", "from python/ß x.bin", src)
  c:download("from python/ß x.bin", dst, { block_size = MiB })
  t.eq(sha(dst), sha(src))
  local f = io.open(src, "rb"); local data = f:read("a"); f:close()
  t.eq(c:download_string("from python/ß x.bin"), data)
  os.remove(src); os.remove(dst)
end)

t.test("a SAS made by azlua works in the Python SDK (read, write, list)", function()
  setup()
  c:upload_string("sas/hello.txt", "hello from azlua")
  local tok = c:sas { permissions = "racwl", expiry = os.time() + 3600 }
  local dst = os.tmpname()
  py("url-get", c:blob("sas/hello.txt").url .. "?" .. tok, dst)
  local f = io.open(dst, "rb"); t.eq(f:read("a"), "hello from azlua"); f:close()
  local src = random_file(2 * MiB + 1)
  py("url-put", c:blob("sas/from py.bin").url .. "?" .. tok, src)
  t.eq(c:blob("sas/from py.bin"):properties().size, 2 * MiB + 1)
  c:download("sas/from py.bin", dst)
  t.eq(sha(dst), sha(src))
  local names = py("list", c.url .. "?" .. tok)
  t.match(names, "sas/hello%.txt")
  -- a blob SAS too
  py("url-get", c:blob("sas/hello.txt"):sas_url { permissions = "r", expiry = os.time() + 600 }, dst)
  os.remove(src); os.remove(dst)
end)

t.test("a SAS made by the Python SDK works in azlua", function()
  local s = setup()
  local tok = py("sas", s.connection_string, "interop"):gsub("%s+$", "")
  local sc = blob.container { url = c.url .. "?" .. tok }
  sc:upload_string("py-sas.txt", "via sdk sas")
  t.eq(sc:download_string("py-sas.txt"), "via sdk sas")
end)

t.run()
