-- Token credentials and user delegation SAS against Azurite in OAuth mode (https with a throwaway
-- self-signed certificate; Azurite decodes the bearer token without checking its signature, so a
-- v1-shaped token made here stands in for Entra ID's).
local t = dofile("tests/lua/lib/testing.lua")
local azurite = dofile("tests/lua/lib/azurite.lua")
local blob = require "azure.blob"
local crypto = require "azure.core.crypto"
local json = require "azure.json"

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))
local cert, key = dir .. "/cert.pem", dir .. "/key.pem"
local have_cert = os.execute(string.format("openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s -days 1 " ..
  "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1", key, cert)) == true

local srv, why
if have_cert then
  srv, why = azurite.start { args = { "--oauth", "basic", "--cert", cert, "--key", key }, cleanup = { dir } }
else
  why = "openssl could not make a certificate"
end
if not srv then print("notice: " .. why) end

local function token(claims)
  local now = os.time()
  local c = { iss = "https://sts.windows.net/tenant-1/", aud = "https://storage.azure.com", iat = now - 60,
    nbf = now - 60, exp = now + 3600, oid = "oid-1", tid = "tenant-1" }
  for k, v in pairs(claims or {}) do c[k] = v end
  return crypto.base64url_encode(json.encode { alg = "RS256", typ = "JWT" }) .. "." ..
      crypto.base64url_encode(json.encode(c)) .. ".c2ln"
end

local scopes = {}
local cred = { token = function(_, scope) scopes[#scopes + 1] = scope; return { token = token() } end }

local function service()
  if not srv then t.skip(why) end
  return blob.service { endpoint = srv.endpoint, credential = cred, ca_file = cert }
end

t.test("bearer token: create, upload, download, list", function()
  local svc = service()
  local c = svc:container("oauth")
  c:create { if_not_exists = true }
  c:upload_string("x.txt", "delegated")
  t.eq(c:download_string("x.txt"), "delegated")
  t.eq(#c:list(), 1)
  t.eq(scopes[1], "https://storage.azure.com/.default")
end)

t.test("user delegation key and SAS: accepted for the blob, refused when tampered", function()
  local svc = service()
  local c = svc:container("oauth")
  c:create { if_not_exists = true }
  c:upload_string("d/x.txt", "via delegation")
  local k = svc:user_delegation_key { expiry = os.time() + 3600 }
  t.eq(k.signed_oid, "oid-1"); t.eq(k.signed_tid, "tenant-1"); t.eq(k.signed_service, "b")
  t.ok(k.value and #k.value > 20, "key value")
  local sas = blob.user_delegation_sas({ account = srv.account, container = "oauth", blob = "d/x.txt",
    permissions = "r", expiry = os.time() + 600 }, k)
  t.match(sas, "skoid=oid%-1")
  local b = blob.blob { url = c:blob("d/x.txt").url .. "?" .. sas, ca_file = cert }
  t.eq(b:download_string(), "via delegation")
  -- the same SAS for another blob must fail: the blob name is signed
  local other = blob.blob { url = c:blob("d/y.txt").url .. "?" .. sas, ca_file = cert }
  t.raises(function() other:download_string() end, "403")
  -- a container-wide delegation SAS lists
  local csas = c:sas { permissions = "rl", expiry = os.time() + 600, delegation_key = k }
  t.eq(#blob.container { url = c.url .. "?" .. csas, ca_file = cert }:list { prefix = "d/" }, 1)
end)

t.test("a token for the wrong audience is refused with a clear error", function()
  if not srv then t.skip(why) end
  local bad = { token = function() return token { aud = "https://management.azure.com" } end }
  local c = blob.container { endpoint = srv.endpoint, credential = bad, ca_file = cert, name = "oauth" }
  local e = t.raises(function() c:list() end)
  t.eq(e.status, 403)
end)

if not srv then os.execute("rm -rf " .. dir) end
t.run()
