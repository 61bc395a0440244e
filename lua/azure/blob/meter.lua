-- azure.blob.meter: transfer progress — the caller's callback and/or a bar on stderr (bytes, rate,
-- ETA). The bar goes through azure.progress, which shows nothing unless stderr is a terminal and
-- neither NO_COLOR nor AZLUA_NO_PROGRESS is set.
local M = {}
local Meter = {}
Meter.__index = Meter

local function now()
  local ok, t = pcall(require, "azure.core.time")
  if ok and t.monotonic then return t.monotonic() end
  return os.time()
end

local function human(n)
  local units = { "B", "KiB", "MiB", "GiB", "TiB" }
  local u = 1
  while n >= 1024 and u < #units do n = n / 1024; u = u + 1 end
  return u == 1 and string.format("%d %s", math.floor(n), units[u]) or string.format("%.1f %s", n, units[u])
end
M.human = human

local function clock(s)
  s = math.floor(s + 0.5)
  if s >= 3600 then return string.format("%d:%02d:%02d", s // 3600, s % 3600 // 60, s % 60) end
  return string.format("%d:%02d", s // 60, s % 60)
end

-- opts.progress: a function(done, total), true (bar), false (nothing), nil (bar if a terminal).
function M.new(label, total, progress)
  local self = setmetatable({ label = label, total = total, done = 0, t0 = now(), last = -1 }, Meter)
  if type(progress) == "function" then self.callback = progress end
  self.bar = progress ~= false and type(progress) ~= "function"
  return self
end

function Meter:set(done)
  -- Never backwards: a block or range sent again after a failure counts once.
  if done < self.done then done = self.done end
  self.done = done
  if self.callback then self.callback(done, self.total) end
  if self.bar then
    local t = now()
    if t - self.last < 0.1 and done < self.total then return end -- ≤ 10 redraws a second
    self.last = t
    local dt = math.max(t - self.t0, 1e-3)
    local rate = done / dt
    local eta = rate > 0 and (self.total - done) / rate or 0
    local pct = self.total > 0 and (100 * done / self.total) or 100
    require("azure.progress").show(string.format("%s %5.1f%%  %s / %s  %s/s  ETA %s", self.label, pct,
      human(done), human(self.total), human(rate), clock(eta)))
  end
end

function Meter:add(n) self:set(self.done + n) end

function Meter:finish()
  if self.bar then require("azure.progress").clear() end
end

return M
