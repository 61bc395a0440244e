-- azure.arm: Azure Resource Manager. Raw verbs on paths or URLs (api-version chosen per resource
-- provider, long-running operations followed to the end, nextLink paging as lazy iterators) and
-- helpers for what the tutorial needs (resource groups, providers, storage accounts, blob
-- containers, Batch accounts — in azure.arm.resources).
--
--   local arm = require("azure.arm").client{credential=cred, subscription=sub, cloud="AzureCloud"}
--   local rg = arm:put("/subscriptions/{sub}/resourcegroups/x", {location="eastus"})
--   arm:get(path [, opts]), arm:put(path, body [, opts]), arm:post(path, body, opts), arm:patch(…),
--   arm:delete(path [, opts]), arm:head(path) → boolean
--     opts: api_version, query={…}, headers={…}, wait=false (return after the first answer),
--           timeout (LRO seconds, default 1800), raw=true (return the http response too)
--     return: the decoded body (nil when none), the final response
--   for page in arm:pages(path) do … end ; for item in arm:list(path) do … end
--   "{sub}" in a path is replaced by the client's subscription.
local pipeline = require "azure.pipeline"
local errors = require "azure.errors"
local cloudmod = require "azure.cloud"
local url = require "azure.url"
local progress = require "azure.progress"

local M = {}

-- Newest stable versions in the specs (../shared/specs); override per client with api_versions.
M.api_versions = {
  ["microsoft.resources"] = "2025-04-01",
  ["microsoft.storage"] = "2025-08-01",
  ["microsoft.batch"] = "2026-08-01",
}
M.default_api_version = "2025-04-01"

local Client = {}
Client.__index = Client
M.Client = Client

function M.client(opts)
  opts = opts or {}
  local c = cloudmod.get(opts.cloud)
  local self = setmetatable({}, Client)
  self.cloud = c
  self.subscription = opts.subscription or os.getenv("AZURE_SUBSCRIPTION_ID") or c.subscription
  self.credential = opts.credential or require("azure.identity").default{ cloud = c }
  self.api_versions = {}
  for k, v in pairs(M.api_versions) do self.api_versions[k] = v end
  for k, v in pairs(opts.api_versions or {}) do self.api_versions[k:lower()] = v end
  self.lro_timeout = opts.lro_timeout or 1800
  self.poll_interval = opts.poll_interval or 5
  self.auto_register = opts.auto_register ~= false
  local scope = opts.scope or c.arm_scope
  local cred = self.credential
  self.pipeline = opts.pipeline or pipeline.new{
    service = "arm", retry = opts.retry, timeout = opts.http_timeout or 60, ca_file = opts.ca_file or c.ca_file,
    transport = opts.transport, sleep = opts.sleep,
    authorize = function(req) req.headers["Authorization"] = "Bearer " .. (cred:token(scope)) end,
  }
  self.sleep = opts.sleep or function(s) require("azure.core.time").sleep(s) end
  return self
end

function Client:_sub()
  if not self.subscription then
    error("arm: no subscription: pass subscription= to arm.client or set AZURE_SUBSCRIPTION_ID", 3)
  end
  return self.subscription
end

-- The provider namespace a path belongs to (the last /providers/<ns>/ segment), for its api-version.
local function namespace_of(path)
  local ns
  for n in path:gmatch("/providers/([^/?]+)") do ns = n end
  return ns and ns:lower() or "microsoft.resources"
end

function Client:api_version_for(path)
  return self.api_versions[namespace_of(path)] or M.default_api_version
end

function Client:url(path, opts)
  opts = opts or {}
  if path:find("{sub}", 1, true) then path = path:gsub("{sub}", self:_sub()) end
  local u = url.join(self.cloud.arm_endpoint, path)
  local q = {}
  for k, v in pairs(opts.query or {}) do q[k] = v end
  if not url.has_param(u, "api-version") then
    q["api-version"] = opts.api_version or self:api_version_for(u:match("^%a+://[^/]+(/[^?]*)") or path)
  end
  return url.with_query(u, q)
end

local header = pipeline.header

local function body_of(res)
  local j = res.json
  if j == false then return nil end
  return j
end

local function ns_from_error(e, path)
  local m = tostring(e.message or ""):match("namespace '([^']+)'")
  if m then return m end
  if type(e.details) == "table" and e.details[1] and e.details[1].target then return e.details[1].target end
  local ns
  for n in path:gmatch("/providers/([^/?]+)") do ns = n end
  return ns
