-- azure.blob.context: what every Blob client shares — the endpoint, the credential (account key,
-- SAS or token) and the one request pipeline. Each attempt is authorized afresh by the pipeline
-- (new x-ms-date, new signature), so retries and long transfers never replay a stale signature.
local url = require "azure.blob.url"
local signing = require "azure.blob.signing"

local M = {}

local Ctx = {}
Ctx.__index = Ctx

M.SCOPE = "https://storage.azure.com/.default"
M.DEV_ACCOUNT = "devstoreaccount1"
M.DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
M.DEV_ENDPOINT = "http://127.0.0.1:10000/devstoreaccount1"

-- "A=b;C=d=e" → {A="b", C="d=e"} (values may hold '=': the first one splits).
function M.parse_connection_string(s)
  if type(s) ~= "string" then error("azure.blob: connection string expected", 3) end
  local t = {}
  for part in s:gmatch("[^;]+") do
    local k, v = part:match("^%s*([^=]-)%s*=(.*)$")
    if k and k ~= "" then t[k] = v:gsub("^%s+", ""):gsub("%s+$", "") end
  end
  local out = {}
  if (t.UseDevelopmentStorage or ""):lower() == "true" then
    out.account, out.key, out.endpoint = M.DEV_ACCOUNT, M.DEV_KEY, M.DEV_ENDPOINT
    -- DevelopmentStorageProxyUri moves the emulator elsewhere (same account, same key).
    if t.DevelopmentStorageProxyUri then
      out.endpoint = t.DevelopmentStorageProxyUri:gsub("/+$", "") .. "/" .. M.DEV_ACCOUNT
    end
    return out
  end
  out.account, out.key, out.sas = t.AccountName, t.AccountKey, t.SharedAccessSignature
  if t.BlobEndpoint then
    out.endpoint = t.BlobEndpoint:gsub("/+$", "")
  elseif t.AccountName then
    out.endpoint = string.format("%s://%s.blob.%s", t.DefaultEndpointsProtocol or "https", t.AccountName,
      t.EndpointSuffix or "core.windows.net")
  else
    error("azure.blob: connection string has neither AccountName nor BlobEndpoint", 3)
  end
  return out
end

local function strip_sas(q)
  if not q then return nil end
  q = q:gsub("^%?", "")
  return q ~= "" and q or nil
end

-- opts: url | endpoint | connection_string | account (+ key | sas | credential), version, retry,
-- timeout, ca_file, and transfer defaults (block_size, concurrency, single_put_size, md5, progress).
-- Returns the context and the parsed URL (container/blob parts, if the URL had them).
function M.new(opts)
  if type(opts) ~= "table" then error("azure.blob: options table expected", 3) end
  local o = {}
  for k, v in pairs(opts) do o[k] = v end
  if o.connection_string then
    for k, v in pairs(M.parse_connection_string(o.connection_string)) do
      if o[k] == nil then o[k] = v end
    end
  end
  local parsed
  local where = o.url or o.endpoint
  if not where and o.account then
    where = string.format("https://%s.blob.%s", o.account, o.endpoint_suffix or "core.windows.net")
  end
  if not where then error("azure.blob: url, endpoint, connection_string or account is required", 3) end
  parsed = url.parse(where)
  local self = setmetatable({}, Ctx)
  self.service_url = parsed.service
  self.account = o.account or parsed.account
  self.key = o.key or o.account_key
  self.sas = strip_sas(o.sas) or (not o.key and strip_sas(parsed.query)) or nil
  self.credential = o.credential
  self.version = o.version or signing.DEFAULT_VERSION
  self.options = o
  if self.key and not self.account then error("azure.blob: the account name is required with a key", 3) end
  if self.credential and type(self.credential.token) ~= "function" then
    error("azure.blob: credential must have a token(scope) method", 3)
  end
  return self, parsed
end

function Ctx:auth_kind()
  if self.key then return "key" end
  if self.sas then return "sas" end
  if self.credential then return "token" end
  return "anonymous"
end

