-- azure.retry: the retry policy, defined once for every service (the pipeline applies it).
--
--   local retry = require "azure.retry"
--   local policy = retry.new{max_attempts=5, base_delay=0.8, max_delay=60}
--   policy:should_retry_status(status, idempotent) / policy:should_retry_transport(err, idempotent)
--   policy:delay(attempt, retry_after)   -- seconds to wait before attempt+1
local M = {}

-- max_retry_after caps a server's Retry-After: the server knows best, but not an hour.
M.defaults = { max_attempts = 5, base_delay = 0.8, max_delay = 60, max_retry_after = 300 }

-- Statuses worth another try. 408/429/503 mean "not processed, come back later", so even a POST
-- may repeat them; 500/502/504 may hide a request that did run, so only idempotent ones repeat.
local retry_always = { [408] = true, [429] = true, [503] = true }
local retry_if_idempotent = { [500] = true, [502] = true, [504] = true }

-- Transport failures that may go away on their own. tls/insecure/file/interrupted do not.
local transient_kinds = { connect = true, dns = true, timeout = true, reset = true, other = true }

local Policy = {}
Policy.__index = Policy

function M.new(opts)
  opts = opts or {}
  local p = setmetatable({}, Policy)
  for k, v in pairs(M.defaults) do p[k] = v end
  for k, v in pairs(opts) do p[k] = v end
  if type(p.max_attempts) ~= "number" or p.max_attempts < 1 then
    error("retry.max_attempts must be a number >= 1", 2)
  end
  return p
end

-- GET/PUT/DELETE/HEAD/OPTIONS can be replayed safely; POST and PATCH only when the caller says so.
function M.idempotent_method(method)
  local m = (method or "GET"):upper()
  return m == "GET" or m == "PUT" or m == "DELETE" or m == "HEAD" or m == "OPTIONS"
end

function Policy:should_retry_status(status, idempotent)
  if retry_always[status] then return true end
  return idempotent and retry_if_idempotent[status] or false
end

function Policy:should_retry_transport(err, idempotent)
  if not transient_kinds[err.kind] then return false end
  -- Outcome unknown (the whole request went out): a replay could do the work twice.
  if err.sent and not idempotent then return false end
  return true
end

-- attempt: the attempt that just failed (1-based). retry_after: the server's wish in seconds.
-- Full jitter (a uniform draw in [0, cap]) spreads many clients apart after a shared failure.
function Policy:delay(attempt, retry_after)
  if retry_after and retry_after >= 0 then
    return math.min(retry_after, self.max_retry_after)
  end
  local cap = math.min(self.max_delay, self.base_delay * 2 ^ (attempt - 1))
  return math.random() * cap
end

return M
