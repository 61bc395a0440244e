-- azure.identity: credentials. Each is an object with `cred:token(scope)` → token, expires_on
-- (epoch seconds), cached per scope and refreshed 5 minutes before expiry. Token requests go
-- through azure.pipeline (service "token"), so they retry, log and fail like every other request.
--
--   local identity = require "azure.identity"
--   identity.client_secret{tenant=, client_id=, secret=, cloud=, authority=}
--   identity.from_sp(t)          -- the seed's sp table or `az ad sp create-for-rbac` output (appId,
--                                -- password, tenant), as a table or JSON text
--   identity.client_certificate{tenant=, client_id=, certificate_path= | certificate=pem}
--   identity.environment()       -- AZURE_TENANT_ID + AZURE_CLIENT_ID + AZURE_CLIENT_SECRET | _CERTIFICATE_PATH
--   identity.workload_identity() -- AZURE_FEDERATED_TOKEN_FILE (+ AZURE_TENANT_ID, AZURE_CLIENT_ID)
--   identity.managed_identity{client_id=|object_id=|resource_id=}
--                                -- App Service (IDENTITY_ENDPOINT + IDENTITY_HEADER), else IMDS
--                                -- (AZURE_POD_IDENTITY_AUTHORITY_HOST overrides its host)
--   identity.azure_cli{tenant=}  -- `az account get-access-token`, run without a shell
--   identity.default()           -- the above in azure-identity's order; the first that works is kept
--   identity.chain{cred1, cred2, ...}
-- A credential that cannot work here (its variables are unset, no IMDS, no az) raises an error with
-- `unavailable = true`; chains skip those and stop at any other error, as azure-identity does.
local errors = require "azure.errors"
local pipeline = require "azure.pipeline"
local cloudmod = require "azure.cloud"
local url = require "azure.url"

local M = {}

