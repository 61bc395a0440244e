-- azure.errors: the one error object for every service and transport failure.
--
--   local errors = require "azure.errors"
--   errors.new{status=, code=, message=, request_id=, details=, retry_after=, service=, method=, url=}
--   errors.from_response(res, service, req)   -- decode ARM / Batch / storage / token error bodies
--   errors.from_transport(err, service, req)  -- http.request's err table → error object
--   errors.is(e, code)                        -- e is an error object (with that code, if given)
--
-- tostring(e) is one line a user can act on, e.g.
--   ARM 404 ResourceGroupNotFound: Resource group 'x' could not be found. (request id 1234…)
-- Messages never carry secrets: everything that came from the wire goes through azure.redact.
local redact = require "azure.redact"

local M = {}

local Error = {}
Error.__index = Error
M.Error = Error

local service_names = {
  arm = "ARM", batch = "Batch", storage = "Storage", token = "Sign-in", imds = "Managed identity",
  identity = "Sign-in",
}

-- What to check for the failures people meet most; keyed "service:code", "service:status" or "code".
local hints = {
  ["storage:AuthenticationFailed"] = "authentication failed: check the account key or SAS",
  ["storage:AuthorizationFailure"] = "not authorized: check the SAS permissions, network rules or role assignment",
  ["storage:AuthorizationPermissionMismatch"] = "the identity lacks a data role (e.g. Storage Blob Data Contributor)",
  ["storage:403"] = "check the account key, the SAS (permissions, expiry) or the identity's data role",
  ["batch:AuthenticationFailed"] = "check the Batch account name and key, and that this machine's clock is right",
  ["batch:InvalidAuthenticationInfo"] = "check the Authorization header: Shared Key needs the account name and key",
  ["batch:401"] = "check the credential: Batch tokens need the scope https://batch.core.windows.net//.default",
  ["arm:AuthorizationFailed"] = "the signed-in identity has no role assignment allowing this on that scope",
  ["arm:InvalidAuthenticationToken"] = "the token was rejected: check the tenant and the ARM audience of the credential",
  ["arm:ExpiredAuthenticationToken"] = "the token expired: the credential should refresh it; check the clock",
  ["arm:401"] = "check the credential (tenant, client id, secret) and that the token is for ARM",
  ["arm:SubscriptionNotFound"] = "check the subscription id (AZURE_SUBSCRIPTION_ID) and that the identity can see it",
  ["arm:MissingSubscriptionRegistration"] = "register the resource provider (arm:register_provider)",
  ["token:invalid_client"] = "check the client id and its secret or certificate (expired or wrong?)",
  ["token:unauthorized_client"] = "check the client id: the application is not known in this tenant",
  ["token:invalid_scope"] = "check the scope: it must end in /.default",
  ["token:invalid_request"] = "check the tenant id and the request parameters",
}

local function hint_for(e)
  return hints[(e.service or "") .. ":" .. tostring(e.code)]
      or hints[(e.service or "") .. ":" .. tostring(e.status)]
end

-- Service messages span lines (Batch appends "\nRequestId:…\nTime:…", Entra "\r\nTrace ID: …");
-- the first line is the one a person needs.
local function first_line(s)
  if type(s) ~= "string" then return s end
  s = s:gsub("\r", "")
  local line = s:match("^%s*([^\n]*)") or s
  return line
end

function M.new(t)
  local e = setmetatable({}, Error)
  for k, v in pairs(t or {}) do e[k] = v end
  if e.message ~= nil then e.message = redact.text(tostring(e.message)) end
  if e.url ~= nil then e.url = redact.url(e.url) end
  return e
end

function M.is(e, code)
  if getmetatable(e) ~= Error then return false end
  if code == nil then return true end
  if type(code) == "table" then
    for _, c in ipairs(code) do if e.code == c then return true end end
    return false
  end
  return e.code == code or (type(code) == "number" and e.status == code)
end

-- The URL without its query: enough to say where, never a SAS.
local function short_url(u)
  if not u then return nil end
  return (tostring(u):gsub("%?.*$", ""))
