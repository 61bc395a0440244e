-- Blob signing: every storage vector in ../shared/vectors/signing.json (computed by the Azure SDK
-- for Python), the reference's Azurite-verified vectors, and the rules behind them.
local t = dofile("tests/lua/lib/testing.lua")
local blob = require "azure.blob"
local signing = require "azure.blob.signing"
local json = require "azure.json"

local src = os.getenv("AZLUA_SOURCE_DIR") or "."
local vectors_path = src .. "/../shared/vectors/signing.json"

local function load_vectors()
  local f = io.open(vectors_path, "rb")
  if not f then
    print("notice: " .. vectors_path .. " is absent; the shared signing vectors are skipped")
    return nil
  end
  local v = json.decode(f:read("a"))
  f:close()
  return v
end
local V = load_vectors()

local function need(section)
  if not V then t.skip("shared vectors absent (" .. vectors_path .. ")") end
  t.ok(V[section] and #V[section] > 0, "section " .. section)
  return V[section]
end

local function decode(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

-- Tokens compare as parameter → decoded value (the SDK leaves '/' raw in sig; we encode it).
local function params(q)
  local m = {}
  for k, v in q:gmatch("([^&=]+)=([^&]*)") do m[k] = decode(v) end
  return m
end

for _, section in ipairs({ "storage_sharedkey", "storage_sharedkey_emulator", "storage_sharedkey_pipeline" }) do
  t.test("vectors " .. section, function()
    for _, v in ipairs(need(section)) do
      local i = v.input
      local req = { method = i.method, url = i.url, headers = i.headers }
      t.eq(blob.string_to_sign(req, i.account), v.expected.string_to_sign, v.name .. " string to sign")
      t.eq(blob.sign(req, i.account, i.key), v.expected.authorization, v.name .. " authorization")
    end
  end)
end

t.test("vectors storage_sas", function()
  for _, v in ipairs(need("storage_sas")) do
    local i = v.input
    local o = { account = i.account_name, key = i.account_key, container = i.container_name,
      blob = i.blob_name, permissions = i.permission, start = i.start, expiry = i.expiry,
      version = i.version or "2021-12-02", resource_types = i.resource_types, services = i.services,
      ip = i.ip, protocol = i.protocol }
    local tok, sts
    if v.kind == "account" then tok, sts = signing.account_sas(o) else tok, sts = signing.sas(o) end
    t.eq(sts, v.expected.string_to_sign, v.name .. " string to sign")
    t.eq(params(tok).sig, v.expected.signature, v.name .. " signature")
    t.eq(params(tok), params(v.expected.token), v.name .. " token")
    t.ok(not tok:find("+", 1, true) and not tok:find("/", 1, true), v.name .. ": every value encoded")
    local pub = v.kind == "account" and blob.account_sas(o) or blob.sas(o)
    t.eq(pub, tok, v.name .. " public helper")
  end
end)

-- identity-arm-blob.md §3.5b: accepted by Azurite 3.37.0.
local DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
t.test("reference vectors (Azurite-verified)", function()
  local req = { method = "PUT", url = "http://127.0.0.1:10000/devstoreaccount1/c26dd8b0b05?restype=container",
    headers = { ["x-ms-date"] = "Tue, 24 Nov 2026 11:15:46 GMT", ["x-ms-version"] = "2025-11-05" } }
  t.eq(blob.sign(req, "devstoreaccount1", DEV_KEY), "SharedKey devstoreaccount1:7OiB0pZYYiR8Awnw/ZyDyjLJD6Ph1nlB/39ppBJmqR8=")
  local tok = blob.sas { account = "devstoreaccount1", key = DEV_KEY, container = "c26dd8b0b05", permissions = "racwl",
    start = "2026-11-24T11:00:46Z", expiry = "2026-11-24T12:15:46Z" }
  t.eq(params(tok).sig, "J+p7XLUbU/O+B9BskV0A5NnWwwZMmeGLhWbpuotJsgE=")
  t.match(tok, "sig=J%%2Bp7XLUbU%%2FO%%2BB9BskV0A5NnWwwZMmeGLhWbpuotJsgE%%3D")
  local _, sts = signing.account_sas { account = "devstoreaccount1", key = DEV_KEY, permissions = "rl",
    resource_types = "sco", expiry = "2030-01-01T00:00:00Z" }
  t.eq(sts, "devstoreaccount1\nrl\nb\nsco\n\n2030-01-01T00:00:00Z\n\n\n2025-11-05\n\n")
  t.eq(params(blob.account_sas { account = "devstoreaccount1", key = DEV_KEY, permissions = "rl",
    resource_types = "sco", expiry = "2030-01-01T00:00:00Z" }).sig, "hHEPXbUXdn069k7XdJ8bPv8sNyLS8PzRO/Jo+AMhinU=")
end)

t.test("canonical header order puts '-' before '_' before digits before letters", function()
  local sts = blob.string_to_sign({ method = "GET", url = "https://a.blob.core.windows.net/c",
    headers = { ["x-ms-meta-a_b"] = "1", ["x-ms-meta-a-b"] = "2", ["x-ms-meta-a1"] = "3", ["x-ms-meta-ab"] = "4",
      ["X-MS-Date"] = "  d   e  " } }, "a")
  t.match(sts, "x%-ms%-date:d e\nx%-ms%-meta%-a%-b:2\nx%-ms%-meta%-a_b:1\nx%-ms%-meta%-a1:3\nx%-ms%-meta%-ab:4\n/a/c$")
end)

t.test("repeated query names: values sorted and joined; '+' is a space", function()
  local sts = blob.string_to_sign({ method = "GET", url = "https://a.blob.core.windows.net/c?B=2&b=1&p=a+b%2Bc" }, "a")
  t.match(sts, "/a/c\nb:1,2\np:a b%+c$")
end)

t.test("content-length from the body when no header is given; zero signs empty", function()
  local sts = blob.string_to_sign({ method = "PUT", url = "https://a.blob.core.windows.net/c/x", body = "hello" }, "a")
  t.match(sts, "^PUT\n\n\n5\n")
  sts = blob.string_to_sign({ method = "PUT", url = "https://a.blob.core.windows.net/c/x",
    body = { file = "/dev/null", offset = 0, length = 1234 } }, "a")
  t.match(sts, "^PUT\n\n\n1234\n")
  sts = blob.string_to_sign({ method = "PUT", url = "https://a.blob.core.windows.net/c/x",
    body = { file = "/dev/null", offset = 0, length = 8 * 2 ^ 20 } }, "a")
  t.match(sts, "^PUT\n\n\n8388608\n", "a float length signs as an integer")
  sts = blob.string_to_sign({ method = "PUT", url = "https://a.blob.core.windows.net/c/x", body = "" }, "a")
  t.match(sts, "^PUT\n\n\n\n")
end)

t.test("SAS: permissions reordered, bad letters refused, times from numbers, encoded", function()
  local tok, sts = signing.sas { account = "a", key = DEV_KEY, container = "c", permissions = "lwr",
    expiry = 0, start = 86400, protocol = "https,http", ip = "1.2.3.4" }
  t.eq(params(tok).sp, "rwl")
  t.eq(params(tok).se, "1970-01-01T00:00:00Z")
  t.eq(params(tok).st, "1970-01-02T00:00:00Z")
  t.eq(params(tok).spr, "https,http")
  t.match(sts, "^rwl\n1970%-01%-02T00:00:00Z\n1970%-01%-01T00:00:00Z\n/blob/a/c\n\n1%.2%.3%.4\nhttps,http\n2025%-11%-05\nc\n\n\n\n\n\n\n$")
  t.raises(function() blob.sas { account = "a", key = DEV_KEY, container = "c", permissions = "rq", expiry = 0 } end,
    "permission")
  t.raises(function() blob.sas { account = "a", key = DEV_KEY, container = "c", permissions = "r" } end, "expiry")
end)

t.test("SAS: blob name unencoded in the resource, older layouts", function()
  local _, sts = signing.sas { account = "a", key = DEV_KEY, container = "c", blob = "d/a b+%.txt",
    permissions = "r", expiry = "2030-01-01T00:00:00Z" }
  t.match(sts, "\n/blob/a/c/d/a b%+%%%.txt\n", "raw name")
  local _, old = signing.sas { account = "a", key = DEV_KEY, container = "c", permissions = "r",
    expiry = "x", version = "2019-02-02" }
  local n = select(2, old:gsub("\n", "")) + 1
  t.eq(n, 15, "2018-11-09 layout has 15 fields")
  local _, older = signing.sas { account = "a", key = DEV_KEY, container = "c", permissions = "r",
    expiry = "x", version = "2017-11-09" }
  t.eq(select(2, older:gsub("\n", "")) + 1, 13, "2015-04-05 layout has 13 fields")
end)

t.test("user delegation SAS layout", function()
  local key = { signed_oid = "oid", signed_tid = "tid", signed_start = "s", signed_expiry = "e", signed_service = "b",
    signed_version = "2025-11-05", value = DEV_KEY }
  local tok, sts = signing.sas { account = "a", container = "c", permissions = "r", expiry = "E", delegation_key = key }
  t.eq(sts, "r\n\nE\n/blob/a/c\noid\ntid\ns\ne\nb\n2025-11-05\n\n\n\n\n\n\n\n2025-11-05\nc\n\n\n\n\n\n\n")
  local p = params(tok)
  t.eq(p.skoid, "oid"); t.eq(p.sks, "b"); t.eq(p.skv, "2025-11-05")
  t.eq(blob.user_delegation_sas({ account = "a", container = "c", permissions = "r", expiry = "E" }, key), tok)
end)

t.test("connection strings", function()
  local c = blob.parse_connection_string("UseDevelopmentStorage=true")
  t.eq(c.account, "devstoreaccount1"); t.eq(c.endpoint, "http://127.0.0.1:10000/devstoreaccount1")
  c = blob.parse_connection_string("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" .. DEV_KEY ..
    ";EndpointSuffix=core.chinacloudapi.cn")
  t.eq(c.endpoint, "https://acct.blob.core.chinacloudapi.cn"); t.eq(c.key, DEV_KEY)
  c = blob.parse_connection_string("BlobEndpoint=http://127.0.0.1:1/devstoreaccount1/;SharedAccessSignature=sv=1&sig=a%3D")
  t.eq(c.endpoint, "http://127.0.0.1:1/devstoreaccount1"); t.eq(c.sas, "sv=1&sig=a%3D")
end)

t.test("clients from URLs: path style and host style, names encoded once", function()
  local b = blob.blob { url = "http://127.0.0.1:9/devstoreaccount1/cont/dir/a%20b.txt?sv=x&sig=y" }
  t.eq(b.name, "dir/a b.txt"); t.eq(b.container.name, "cont")
  t.eq(b.url, "http://127.0.0.1:9/devstoreaccount1/cont/dir/a%20b.txt")
  t.eq(b:_url(), "http://127.0.0.1:9/devstoreaccount1/cont/dir/a%20b.txt?sv=x&sig=y")
  local c = blob.container { url = "https://acct.blob.core.windows.net/cont", key = DEV_KEY }
  t.eq(c.ctx.account, "acct")
  t.eq(c:blob("ü +%/x").url, "https://acct.blob.core.windows.net/cont/%C3%BC%20%2B%25/x")
  local svc = blob.service { connection_string = "UseDevelopmentStorage=true" }
  t.eq(svc.url, "http://127.0.0.1:10000/devstoreaccount1")
  t.eq(svc:container("c").url, "http://127.0.0.1:10000/devstoreaccount1/c")
end)

t.run()