local REFRESH_BEFORE = 300 -- seconds before expiry a cached token is renewed (azure-identity's offset)

local function core(name) return require("azure.core." .. name) end

-- opts.env (a table) stands in for the process environment: tests, and scripts that keep
-- settings in a config file, use it instead of exporting variables.
local function getenv(opts, k)
  if opts and opts.env then return opts.env[k] end
  return os.getenv(k)
end

local function unavailable(name, msg)
  return errors.new{ service = "identity", code = "CredentialUnavailable", message = name .. ": " .. msg,
                     unavailable = true, credential = name }
end

-- ---- the shared credential object -----------------------------------------------------------------

local Credential = {}
Credential.__index = Credential

-- fetch(self, scope) → token, expires_on. Wrapped with the per-scope cache.
local function new_credential(name, fetch, fields)
  local c = setmetatable(fields or {}, Credential)
  c.name, c._fetch, c._cache = name, fetch, {}
  return c
end

function Credential:token(scope)
  if type(scope) ~= "string" or scope == "" then error(self.name .. ":token(scope): scope (string) expected", 2) end
  local hit = self._cache[scope]
  if hit and os.time() < hit.expires_on - REFRESH_BEFORE then return hit.token, hit.expires_on end
  local ok, tok, exp = pcall(self._fetch, self, scope)
  if not ok then
    -- Keep using a token that is still valid when a refresh fails (azure-identity does the same),
    -- so one slow sign-in does not fail a long run.
    if hit and os.time() < hit.expires_on - 30 then return hit.token, hit.expires_on end
    error(tok, 0)
  end
  self._cache[scope] = { token = tok, expires_on = exp }
  return tok, exp
end

-- For pipeline.new{authorize = cred:authorizer(scope)}: a fresh bearer on every attempt.
function Credential:authorizer(scope)
  return function(req) req.headers["Authorization"] = "Bearer " .. (self:token(scope)) end
end

function Credential:__tostring() return "credential " .. self.name end

M.Credential = Credential

-- ---- token endpoint requests ------------------------------------------------------------------------

local function authority_of(opts, c)
  local a = opts.authority or getenv(opts, "AZURE_AUTHORITY_HOST") or c.authority_host
  if not a:match("^%a+://") then a = "https://" .. a end
  return (a:gsub("/+$", ""))
end

local function form(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = url.encode(k) .. "=" .. url.encode(t[k]) end
  return table.concat(parts, "&")
end

-- expires_on from an Entra/IMDS/App Service answer: expires_on wins (epoch, number or string),
-- else now + expires_in (number in v2, string in v1 and IMDS).
local function expiry(body, t0)
  local on = tonumber(body.expires_on)
  if on then return math.floor(on) end
  local inn = tonumber(body.expires_in)
  if inn then return t0 + math.floor(inn) end
  return t0 + 3600
end

local token_pipelines = {}
local function token_pipeline(ca_file)
  local key = ca_file or ""
  if not token_pipelines[key] then
    token_pipelines[key] = pipeline.new{ service = "token", timeout = 30, ca_file = ca_file,
                                         retry = { max_attempts = 4, base_delay = 0.8, max_delay = 10 } }
  end
  return token_pipelines[key]
end

local function request_token(endpoint, fields, ca_file)
  local t0 = os.time()
  local res = token_pipeline(ca_file):send{
    method = "POST", url = endpoint, body = form(fields), idempotent = true, expect = { 200 },
    headers = { ["Content-Type"] = "application/x-www-form-urlencoded", Accept = "application/json" },
  }
  local body = res.json
  if type(body) ~= "table" or type(body.access_token) ~= "string" then
    error(errors.new{ service = "token", status = res.status, code = "InvalidTokenResponse",
                      message = "the token endpoint answered without an access_token" }, 0)
  end
  return body.access_token, expiry(body, t0)
end

-- The client-credentials grant with a signed JWT instead of a secret (certificate and workload identity).
local function assertion_token(endpoint, client_id, scope, assertion, ca_file)
  return request_token(endpoint, {
    client_id = client_id, scope = scope, grant_type = "client_credentials",
    client_assertion_type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    client_assertion = assertion,
  }, ca_file)
end

local function required(opts, name, fn)
  local v = opts[name]
  if type(v) ~= "string" or v == "" then error(fn .. ": " .. name .. " (string) is required", 3) end
  return v
end

-- ---- client secret ----------------------------------------------------------------------------------

function M.client_secret(opts)
  if type(opts) ~= "table" then error("identity.client_secret: options table expected", 2) end
  local tenant = required(opts, "tenant", "identity.client_secret")
  local client_id = required(opts, "client_id", "identity.client_secret")
  local secret = required(opts, "secret", "identity.client_secret")
  local c = cloudmod.get(opts.cloud)
  local endpoint = authority_of(opts, c) .. "/" .. url.encode(tenant) .. "/oauth2/v2.0/token"
  -- The secret lives in a closure, not a field, so printing the credential cannot show it.
  return new_credential("ClientSecretCredential", function(_, scope)
    return request_token(endpoint, { client_id = client_id, client_secret = secret, scope = scope,
                                     grant_type = "client_credentials" }, opts.ca_file or c.ca_file)
  end, { tenant = tenant, client_id = client_id, cloud = c })
end

-- The seed tutorial's sp dict, or `az ad sp create-for-rbac` / `--sdk-auth` output, as is.
function M.from_sp(t, opts)
  if type(t) == "string" then t = core("json").decode(t) end
  if type(t) ~= "table" then error("identity.from_sp: table or JSON text expected", 2) end
  opts = opts or {}
  local o = {
    tenant = t.tenant or t.tenant_id or t.tenantId,
    client_id = t.client_id or t.appId or t.clientId,
    secret = t.secret or t.password or t.client_secret or t.clientSecret,
    cloud = opts.cloud or t.cloud, authority = opts.authority or t.authority, ca_file = opts.ca_file,
  }
  local certificate_path = t.certificate_path or t.certificate
  if not o.secret and certificate_path then
    o.certificate_path = certificate_path
    return M.client_certificate(o)
  end
  for _, k in ipairs{ "tenant", "client_id", "secret" } do
    if not o[k] then error("identity.from_sp: missing " .. k .. " (tenant, appId/client_id, password/secret)", 2) end
  end
  return M.client_secret(o)
end

-- ---- client certificate -----------------------------------------------------------------------------

local function b64url_json(t)
  local crypto = core("crypto")
  return crypto.base64url_encode(core("json").encode(t))
end

-- x5t = base64url(SHA-1 of the DER certificate); accept the C helper answering raw or hex.
local function x5t(pem)
  local crypto = core("crypto")
  local th = crypto.cert_thumbprint(pem, "sha1")
  if #th == 40 and th:match("^%x+$") then
    th = th:gsub("%x%x", function(h) return string.char(tonumber(h, 16)) end)
  end
  return crypto.base64url_encode(th)
end

-- The RS256 JWT that proves possession of the certificate's key (10 minutes, fresh jti).
function M.client_assertion(key_pem, thumb, client_id, endpoint)
  local crypto = core("crypto")
  local now = os.time()
  local header = b64url_json{ typ = "JWT", alg = "RS256", x5t = thumb }
  local payload = b64url_json{ aud = endpoint, iss = client_id, sub = client_id, jti = crypto.uuid4(),
                               nbf = now, iat = now, exp = now + 600 }
  local signing_input = header .. "." .. payload
  return signing_input .. "." .. crypto.base64url_encode(crypto.sign_rs256(key_pem, signing_input))
end

M.x5t = x5t

function M.client_certificate(opts)
  if type(opts) ~= "table" then error("identity.client_certificate: options table expected", 2) end
  local tenant = required(opts, "tenant", "identity.client_certificate")
  local client_id = required(opts, "client_id", "identity.client_certificate")
  local pem = opts.certificate
  if not pem then
    local path = required(opts, "certificate_path", "identity.client_certificate")
    local f, err = io.open(path, "rb")
    if not f then error("identity.client_certificate: cannot read " .. path .. ": " .. tostring(err), 2) end
    pem = f:read("a")
    f:close()
  end
  local key = pem:match("%-%-%-%-%-BEGIN [%u ]*PRIVATE KEY%-%-%-%-%-.-%-%-%-%-%-END [%u ]*PRIVATE KEY%-%-%-%-%-")
  local cert = pem:match("%-%-%-%-%-BEGIN CERTIFICATE%-%-%-%-%-.-%-%-%-%-%-END CERTIFICATE%-%-%-%-%-")
  if not key or not cert then
    error("identity.client_certificate: the PEM must hold both the certificate and its private key", 2)
  end
  local c = cloudmod.get(opts.cloud)
  local endpoint = authority_of(opts, c) .. "/" .. url.encode(tenant) .. "/oauth2/v2.0/token"
  local thumb = x5t(cert)
  return new_credential("ClientCertificateCredential", function(_, scope)
    local assertion = M.client_assertion(key, thumb, client_id, endpoint)
    return assertion_token(endpoint, client_id, scope, assertion, opts.ca_file or c.ca_file)
  end, { tenant = tenant, client_id = client_id, cloud = c })
end

-- ---- environment --------------------------------------------------------------------------------------

function M.environment(opts)
  opts = opts or {}
  local tenant, client_id = getenv(opts, "AZURE_TENANT_ID"), getenv(opts, "AZURE_CLIENT_ID")
  local secret, cert = getenv(opts, "AZURE_CLIENT_SECRET"), getenv(opts, "AZURE_CLIENT_CERTIFICATE_PATH")
  if tenant and client_id and secret then
    local c = M.client_secret{ tenant = tenant, client_id = client_id, secret = secret, cloud = opts.cloud,
                              ca_file = opts.ca_file, env = opts.env }
    c.name = "EnvironmentCredential"
    return c
  end
  if tenant and client_id and cert then
    local c = M.client_certificate{ tenant = tenant, client_id = client_id, certificate_path = cert,
                                    cloud = opts.cloud, ca_file = opts.ca_file, env = opts.env }
    c.name = "EnvironmentCredential"
    return c
  end
  local missing = {}
  if not tenant then missing[#missing + 1] = "AZURE_TENANT_ID" end
  if not client_id then missing[#missing + 1] = "AZURE_CLIENT_ID" end
  if not secret and not cert then missing[#missing + 1] = "AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH" end
  error(unavailable("EnvironmentCredential", "not set: " .. table.concat(missing, ", ")), 0)
end

-- ---- workload identity (federated token file, e.g. AKS) ------------------------------------------------

function M.workload_identity(opts)
  opts = opts or {}
  local tenant = opts.tenant or getenv(opts, "AZURE_TENANT_ID")
  local client_id = opts.client_id or getenv(opts, "AZURE_CLIENT_ID")
  local file = opts.token_file or getenv(opts, "AZURE_FEDERATED_TOKEN_FILE")
  if not (tenant and client_id and file) then
    error(unavailable("WorkloadIdentityCredential",
      "needs AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE"), 0)
  end
  local c = cloudmod.get(opts.cloud)
  local endpoint = authority_of(opts, c) .. "/" .. url.encode(tenant) .. "/oauth2/v2.0/token"
  return new_credential("WorkloadIdentityCredential", function(_, scope)
    -- Re-read every time: the platform rotates the file.
    local f, err = io.open(file, "rb")
    if not f then error(unavailable("WorkloadIdentityCredential", "cannot read " .. file .. ": " .. tostring(err)), 0) end
    local assertion = f:read("a"):gsub("%s+$", "")
    f:close()
    return assertion_token(endpoint, client_id, scope, assertion, opts.ca_file or c.ca_file)
  end, { tenant = tenant, client_id = client_id, cloud = c })
end

-- ---- managed identity ------------------------------------------------------------------------------

local IMDS_HOST = "http://169.254.169.254"

local mi_pipelines = {}
local function mi_pipeline(kind)
  if not mi_pipelines[kind] then
    -- IMDS asks for retries of 404/410/429/5xx (it answers 404 while the identity is being set up).
    mi_pipelines[kind] = pipeline.new{ service = "imds", timeout = 30,
                                       retry = { max_attempts = 5, base_delay = 1, max_delay = 30 } }
  end
  return mi_pipelines[kind]
end

function M.managed_identity(opts)
  opts = opts or {}
  local client_id = opts.client_id
  local object_id, resource_id = opts.object_id, opts.resource_id
  local endpoint = opts.identity_endpoint or getenv(opts, "IDENTITY_ENDPOINT")
  local header = opts.identity_header or getenv(opts, "IDENTITY_HEADER")
  local c
  if endpoint and header then
    c = new_credential("ManagedIdentityCredential", function(_, scope)
      local q = { ["api-version"] = "2019-08-01", resource = cloudmod.scope_to_resource(scope),
                  client_id = client_id, principal_id = object_id, mi_res_id = resource_id }
      local t0 = os.time()
      local res = mi_pipeline("appservice"):send{ url = url.with_query(endpoint, q),
                                                 headers = { ["X-IDENTITY-HEADER"] = header }, expect = { 200 } }
      return res.json.access_token, expiry(res.json, t0)
    end, { kind = "app_service" })
    return c
  end
  local host = opts.imds_host or getenv(opts, "AZURE_POD_IDENTITY_AUTHORITY_HOST") or IMDS_HOST
  if not host:match("^%a+://") then host = "http://" .. host end
  local base = (host:gsub("/+$", "")) .. "/metadata/identity/oauth2/token"
  local probed = not opts.probe
  c = new_credential("ManagedIdentityCredential", function(self, scope)
    if not probed then
      -- azure-identity's probe: a request without the Metadata header and a short connect timeout.
      -- Any HTTP answer means IMDS is there; no answer means this is not an Azure VM.
      local p = pipeline.new{ service = "imds", timeout = 2, connect_timeout = 0.3, retry = { max_attempts = 1 } }
      local ok, e = pcall(p.send, p, { url = base .. "?api-version=2018-02-01", expect = { 200, 400 } })
      if not ok and errors.is(e) and e.kind then
        error(unavailable(self.name, "no managed identity endpoint at " .. host .. " (" .. tostring(e.code) .. ")"), 0)
      end
      probed = true
    end
    local q = { ["api-version"] = "2018-02-01", resource = cloudmod.scope_to_resource(scope),
                client_id = client_id, object_id = object_id, msi_res_id = resource_id }
    local t0 = os.time()
    local ok, res = pcall(mi_pipeline("imds").send, mi_pipeline("imds"),
                          { url = url.with_query(base, q), headers = { Metadata = "true" }, expect = { 200 } })
    if not ok then
      if errors.is(res) and res.status == 400 then
        -- 400: no identity assigned (or not the one asked for): nothing to retry, try the next credential.
        error(unavailable(self.name, "IMDS has no such identity: " .. tostring(res.message)), 0)
      end
      error(res, 0)
    end
    return res.json.access_token, expiry(res.json, t0)
  end, { kind = "imds" })
  return c
end

-- ---- Azure CLI ----------------------------------------------------------------------------------------

-- "2026-12-01 10:00:00.000000" (local time, older CLIs) → epoch.
local function parse_local_time(s)
  local y, mo, d, h, mi, se = tostring(s):match("^(%d+)-(%d+)-(%d+)[ T](%d+):(%d+):(%d+)")
  if not y then return nil end
  return os.time{ year = tonumber(y), month = tonumber(mo), day = tonumber(d), hour = tonumber(h),
                  min = tonumber(mi), sec = tonumber(se) }
end

function M.azure_cli(opts)
  opts = opts or {}
  local az = opts.az or "az"
  return new_credential("AzureCliCredential", function(self, scope)
    local argv = { az, "account", "get-access-token", "--output", "json",
                   "--resource", cloudmod.scope_to_resource(scope) }
    if opts.tenant then argv[#argv + 1] = "--tenant"; argv[#argv + 1] = opts.tenant end
    if opts.subscription then argv[#argv + 1] = "--subscription"; argv[#argv + 1] = opts.subscription end
    local r, err = core("sys").spawn(argv)
    if not r then error(unavailable(self.name, "Azure CLI not found on PATH (" .. tostring(err) .. ")"), 0) end
    local stderr = r.stderr or ""
    if r.status == 127 or stderr:find("not recognized", 1, true) then
      error(unavailable(self.name, "Azure CLI not installed"), 0)
    end
    if r.status ~= 0 then
      local msg = stderr:gsub("%s+$", ""):match("([^\n]*)$")
      if stderr:find("az login", 1, true) or stderr:find("az account set", 1, true) then
        error(unavailable(self.name, "not logged in: run 'az login'"), 0)
      end
      error(errors.new{ service = "identity", code = "AzureCliFailed", credential = self.name,
                        message = "az account get-access-token failed (exit " .. tostring(r.status) .. "): " .. msg }, 0)
    end
    local ok, body = pcall(core("json").decode, r.stdout or "")
    if not ok or type(body) ~= "table" or type(body.accessToken) ~= "string" then
      -- Never echo stdout: it would hold the token.
      error(errors.new{ service = "identity", code = "AzureCliFailed", credential = self.name,
                        message = "could not parse the output of az account get-access-token" }, 0)
    end
    local exp = tonumber(body.expires_on) or parse_local_time(body.expiresOn) or (os.time() + 300)
    return body.accessToken, math.floor(exp)
  end, { kind = "cli" })
end

-- ---- chains ------------------------------------------------------------------------------------------

-- A chain whose members may be constructors (called lazily: environment() raises "unavailable" when
-- its variables are unset) or credentials.
function M.chain(members, name)
  name = name or "ChainedTokenCredential"
  local chosen
  return new_credential(name, function(self, scope)
    if chosen then return chosen:token(scope) end
    local said = {}
    for _, m in ipairs(members) do
      local ok, cred = true, m
      if type(m) == "function" then ok, cred = pcall(m) end
      local tok, exp
      if ok then ok, tok, exp = pcall(cred.token, cred, scope) else tok = cred end
      if ok then
        chosen = cred
        self.chosen = cred
        return tok, exp
      end
      local e = tok
      said[#said + 1] = tostring(errors.is(e) and (e.message or e.code) or e)
      if not (errors.is(e) and e.unavailable) then
        -- A real authentication failure: the user configured this one, so say what it said.
        error(e, 0)
      end
    end
    error(errors.new{ service = "identity", code = "CredentialUnavailable", unavailable = true,
                      message = name .. " found no credential: " .. table.concat(said, "; ") }, 0)
  end)
end

-- azure-identity's DefaultAzureCredential order, the parts that exist off Windows:
-- environment, workload identity, managed identity (App Service, else IMDS with a probe), Azure CLI.
function M.default(opts)
  opts = opts or {}
  local mi_opts = { client_id = opts.managed_identity_client_id or getenv(opts, "AZURE_CLIENT_ID"), probe = true,
                    imds_host = opts.imds_host, env = opts.env }
  return M.chain({
    function() return M.environment(opts) end,
    function() return M.workload_identity(opts) end,
    function() return M.managed_identity(mi_opts) end,
    function() return M.azure_cli(opts) end,
  }, "DefaultAzureCredential")
end

return M