end

function Error:__tostring()
  local parts = { service_names[self.service] or (self.service and self.service:upper()) or "Azure" }
  if self.status then parts[#parts + 1] = tostring(self.status) end
  local head = table.concat(parts, " ")
  local code = self.code and tostring(self.code) or "Error"
  local msg = first_line(self.message)
  local line
  if self.kind then
    -- Transport failure: say where we were going, since there is no service message.
    line = string.format("%s %s: %s %s: %s", head, code, self.method or "?", short_url(self.url) or "?",
                         msg or self.kind)
  elseif msg and msg ~= "" then
    line = string.format("%s %s: %s", head, code, msg)
  else
    line = string.format("%s %s: %s %s", head, code, self.method or "", short_url(self.url) or "")
  end
  local hint = self.hint or hint_for(self)
  if hint then line = line .. " — " .. hint end
  if self.attempts and self.attempts > 1 then line = line .. string.format(" (after %d attempts)", self.attempts) end
  if self.request_id then line = line .. " (request id " .. tostring(self.request_id) .. ")" end
  return line
end

-- ---- decoding error bodies ----------------------------------------------------------------------

local function json_decode(s)
  if type(s) ~= "string" or s == "" then return nil end
  local first = s:match("^%s*(.)")
  if first ~= "{" and first ~= "[" then return nil end
  local ok, v = pcall(function() return require("azure.core.json").decode(s) end)
  if ok and type(v) == "table" then return v end
  return nil
end

local function header(res, name)
  local h = res.headers or {}
  local v = h[name]
  if type(v) == "table" then v = v[1] end
  return v
end

-- ARM: {"error":{code,message,details,target}} (some RPs put it at the top level).
local function from_arm(body, e)
  local err = body.error
  if type(err) ~= "table" then err = body end
  if type(err.code) ~= "string" then return false end
  e.code, e.message, e.target = err.code, err.message, err.target
  if type(err.details) == "table" then
    e.details = err.details
    -- Wrapped errors (InvalidTemplateDeployment, …) carry the real reason in details[1].
    local d = err.details[1]
    if type(d) == "table" and d.message and (not e.message or e.message == "") then e.message = d.message end
  end
  return true
end

-- Batch: {"odata.metadata":…, code, message={lang,value}, values=[{key,value}]}.
local function from_batch(body, e)
  if type(body.code) ~= "string" then return false end
  e.code = body.code
  local m = body.message
  if type(m) == "table" then m = m.value end
  e.message = m
  if type(body.values) == "table" then
    e.details = body.values
    -- "Reason"/"PropertyName" values say which field was wrong; put them on the line.
    local extra = {}
    for _, kv in ipairs(body.values) do
      if type(kv) == "table" and kv.key and kv.value and kv.key ~= "RequestId" then
        extra[#extra + 1] = tostring(kv.key) .. "=" .. tostring(kv.value)
      end
    end
    if #extra > 0 then e.message = first_line(tostring(e.message or "")) .. " [" .. table.concat(extra, ", ") .. "]" end
  end
  return true
end

-- Entra ID: {error, error_description ("AADSTSnnn: …\r\nTrace ID…"), error_codes, correlation_id}.
local function from_token(body, e)
  if type(body.error) ~= "string" then return false end
  e.code = body.error
  e.message = body.error_description or body.message or body.error
  e.details = { error_codes = body.error_codes, trace_id = body.trace_id, correlation_id = body.correlation_id }
  e.request_id = body.correlation_id or e.request_id
  return true
end

-- Storage: <Error><Code>…</Code><Message>…</Message></Error>; HEAD has only x-ms-error-code.
local function from_storage_xml(body, e)
  if type(body) ~= "string" or not body:find("<Error", 1, true) then return false end
  local ok, doc = pcall(function() return require("azure.core.xml").parse(body) end)
  local code, msg
  if ok and type(doc) == "table" then
    for _, child in ipairs(doc) do
      if type(child) == "table" then
        if child.name == "Code" then code = child.text
        elseif child.name == "Message" then msg = child.text
        elseif child.name == "AuthenticationErrorDetail" then e.details = { child.text } end
      end
    end
  else
    code = body:match("<Code>(.-)</Code>")
    msg = body:match("<Message>(.-)</Message>")
  end
  e.code = code or e.code
  e.message = msg or e.message
  return code ~= nil or msg ~= nil
end

local function parse_retry_after(res)
  local ms = header(res, "retry-after-ms") or header(res, "x-ms-retry-after-ms")
  if ms and tonumber(ms) then return tonumber(ms) / 1000 end
  local ra = header(res, "retry-after")
  if ra then
    if tonumber(ra) then return tonumber(ra) end
    local ok, t = pcall(function() return require("azure.core.time").parse_rfc1123(ra) end)
    if ok and t then return math.max(0, t - os.time()) end
  end
  return nil
end
M.parse_retry_after = parse_retry_after

-- res: an http response; service: "arm"|"batch"|"storage"|"token"|…; req: the request (method, url).
function M.from_response(res, service, req)
  req = req or {}
  local e = {
    status = res.status, service = service, method = req.method, url = req.url or res.url,
    request_id = header(res, "x-ms-request-id") or header(res, "request-id"),
    client_request_id = header(res, "x-ms-client-request-id") or header(res, "client-request-id"),
    correlation_id = header(res, "x-ms-correlation-request-id"),
    retry_after = parse_retry_after(res),
    code = header(res, "x-ms-error-code"),
  }
  local body = res.body
  local decoded = json_decode(body)
  local parsed = false
  if decoded then
    if service == "token" or service == "imds" then parsed = from_token(decoded, e) end
    if not parsed and decoded["odata.metadata"] then parsed = from_batch(decoded, e) end
    if not parsed then parsed = from_arm(decoded, e) end
    if not parsed then parsed = from_batch(decoded, e) end
    if not parsed then parsed = from_token(decoded, e) end
    if not parsed and type(decoded.message) == "string" then e.message = decoded.message end
  elseif type(body) == "string" then
    parsed = from_storage_xml(body, e)
    if not parsed and body ~= "" and #body < 400 and not body:find("<", 1, true) then e.message = body end
  end
  if not e.code then
    -- No code in body or header (HEAD, proxies): name the status so `errors.is` still has something.
    local names = { [400] = "BadRequest", [401] = "Unauthorized", [403] = "Forbidden", [404] = "NotFound",
                    [409] = "Conflict", [412] = "PreconditionFailed", [413] = "RequestBodyTooLarge",
                    [429] = "TooManyRequests", [500] = "InternalServerError", [502] = "BadGateway",
                    [503] = "ServiceUnavailable", [504] = "GatewayTimeout" }
    e.code = names[res.status] or ("HTTP" .. tostring(res.status))
  end
  if e.message == nil and e.code and res.status == 404 and (req.method == "HEAD") then
    e.message = "not found"
  end
  return M.new(e)
end

local transport_codes = {
  connect = "ConnectionFailed", dns = "NameResolutionFailed", timeout = "Timeout", tls = "TlsFailed",
  reset = "ConnectionReset", insecure = "InsecureUrl", interrupted = "Interrupted", file = "FileError",
  other = "TransportError",
}
local transport_hints = {
  dns = "check the host name and your network/DNS",
  connect = "check the endpoint and your network or proxy (HTTPS_PROXY)",
  tls = "check the CA bundle (SSL_CERT_FILE / ca_file) and the host name",
  insecure = "plain http is only allowed to loopback; use https",
}

function M.from_transport(err, service, req)
  req = req or {}
  return M.new{
    service = service, kind = err.kind, code = transport_codes[err.kind] or "TransportError",
    message = err.message, curl_code = err.curl_code, sent = err.sent, status = err.status,
    method = req.method, url = err.url or req.url, hint = transport_hints[err.kind],
  }
end

return M
