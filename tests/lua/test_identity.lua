-- Every credential type against the emulator's sign-in endpoints: client secret, certificate,
-- environment, workload identity, managed identity (IMDS and App Service), Azure CLI (a fake az on
-- PATH), the default chain; tokens are used against ARM to prove they work.
local t = dofile("tests/lua/lib/testing.lua")
local emu = dofile("tests/lua/lib/emulator.lua").start{}
local E = emu.endpoints
local identity = require "azure.identity"
local errors = require "azure.errors"
local json = require "azure.core.json"
local ARM = "https://management.azure.com/.default"

-- A token is good when ARM accepts it.
local function arm_accepts(cred)
  local arm = require("azure.arm").client{ credential = cred, cloud = emu.cloud, subscription = E.subscription }
  local n = 0
  for _ in arm:resource_groups():list() do n = n + 1 end
  return true
end

t.test("client secret: token, expiry, cache", function()
  local c = identity.client_secret{ tenant = E.tenant, client_id = E.client_id, secret = E.client_secret, cloud = emu.cloud }
  local tok, exp = c:token(ARM)
  t.match(tok, "^eyJ")
  t.ok(exp > os.time() + 600, "expiry in the future")
  local tok2 = c:token(ARM)
  t.eq(tok2, tok, "cached")
  t.ok(arm_accepts(c))
  t.ok(not tostring(c):find(E.client_secret, 1, true), "secret not shown")
end)

t.test("refreshed 5 minutes before expiry", function()
  local c = identity.client_secret{ tenant = E.tenant, client_id = E.client_id, secret = E.client_secret, cloud = emu.cloud }
  local tok = c:token(ARM)
  c._cache[ARM].expires_on = os.time() + 200 -- inside the refresh window
  local tok2, exp2 = c:token(ARM)
  t.ok(tok2 ~= tok, "a new token")
  t.ok(exp2 > os.time() + 600)
end)

t.test("wrong secret: one actionable line, secret not shown", function()
  local c = identity.client_secret{ tenant = E.tenant, client_id = E.client_id, secret = "hunter2-wrong", cloud = emu.cloud }
  local e = t.raises(function() c:token(ARM) end)
  t.ok(errors.is(e, "invalid_client"), tostring(e))
  t.match(tostring(e), "^Sign%-in 401 invalid_client: AADSTS7000215")
  t.ok(not tostring(e):find("hunter2", 1, true))
end)

t.test("from_sp accepts the seed's sp table and create-for-rbac JSON", function()
  local c = identity.from_sp({ appId = E.client_id, password = E.client_secret, tenant = E.tenant }, { cloud = emu.cloud })
  t.match((c:token(ARM)), "^eyJ")
  c = identity.from_sp(json.encode{ appId = E.client_id, password = E.client_secret, tenant = E.tenant, displayName = "x" },
    { cloud = emu.cloud })
  t.match((c:token(ARM)), "^eyJ")
  t.raises(function() identity.from_sp{ appId = "a" } end, "missing tenant")
end)

t.test("client certificate (RS256 assertion with x5t)", function()
  t.ok(E.client_certificate_path, "emulator has a client certificate")
  local c = identity.client_certificate{ tenant = E.tenant, client_id = E.client_id,
    certificate_path = E.client_certificate_path, cloud = emu.cloud }
  t.match((c:token(ARM)), "^eyJ")
  t.ok(arm_accepts(c))
end)

t.test("environment: secret, certificate, unavailable", function()
  local c = identity.environment{ cloud = emu.cloud, env = { AZURE_TENANT_ID = E.tenant, AZURE_CLIENT_ID = E.client_id,
    AZURE_CLIENT_SECRET = E.client_secret } }
  t.match((c:token(ARM)), "^eyJ")
  c = identity.environment{ cloud = emu.cloud, env = { AZURE_TENANT_ID = E.tenant, AZURE_CLIENT_ID = E.client_id,
    AZURE_CLIENT_CERTIFICATE_PATH = E.client_certificate_path } }
  t.match((c:token(ARM)), "^eyJ")
  local e = t.raises(function() identity.environment{ env = {} } end, "AZURE_TENANT_ID")
  t.ok(e.unavailable)
end)

t.test("workload identity reads the federated token file each time", function()
  local f = io.open(E.client_certificate_path, "rb"); local pem = f:read("a"); f:close()
  local key = pem:match("%-%-%-%-%-BEGIN [%u ]*PRIVATE KEY%-%-%-%-%-.-%-%-%-%-%-END [%u ]*PRIVATE KEY%-%-%-%-%-")
  local cert = pem:match("%-%-%-%-%-BEGIN CERTIFICATE%-%-%-%-%-.-%-%-%-%-%-END CERTIFICATE%-%-%-%-%-")
  local endpoint = E.token_endpoint
  local path = os.tmpname()
  local function write_assertion()
    local w = io.open(path, "wb")
    w:write(identity.client_assertion(key, identity.x5t(cert), E.client_id, endpoint), "\n")
    w:close()
  end
  write_assertion()
  local c = identity.workload_identity{ cloud = emu.cloud, env = { AZURE_TENANT_ID = E.tenant,
    AZURE_CLIENT_ID = E.client_id, AZURE_FEDERATED_TOKEN_FILE = path } }
  t.match((c:token(ARM)), "^eyJ")
  write_assertion() -- a rotated file (jti used once)
  t.match((c:token("https://storage.azure.com/.default")), "^eyJ")
  os.remove(path)
  t.ok(t.raises(function() identity.workload_identity{ env = {} } end).unavailable)
end)

