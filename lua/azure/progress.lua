-- azure.progress: one status line on stderr, rewritten in place, for waits and long operations.
-- Shown only when stderr is a terminal and neither AZLUA_NO_PROGRESS nor NO_COLOR is set, so logs,
-- pipes and tests stay clean.
--
--   local progress = require "azure.progress"
--   progress.show("waiting 12 s (ARM 429 throttled)")   -- replaces the current line
--   progress.clear()                                     -- erase it before normal output
local M = {}

local enabled -- nil until first asked

function M.enabled()
  if enabled == nil then
    if os.getenv("AZLUA_NO_PROGRESS") or os.getenv("NO_COLOR") then
      enabled = false
    else
      local ok, sys = pcall(require, "azure.core.sys")
      if ok and sys.isatty then
        enabled = sys.isatty(2) == true
      else
        -- Without the C helper, `test -t 2` inherits our stderr and answers the same question.
        enabled = os.execute("test -t 2") == true
      end
    end
  end
  return enabled
end

function M.set_enabled(v) enabled = v and true or false end

local shown = false

function M.show(text)
  if not M.enabled() then return end
  io.stderr:write("\r\27[K", text)
  io.stderr:flush()
  shown = true
end

function M.clear()
  if shown then
    io.stderr:write("\r\27[K")
    io.stderr:flush()
    shown = false
  end
end

return M
