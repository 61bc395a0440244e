-- Starts the local emulator (tests/emulator) for a Lua test and guarantees it stops:
--   local emu = dofile("tests/lua/lib/emulator.lua").start{faults="429=0.1", lro_polls=2}
--   emu.endpoints.arm, emu.endpoints.tenant, … ; emu.cloud (azure.cloud "local"); emu.stop()
-- The process is stopped by emu.stop(), at os.exit (t.run ends with it), when the Lua state is
-- closed, and by a watchdog shell if this process dies without any of those.
local M = {}

local running = {}

local function stop_all()
  for _, e in pairs(running) do e.stop() end
end

local real_exit = os.exit
os.exit = function(...) stop_all(); return real_exit(...) end
-- Finalizer for a Lua state closed without os.exit (an error in the main chunk). Anchored in
-- package.loaded so that it lives as long as the state, not as long as this module table.
package.loaded["tests.lua.lib.emulator.guard"] = setmetatable({}, { __gc = stop_all })

local function shq(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function read_all(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

function M.start(opts)
  opts = opts or {}
  local sys = require "azure.core.sys"
  local json = require "azure.core.json"
  local root = os.getenv("AZLUA_SOURCE_DIR") or "."
  local dir = os.tmpname()
  os.remove(dir)
  dir = dir .. "-emu"
  assert(os.execute("mkdir -p " .. shq(dir)))
  local endpoints = dir .. "/endpoints.json"
  local args = { "/usr/bin/python3", root .. "/tests/emulator", "--port", "0", "--state", dir .. "/state",
                 "--endpoints", endpoints }
  if opts.faults then args[#args + 1] = "--faults"; args[#args + 1] = opts.faults end
  for _, k in ipairs{ "lro_polls", "retry_after", "provider_polls", "page_size", "token_lifetime", "autoscale_interval" } do
    if opts[k] then
      args[#args + 1] = "--" .. k:gsub("_", "-")
      args[#args + 1] = tostring(opts[k])
    end
  end
  for _, a in ipairs(opts.args or {}) do args[#args + 1] = a end
  local cmd = {}
  for i, a in ipairs(args) do cmd[i] = shq(a) end
  local parent = sys.getpid()
  -- Watchdog: the emulator ends when this test process does, however it ends.
  local script = cmd[1] .. " " .. table.concat(cmd, " ", 2) .. " >" .. shq(dir .. "/emulator.log") .. " 2>&1 & e=$!; echo $e; "
    .. "while kill -0 " .. parent .. " 2>/dev/null && kill -0 $e 2>/dev/null; do sleep 1; done; kill $e 2>/dev/null"
  local p = io.popen("sh -c " .. shq(script) .. " </dev/null & ", "r")
  local pid = tonumber(p:read("l"))
  p:close()
  assert(pid, "could not start the emulator")
  local emu = { dir = dir, pid = pid }
  local stopped = false
  function emu.stop()
    if stopped then return end
    stopped = true
    running[emu] = nil
    os.execute("kill -TERM " .. pid .. " 2>/dev/null")
    -- wait up to 5 s for it to go, then make sure
    for _ = 1, 50 do
      if not os.execute("kill -0 " .. pid .. " 2>/dev/null") then break end
      require("azure.core.time").sleep(0.1)
    end
    os.execute("kill -KILL " .. pid .. " 2>/dev/null")
    if not opts.keep then os.execute("rm -rf " .. shq(dir)) end
  end
  running[emu] = emu
  local time = require "azure.core.time"
  local deadline = time.monotonic() + (opts.wait or 30)
  while true do
    local text = read_all(endpoints)
    if text and text ~= "" then
      local ok, e = pcall(json.decode, text)
      if ok then emu.endpoints = e; break end
    end
      if not os.execute("kill -0 " .. pid .. " 2>/dev/null") or time.monotonic() > deadline then
      local log = read_all(dir .. "/emulator.log") or ""
      emu.stop()
      error("the emulator did not start:\n" .. log, 2)
    end
    time.sleep(0.05)
  end
  emu.endpoints_path = endpoints
  emu.cloud = require("azure.cloud").load_local(endpoints)
  function emu.log() return read_all(dir .. "/emulator.log") end
  -- Admin API (faults on demand, principals): plain http on loopback.
  function emu.admin(method, path, body)
    local http = require "azure.core.http"
    local res, err = http.request{ method = method, url = emu.endpoints.admin .. path,
      headers = { ["Content-Type"] = "application/json" }, body = body and json.encode(body) or nil }
    assert(res, err and err.message)
    return res.status, res.body ~= "" and json.decode(res.body) or nil
  end
  return emu
end

return M