-- Lazily: only a call that talks to the service needs the pipeline (and with it libcurl).
function Ctx:pipeline()
  if self._pipeline then return self._pipeline end
  local o = self.options
  self._pipeline = require("azure.pipeline").new {
    service = "storage", retry = o.retry, timeout = o.timeout, connect_timeout = o.connect_timeout,
    ca_file = o.ca_file, transport = self:_transport(o.transport),
    authorize = function(req) self:authorize(req) end,
  }
  return self._pipeline
end

-- The transport under the pipeline, plus one thing: while a transfer runs, its byte counter
-- (self.on_bytes) receives request_many's progress(sent, received), so a bar moves within a batch.
function Ctx:_transport(inner)
  local function base() inner = inner or require "azure.core.http"; return inner end
  return {
    request = function(req) return base().request(req) end,
    request_many = function(reqs, ropts)
      if self.on_bytes then
        local o = {}
        for k, v in pairs(ropts or {}) do o[k] = v end
        o.progress = self.on_bytes
        ropts = o
      end
      return base().request_many(reqs, ropts)
    end,
  }
end

local function bearer(tok)
  if type(tok) == "table" then tok = tok.token or tok.access_token end
  if type(tok) ~= "string" or tok == "" then error("azure.blob: credential:token() returned no token", 0) end
  return "Bearer " .. tok
end

-- Called by the pipeline before every attempt.
function Ctx:authorize(req)
  local h = req.headers
  h["x-ms-date"] = os.date("!%a, %d %b %Y %H:%M:%S GMT")
  h["x-ms-version"] = self.version
  if self.key then
    h["Authorization"] = signing.sign(req, self.account, self.key)
  elseif self.credential then
    h["Authorization"] = bearer(self.credential:token(M.SCOPE))
  end
end

-- Request URL: base (already encoded) + fixed query parameters + the SAS, if any.
function Ctx:url_for(base, params)
  local u = base
  if params and #params > 0 then u = url.add_query(u, url.query(params)) end
  if self.sas then u = url.add_query(u, self.sas) end
  return u
end

-- A SAS's expiry, when the context has one: said in the error when the service refuses it.
local function sas_expiry(sas)
  for _, kv in ipairs(url.parse_query(sas)) do if kv[1] == "se" then return kv[2] end end
end

-- Storage-specific advice on a failure. Azurite answers a bad signature with AuthorizationFailure
-- (Azure with AuthenticationFailed); both say "failed to authenticate" in the message.
function Ctx:explain(e)
  local errors = require "azure.errors"
  if not errors.is(e) or e.status ~= 403 then return e end
  local msg = tostring(e.message or "")
  local kind = self:auth_kind()
  if e.code == "AuthenticationFailed" or msg:find("authenticate", 1, true)
      or (e.code ~= "AuthorizationPermissionMismatch" and e.code ~= "AuthorizationProtocolMismatch"
          and e.code ~= "AuthorizationSourceIPMismatch" and kind ~= "token") then
    local hint = "authentication failed: check the account key or SAS"
    local se = self.sas and sas_expiry(self.sas)
    if se and se < os.date("!%Y-%m-%dT%H:%M:%SZ") then hint = hint .. " (the SAS expired at " .. se .. ")" end
    e.hint = hint
  elseif e.code == "AuthorizationPermissionMismatch" and kind == "sas" then
    e.hint = "the SAS does not grant this operation: check its permissions (sp)"
  elseif e.code == "AuthorizationProtocolMismatch" then
    e.hint = "the SAS allows https only (spr) but the request used http"
  end
  return e
end

-- One request through the pipeline; service errors come back as azure.errors objects, explained.
function Ctx:send(req)
  local p = self:pipeline()
  local ok, res = pcall(p.send, p, req)
  if not ok then error(self:explain(res), 0) end
  return res
end

-- Many requests, each retried on its own; returns the results or raises the first failure.
function Ctx:send_many(reqs, opts)
  local p = self:pipeline()
  local results = p:send_many(reqs, opts)
  for i = 1, #reqs do
    local r = results[i]
    if type(r) ~= "table" or r.status == nil or getmetatable(r) == require("azure.errors").Error then
      return nil, self:explain(r), results
    end
  end
  return results
end

return M
