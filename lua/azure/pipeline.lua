-- azure.pipeline: the ONE request pipeline. Every module that talks to Azure (ARM, Batch, Blob,
-- sign-in) sends through it; none builds its own HTTP calls, parses its own errors or retries.
--
-- Contract (kept stable; other modules code against it):
--
--   local pipeline = require "azure.pipeline"
--   local p = pipeline.new{
--     service   = "arm" | "batch" | "storage" | "token" | "imds",  -- error decoding, request-id header
--     authorize = function(req, attempt) ... end, -- called before EVERY attempt with the request about to
--                 -- go out ({method, url, headers, body}); sets headers (fresh date, signature, token).
--     retry     = {max_attempts=5, base_delay=0.8, max_delay=60},   -- see azure.retry
--     timeout   = 60, connect_timeout = nil, ca_file = nil,
--     headers   = {...},         -- sent on every request (the caller's own win)
--     transport = nil,           -- test seam: a table with request/request_many (default azure.core.http)
--   }
--   local res = p:send{ method=, url=, headers=, body=string|{file=,offset=,length=}, json=table,
--                       output=path|{file=,offset=}, timeout=,
--                       expect = {200, 201} | nil (any 2xx),
--                       idempotent = nil (from the method: GET/PUT/DELETE/HEAD yes; POST/PATCH no) | true | false,
--                       on_replay = function(err) return true end }  -- on a retry, accept this failure as
--                                   -- success (e.g. TaskExists after a lost response to an add)
--     → res {status, headers (lower-case names), body, elapsed, attempts, replayed?, resent?}; res.json decodes
--       the body lazily. Any other outcome raises an azure.errors object.
--   local results = p:send_many(reqs, {concurrency=8, progress=function(done, total) end})
--     → array in the order of reqs; each a res or an azure.errors object (never raised). Each item is
--       retried on its own by the same policy.
--
-- Headers added: User-Agent azlua/VERSION; x-ms-client-request-id (ARM, storage) or client-request-id
-- + return-client-request-id: true (Batch, sign-in) — the same id on every attempt of one request, so
-- the service's logs tie the retries together.
--
-- Logging (stderr): AZLUA_LOG=http → one line per attempt (method, URL with secrets masked, status,
-- ms, request id); AZLUA_LOG=debug also prints headers and bodies through azure.redact.
local errors = require "azure.errors"
local retry = require "azure.retry"
local redact = require "azure.redact"

local M = {}

local P = {}
P.__index = P

local request_id_headers = {
  arm = { "x-ms-client-request-id" }, storage = { "x-ms-client-request-id" },
  batch = { "client-request-id", return_id = true }, token = { "client-request-id" },
}

local function core(name) return require("azure.core." .. name) end

local user_agent
local function get_user_agent()
  if not user_agent then
    local ok, az = pcall(require, "azure")
    user_agent = "azlua/" .. ((ok and type(az) == "table" and az.version) or "0")
  end
  return user_agent
end

local function log_level()
  local v = os.getenv("AZLUA_LOG")
  if v == "debug" then return 2 end
  if v == "http" then return 1 end
  return 0
end

function M.new(opts)
  if type(opts) ~= "table" then error("pipeline.new: options table expected", 2) end
  if type(opts.service) ~= "string" then error("pipeline.new: service (string) is required", 2) end
  if opts.authorize ~= nil and type(opts.authorize) ~= "function" then
    error("pipeline.new: authorize must be a function", 2)
  end
  local self = setmetatable({}, P)
  self.service = opts.service
  self.authorize = opts.authorize
  self.policy = (getmetatable(opts.retry) and opts.retry.delay) and opts.retry or retry.new(opts.retry)
  self.timeout = opts.timeout or 60
  self.connect_timeout = opts.connect_timeout
  self.ca_file = opts.ca_file
  self.headers = opts.headers or {}
  self.transport = opts.transport
  self.sleep = opts.sleep -- test seam
  return self
end

function P:_transport()
  if not self.transport then self.transport = core("http") end
  return self.transport
end

local json_mt = {
  __index = function(res, k)
    if k == "json" then
      local body = rawget(res, "body")
      local v = nil
      if type(body) == "string" and body:match("^%s*[%[{]") then v = core("json").decode(body) end
      rawset(res, "json", v or false)
      return v
    end
  end,
}

-- Decoded JSON body of a response (nil when there is none).
function M.json(res)
  local v = res.json
  if v == false then return nil end
  return v
end

local function lower_has(headers, name)
  name = name:lower()
  for k in pairs(headers) do if type(k) == "string" and k:lower() == name then return k end end
  return nil
end

-- The parts of a request that stay the same across attempts.
function P:_prepare(req)
  if type(req) ~= "table" then error("send: request table expected", 3) end
  if type(req.url) ~= "string" then error("send: url (string) is required", 3) end
  local method = (req.method or "GET"):upper()
  local headers = {}
  for k, v in pairs(self.headers) do headers[k] = v end
  for k, v in pairs(req.headers or {}) do headers[k] = v end
  if not lower_has(headers, "user-agent") then headers["User-Agent"] = get_user_agent() end
  local ids = request_id_headers[self.service]
  if ids and not lower_has(headers, ids[1]) then
    headers[ids[1]] = core("crypto").uuid4()
    if ids.return_id then headers["return-client-request-id"] = "true" end
  end
  local body = req.body
  if req.json ~= nil then
    body = core("json").encode(req.json)
    if not lower_has(headers, "content-type") then headers["Content-Type"] = "application/json" end
  end
  local idempotent = req.idempotent
  if idempotent == nil then idempotent = retry.idempotent_method(method) end
  return {
    method = method, url = req.url, headers = headers, body = body, output = req.output,
    timeout = req.timeout or self.timeout, connect_timeout = req.connect_timeout or self.connect_timeout,
    ca_file = req.ca_file or self.ca_file, expect = req.expect, idempotent = idempotent,
    on_replay = req.on_replay,
  }
end

-- The table handed to the transport for one attempt: a fresh header copy, then authorize.
function P:_attempt(base, attempt)
  local h = {}
  for k, v in pairs(base.headers) do h[k] = v end
  local hreq = {
    method = base.method, url = base.url, headers = h, body = base.body, output = base.output,
    timeout = base.timeout, connect_timeout = base.connect_timeout, ca_file = base.ca_file,
  }
  if self.authorize then self.authorize(hreq, attempt) end
  return hreq
end

local function success(base, status)
  if base.expect then
    for _, s in ipairs(base.expect) do if s == status then return true end end
    return false
  end
  return status >= 200 and status < 300
end

-- When the body went to a file, an error body is there too: read a little of it back to decode.
local function error_body_from_output(base, res)
  if res.body ~= nil or not base.output then return end
  local path = type(base.output) == "table" and base.output.file or base.output
  local offset = type(base.output) == "table" and base.output.offset or 0
  local f = type(path) == "string" and io.open(path, "rb")
  if f then
    f:seek("set", offset or 0)
    res.body = f:read(65536)
    f:close()
  end
end

-- A response header by lower-case name (the first value when repeated).
local function header(res, name)
  local v = res.headers and res.headers[name]
  if type(v) == "table" then v = v[1] end
  return v
end
M.header = header

function P:_log(hreq, res, err, ms, attempt)
  local level = log_level()
  if level == 0 then return end
  local status = res and tostring(res.status) or ("failed (" .. tostring(err.kind) .. ")")
  local rid = res and (header(res, "x-ms-request-id") or header(res, "request-id")) or nil
  io.stderr:write(string.format("azlua http: %s %s %s %d ms%s%s\n", hreq.method, redact.url(hreq.url), status,
    math.floor((ms or 0) + 0.5), rid and (" id " .. rid) or "",
    attempt > 1 and (" attempt " .. attempt) or ""))
  if level >= 2 then
    local function dump(prefix, h)
      local keys = {}
      for k in pairs(h or {}) do keys[#keys + 1] = k end
      table.sort(keys)
      local safe = redact.headers(h)
      for _, k in ipairs(keys) do
        local v = safe[k]
        if type(v) == "table" then v = table.concat(v, ", ") end
        io.stderr:write(prefix, k, ": ", tostring(v), "\n")
      end
    end
    local function body(prefix, b)
      if type(b) == "string" and b ~= "" then
        local shown = #b > 4096 and (b:sub(1, 4096) .. "…(" .. #b .. " bytes)") or b
        io.stderr:write(prefix, redact.text(shown), "\n")
      elseif type(b) == "table" then
        io.stderr:write(prefix, "<file ", tostring(b.file), ">\n")
      end
    end
    dump("  > ", hreq.headers)
    body("  > ", hreq.body)
    if res then
      dump("  < ", res.headers)
      if not hreq.output then body("  < ", res.body) end
    elseif err then
      io.stderr:write("  ! ", redact.text(tostring(err.message)), "\n")
    end
  end
end

-- Decide what one attempt's outcome means: "ok", res | "retry", delay, errobj | "fail", errobj.
function P:_judge(base, res, terr, attempt)
  local policy = self.policy
  if terr then
    local e = errors.from_transport(terr, self.service, base)
    e.attempts = attempt
    if attempt < policy.max_attempts and policy:should_retry_transport(terr, base.idempotent) then
      return "retry", policy:delay(attempt), e
    end
    return "fail", e
  end
  res.attempts = attempt
  if success(base, res.status) then
    return "ok", setmetatable(res, json_mt)
  end
  error_body_from_output(base, res)
  local e = errors.from_response(res, self.service, base)
  e.attempts = attempt
  -- A replay is ours (attempt > 1) or libcurl's (res.resent: it sent the request again by itself on a
  -- fresh connection after a reused one died, so the first copy may have landed).
  if (attempt > 1 or res.resent) and base.on_replay and base.on_replay(e) then
    res.replayed = true
    return "ok", setmetatable(res, json_mt)
  end
  if attempt < policy.max_attempts and policy:should_retry_status(res.status, base.idempotent) then
    return "retry", policy:delay(attempt, e.retry_after), e
  end
  return "fail", e
end

function P:_wait(seconds, why)
  if seconds <= 0 then return end
  local sleep = self.sleep or core("time").sleep
  if seconds <= 3 then sleep(seconds); return end
  -- Long waits are visible: a silent minute looks like a hang.
  local progress = require "azure.progress"
  local left = seconds
  while left > 0 do
    progress.show(string.format("waiting %d s before retrying (%s)", math.ceil(left), why))
    local step = math.min(1, left)
    sleep(step)
    left = left - step
  end
  progress.clear()
end

-- "503 ServerBusy": what the progress line says we are waiting out.
local function why(e)
  return tostring(e.status or e.kind or "") .. " " .. tostring(e.code or "")
end

function P:send(req)
  local base = self:_prepare(req)
  local transport = self:_transport()
  local clock = core("time").monotonic
  local attempt = 0
  while true do
    attempt = attempt + 1
    local hreq = self:_attempt(base, attempt)
    local t0 = clock()
    local res, terr = transport.request(hreq)
    self:_log(hreq, res, terr, (clock() - t0) * 1000, attempt)
    local verdict, a, b = self:_judge(base, res, terr, attempt)
    if verdict == "ok" then return a end
    if verdict == "fail" then error(a, 0) end
    self:_wait(a, why(b))
  end
end

function P:send_many(reqs, opts)
  opts = opts or {}
  local transport = self:_transport()
  local n = #reqs
  local results, state, pending = {}, {}, {}
  for i = 1, n do
    state[i] = { base = self:_prepare(reqs[i]), attempt = 0 }
    pending[i] = i
  end
  local done = 0
  while #pending > 0 do
    local batch = {}
    for j, i in ipairs(pending) do
      local st = state[i]
      st.attempt = st.attempt + 1
      st.hreq = self:_attempt(st.base, st.attempt)
      batch[j] = st.hreq
    end
    local out = transport.request_many(batch, { concurrency = opts.concurrency or 8 })
    local again, wait, last = {}, 0, nil
    for j, i in ipairs(pending) do
      local st, r = state[i], out[j]
      local res, terr
      if type(r) == "table" and r.kind ~= nil then terr = r else res = r end
      if res == nil and terr == nil then terr = { kind = "other", message = "no result from transport" } end
      -- elapsed from the transport is in seconds
      self:_log(st.hreq, res, terr, ((res and res.elapsed) or 0) * 1000, st.attempt)
      local verdict, a, b = self:_judge(st.base, res, terr, st.attempt)
      if verdict == "retry" then
        again[#again + 1] = i
        if a > wait then wait = a end
        last = b
      else
        results[i] = a
        done = done + 1
      end
    end
    if opts.progress then opts.progress(done, n) end
    pending = again
    if #pending > 0 then self:_wait(wait, why(last)) end
  end
  return results
end

return M