end

function Client:_send(method, u, body, opts)
  local req = { method = method, url = u, headers = opts.headers, expect = opts.expect,
                idempotent = opts.idempotent }
  if body ~= nil then req.json = body end
  return self.pipeline:send(req)
end

local terminal = { succeeded = true, failed = true, canceled = true, cancelled = true }

-- Retry-After when given (at most 60 s), else poll_interval. "Retry-After: 0" is not taken as "poll
-- in a tight loop": polls are at least 0.1 s apart (or poll_interval, when that is smaller).
function Client:_wait_seconds(res)
  local ra = errors.parse_retry_after(res)
  if ra then return math.max(math.min(ra, 60), math.min(0.1, self.poll_interval)) end
  return self.poll_interval
end

function Client:_pause(seconds, what, started)
  if seconds > 0 then
    progress.show(string.format("%s: waiting (%d s so far)", what, math.floor(os.time() - started)))
    self.sleep(seconds)
  end
end

-- Follows an LRO to the end: Azure-AsyncOperation first, then Location, then provisioningState.
function Client:_follow(method, u, res, opts)
  local started = os.time()
  local deadline = started + (opts.timeout or self.lro_timeout)
  local what = "ARM " .. method .. " " .. (u:match("/providers/.*$") or u:match("^%a+://[^/]+([^?]*)") or u):gsub("%?.*", "")
  local function check_time()
    if os.time() > deadline then
      progress.clear()
      error(errors.new{ service = "arm", code = "LongRunningOperationTimeout", method = method, url = u,
        message = string.format("still running after %d s (raise the timeout or check the resource in the portal)",
                                os.time() - started) }, 0)
    end
  end
  local async = header(res, "azure-asyncoperation")
  local location = header(res, "location")
  if async then
    local poll = res
    while true do
      check_time()
      self:_pause(self:_wait_seconds(poll), what, started)
      poll = self.pipeline:send{ method = "GET", url = async, expect = { 200, 201, 202 } }
      local st = body_of(poll) or {}
      local s = tostring(st.status or ""):lower()
      if terminal[s] then
        progress.clear()
        if s ~= "succeeded" then
          local er = type(st.error) == "table" and st.error or {}
          error(errors.new{ service = "arm", status = poll.status, code = er.code or ("Operation" .. (st.status or "Failed")),
                            message = er.message or ("the operation ended " .. tostring(st.status)), details = er.details,
                            method = method, url = u, request_id = header(res, "x-ms-request-id") }, 0)
        end
        break
      end
    end
    if method == "DELETE" then return nil, res end
    if method == "POST" and location then
      local final = self.pipeline:send{ method = "GET", url = location, expect = { 200, 201, 204 } }
      return body_of(final), final
    end
    if method == "POST" then return nil, res end
    local final = self.pipeline:send{ method = "GET", url = u }
    return body_of(final), final
  end
  if location and (res.status == 202 or res.status == 201) then
    local poll = res
    while true do
      check_time()
      self:_pause(self:_wait_seconds(poll), what, started)
      poll = self.pipeline:send{ method = "GET", url = location, expect = { 200, 201, 202, 204 } }
      if poll.status ~= 202 then break end
    end
    progress.clear()
    local b = body_of(poll)
    if b == nil and (method == "PUT" or method == "PATCH") then
      local final = self.pipeline:send{ method = "GET", url = u }
      return body_of(final), final
    end
    return b, poll
  end
  -- No monitor header: a PUT/PATCH whose resource says it is still provisioning.
  local b = body_of(res)
  if (method == "PUT" or method == "PATCH") and type(b) == "table" and type(b.properties) == "table" then
    local st = b.properties.provisioningState
    while st and not terminal[tostring(st):lower()] do
      check_time()
      self:_pause(self:_wait_seconds(res), what, started)
      res = self.pipeline:send{ method = "GET", url = u }
      b = body_of(res)
      st = type(b) == "table" and type(b.properties) == "table" and b.properties.provisioningState or nil
    end
    progress.clear()
    if st and tostring(st):lower() ~= "succeeded" then
      error(errors.new{ service = "arm", status = res.status, code = "Provisioning" .. tostring(st), method = method,
        url = u, message = "the resource's provisioningState is " .. tostring(st) }, 0)
    end
  end
  return b, res
end

