-- azure.repl: the REPL session, called by the host (src/host/repl.c) and loaded only when the REPL
-- starts, so `azlua script.lua` and `azlua -e` never pay for it.
--
--   repl.start{debug=, color=} → banner text   installs the session globals on _G (the one place
--                                               that sets globals: azure, arm, batch, blob, cred, help)
--   repl.call(f)                                runs a chunk; an error is kept whole in `lasterror`
--   repl.show(...)                              prints results for people (azure.repl.show)
--   repl.rewrite(line) → chunk|nil              "?batch.add_pool" → help("batch.add_pool")
local M = {}

M.options = { debug = false, color = false }

function M.start(opts)
  M.options = opts or M.options
  local env = require "azure.repl.env"
  _G.azure = require "azure"
  _G.help = function(...) return require("azure.help").help(...) end
  env.install(_G)
  require("azure.repl.names").install()
  return env.banner()
end

-- Keeps the error value as it was raised (an azure.errors object with status, code, details, …)
-- in `lasterror`, and its traceback in `lasterror_traceback`, then re-raises it for the host to
-- print as one line. An interrupt is not an error worth keeping.
function M.call(f)
  local function handler(e)
    local s = type(e) == "string" and e or nil
    if not (s and s:find("interrupted!", 1, true)) then
      rawset(_G, "lasterror", e)
      rawset(_G, "lasterror_traceback", debug.traceback(s or tostring(e), 2))
    end
    if M.options.debug then return debug.traceback(s or tostring(e), 2) end
    return e
  end
  local r = table.pack(xpcall(f, handler))
  -- an interrupted wait leaves its progress line behind; resource names may have changed
  local progress, names = package.loaded["azure.progress"], package.loaded["azure.repl.names"]
  if progress then progress.clear() end
  if names then names.invalidate() end
  if not r[1] then
    local e = r[2]
    local mt = type(e) == "table" and getmetatable(e)
    if type(e) == "table" and not (mt and mt.__tostring) then
      -- a plain table raised as an error: say what is in it, on one line
      local ok, s = pcall(require("azure.core.json").encode, e)
      s = ok and s or tostring(e)
      if #s > 200 then s = s:sub(1, 199) .. "…" end
      e = "error object " .. s .. " (whole in lasterror)"
    end
    error(e, 0)
  end
  return table.unpack(r, 2, r.n)
end

function M.show(...) return require("azure.repl.show").show(...) end

function M.rewrite(line)
  local rest = line:match("^%s*%?%s*(.-)%s*$")
  if not rest then return nil end
  if rest == "" then return "return help()" end
  return ("return help(%q)"):format(rest)
end

return M