t.test("managed identity through the emulator's IMDS endpoint", function()
  local c = identity.managed_identity{ env = { AZURE_POD_IDENTITY_AUTHORITY_HOST = E.imds_endpoint }, probe = true }
  local tok, exp = c:token(ARM)
  t.match(tok, "^eyJ")
  t.ok(exp > os.time())
  t.ok(arm_accepts(c))
  -- a user-assigned identity by client id
  c = identity.managed_identity{ client_id = E.user_identity_client_id, imds_host = E.imds_endpoint }
  t.match((c:token(ARM)), "^eyJ")
  -- an identity that is not assigned: unavailable, not retried forever
  c = identity.managed_identity{ client_id = "00000000-0000-0000-0000-000000000000", imds_host = E.imds_endpoint }
  local e = t.raises(function() c:token(ARM) end)
  t.ok(e.unavailable, tostring(e))
end)

t.test("managed identity: no IMDS there → unavailable quickly", function()
  local t0 = require("azure.core.time").monotonic()
  local c = identity.managed_identity{ imds_host = "http://127.0.0.1:9", probe = true }
  local e = t.raises(function() c:token(ARM) end)
  t.ok(e.unavailable, tostring(e))
  t.ok(require("azure.core.time").monotonic() - t0 < 5, "probe is short")
end)

t.test("managed identity: App Service endpoint and header", function()
  local c = identity.managed_identity{ env = { IDENTITY_ENDPOINT = E.identity_endpoint, IDENTITY_HEADER = E.identity_header } }
  t.match((c:token(ARM)), "^eyJ")
  t.ok(arm_accepts(c))
end)

-- A fake `az` on PATH: prints what `az account get-access-token` prints, from a token the emulator mints.
local function fake_az(dir, body, status)
  os.execute("mkdir -p '" .. dir .. "'")
  local f = io.open(dir .. "/az", "wb")
  f:write("#!/bin/sh\n")
  f:write("echo \"$@\" > '" .. dir .. "/args'\n")
  if status and status ~= 0 then
    f:write("echo 'ERROR: Please run az login to setup account.' >&2\nexit " .. status .. "\n")
  else
    f:write("cat <<'JSON'\n" .. body .. "\nJSON\n")
  end
  f:close()
  os.execute("chmod +x '" .. dir .. "/az'")
end

t.test("Azure CLI credential through a fake az (no shell, token not logged)", function()
  local _, minted = emu.admin("POST", "/token", { audience = "https://management.azure.com/" })
  local dir = os.tmpname() .. "-az"
  fake_az(dir, json.encode{ accessToken = minted.access_token, expiresOn = "2099-01-01 00:00:00.000000",
    expires_on = minted.expires_on, subscription = E.subscription, tenant = E.tenant, tokenType = "Bearer" })
  local c = identity.azure_cli{ az = dir .. "/az" }
  local tok, exp = c:token(ARM)
  t.eq(tok, minted.access_token)
  t.eq(exp, minted.expires_on)
  local f = io.open(dir .. "/args"); local args = f:read("a"); f:close()
  t.match(args, "account get%-access%-token %-%-output json %-%-resource https://management.azure.com\n")
  t.ok(arm_accepts(c))
  -- not logged in → unavailable with the hint
  fake_az(dir, "", 1)
  local e = t.raises(function() identity.azure_cli{ az = dir .. "/az" }:token(ARM) end, "az login")
  t.ok(e.unavailable)
  -- not installed
  e = t.raises(function() identity.azure_cli{ az = dir .. "/no-such-az" }:token(ARM) end)
  t.ok(e.unavailable, tostring(e))
  os.execute("rm -rf '" .. dir .. "'")
end)

t.test("default chain: environment first; none → a list of what each said", function()
  local c = identity.default{ cloud = emu.cloud, env = { AZURE_TENANT_ID = E.tenant, AZURE_CLIENT_ID = E.client_id,
    AZURE_CLIENT_SECRET = E.client_secret } }
  t.match((c:token(ARM)), "^eyJ")
  t.eq(c.chosen.name, "EnvironmentCredential")
  -- MI via the emulator's IMDS when nothing else is set
  c = identity.default{ cloud = emu.cloud, env = { AZURE_POD_IDENTITY_AUTHORITY_HOST = E.imds_endpoint } }
  t.match((c:token(ARM)), "^eyJ")
  t.eq(c.chosen.name, "ManagedIdentityCredential")
  -- nothing works
  c = identity.default{ cloud = emu.cloud, env = { AZURE_POD_IDENTITY_AUTHORITY_HOST = "http://127.0.0.1:9" },
    az = "/nonexistent/az" }
  local e = t.raises(function() c:token(ARM) end)
  local s = tostring(e)
  t.match(s, "EnvironmentCredential")
  t.match(s, "WorkloadIdentityCredential")
  t.match(s, "ManagedIdentityCredential")
  t.match(s, "AzureCliCredential")
  -- a configured credential that fails stops the chain with its own error
  c = identity.default{ cloud = emu.cloud, env = { AZURE_TENANT_ID = E.tenant, AZURE_CLIENT_ID = E.client_id,
    AZURE_CLIENT_SECRET = "wrong" } }
  e = t.raises(function() c:token(ARM) end)
  t.eq(e.code, "invalid_client")
end)

t.run()