function Client:request(method, path, body, opts)
  opts = opts or {}
  method = method:upper()
  local u = self:url(path, opts)
  local ok, res = pcall(self._send, self, method, u, body, opts)
  if not ok then
    local e = res
    if self.auto_register and errors.is(e, "MissingSubscriptionRegistration") and not opts._registered then
      -- ARM tells us which namespace; register it, wait, and repeat the call once.
      local ns = ns_from_error(e, u)
      if ns then
        self:register_provider(ns, { timeout = opts.timeout })
        opts._registered = true
        return self:request(method, path, body, opts)
      end
    end
    error(e, 0)
  end
  if opts.wait == false or method == "GET" or method == "HEAD" then return body_of(res), res end
  return self:_follow(method, u, res, opts)
end

function Client:get(path, opts) return self:request("GET", path, nil, opts) end
function Client:put(path, body, opts) return self:request("PUT", path, body or {}, opts) end
function Client:patch(path, body, opts) return self:request("PATCH", path, body or {}, opts) end
function Client:delete(path, opts)
  opts = opts or {}
  return self:request("DELETE", path, nil, opts)
end
function Client:post(path, body, opts)
  -- ARM actions (listKeys, register, checkNameAvailability) are safe to repeat; callers say otherwise.
  opts = opts or {}
  if opts.idempotent == nil then opts.idempotent = true end
  return self:request("POST", path, body, opts)
end

-- true when the resource exists (200/204), false on 404; other answers raise.
function Client:head(path, opts)
  opts = opts or {}
  opts.expect = { 200, 204, 404 }
  local _, res = self:request("HEAD", path, nil, opts)
  return res.status ~= 404, res
end

-- Lazy iterator over the pages of a list: GET path, then each nextLink verbatim.
function Client:pages(path, opts)
  opts = opts or {}
  local next_url = self:url(path, opts)
  return function()
    if not next_url then return nil end
    local res = self._send(self, "GET", next_url, nil, opts)
    local page = body_of(res) or {}
    local nl = page.nextLink
    next_url = (type(nl) == "string" and nl ~= "") and nl or nil
    return page
  end
end

-- Lazy iterator over the items of every page.
function Client:list(path, opts)
  local pages = self:pages(path, opts)
  local items, i = nil, 0
  return function()
    while true do
      if items and i < #items then
        i = i + 1
        return items[i]
      end
      local page = pages()
      if not page then return nil end
      items, i = page.value or {}, 0
    end
  end
end

-- Collect an iterator into an array (for small lists).
function M.collect(iter)
  local out = {}
  for x in iter do out[#out + 1] = x end
  return out
end

-- ---- providers (registration is needed once per subscription and namespace) ---------------------

function Client:provider(ns)
  return (self:get("/subscriptions/{sub}/providers/" .. ns))
end

-- Registers several namespaces at once and waits for all of them: registration takes a minute or two
-- on Azure, so asking for every namespace first and then polling them together costs the slowest one,
-- not their sum. Returns {[ns] = provider}.
function Client:register_providers(namespaces, opts)
  opts = opts or {}
  local started = os.time()
  local deadline = started + (opts.timeout or 600)
  local state = {}
  for _, ns in ipairs(namespaces) do
    state[ns] = self:post("/subscriptions/{sub}/providers/" .. ns .. "/register", nil, { api_version = opts.api_version })
  end
  -- Re-checked after 0.25 s, then twice as long each time up to poll_interval (2 s).
  local interval = opts.poll_interval or 2
  local delay = math.min(0.25, interval)
  while opts.wait ~= false do
    local pending = {}
    for _, ns in ipairs(namespaces) do
      local p = state[ns]
      if not p or p.registrationState ~= "Registered" then pending[#pending + 1] = ns end
    end
    if #pending == 0 then break end
    if os.time() > deadline then
      progress.clear()
      local p = state[pending[1]]
      error(errors.new{ service = "arm", code = "ProviderRegistrationTimeout",
        message = "provider " .. pending[1] .. " is still " .. tostring(p and p.registrationState) .. " after "
                  .. (os.time() - started) .. " s" }, 0)
    end
    self:_pause(delay, "registering provider " .. table.concat(pending, ", "), started)
    delay = math.min(delay * 2, interval)
    for _, ns in ipairs(pending) do state[ns] = self:provider(ns) end
  end
  progress.clear()
  return state
end

function Client:register_provider(ns, opts)
  return self:register_providers({ ns }, opts)[ns]
end

-- Helpers (resource groups, storage, containers, Batch accounts, name checks) live in their own file.
require("azure.arm.resources").install(Client, M)

return M
