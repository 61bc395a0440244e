-- Starts a private Azurite (blob service only) for a test file and stops it by PID.
--
--   local azurite = dofile("tests/lua/lib/azurite.lua")
--   local srv = azurite.start()          -- or azurite.start{args={"--loose"}, cleanup={paths removed on stop}}
--   srv.endpoint, srv.account, srv.key, srv.connection_string, srv.port
--   srv.stop()                           -- idempotent; also runs on os.exit and when this process dies
--
-- Port 0 lets Azurite pick a free loopback port (it prints the one it took), so parallel tests never
-- collide. A watchdog shell kills Azurite when the test process goes away, even on a crash, so a
-- failing test never leaks a server.
local M = {}

M.account = "devstoreaccount1"
M.key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

local function source_dir() return os.getenv("AZLUA_SOURCE_DIR") or "." end

function M.binary()
  local bin = source_dir() .. "/tools/node_modules/.bin/azurite-blob"
  local f = io.open(bin, "r")
  if not f then return nil end
  f:close()
  return bin
end

local function sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function read_all(path)
  local f = io.open(path, "rb")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

local function sleep(s)
  local ok, time = pcall(require, "azure.core.time")
  if ok and time.sleep then time.sleep(s) else os.execute("sleep " .. s) end
end

local running = {}

-- os.exit (which testing.lua's run() calls) would skip any cleanup: stop servers first.
local real_exit = os.exit
local function install_exit_hook()
  if os.exit ~= real_exit then return end
  os.exit = function(...)
    for srv in pairs(running) do srv.stop() end
    return real_exit(...)
  end
end

function M.start(opts)
  opts = opts or {}
  local bin = M.binary()
  if not bin then return nil, "Azurite is not installed (run tools/setup.sh --test)" end
  local extra = {}
  for _, a in ipairs(opts.args or {}) do extra[#extra + 1] = sh_quote(a) end
  -- Azurite refuses --location with --inMemoryPersistence; it still wants a working directory,
  -- so it runs in a fresh temp dir that the watchdog removes.
  local script = table.concat({
    "bin=$(realpath " .. sh_quote(bin) .. ") || exit 1",
    "dir=$(mktemp -d /tmp/azlua-azurite.XXXXXX) || exit 1",
    "cd \"$dir\" || exit 1",
    "\"$bin\" --blobHost 127.0.0.1 --blobPort 0 --inMemoryPersistence --disableTelemetry --silent " ..
      table.concat(extra, " ") .. " >\"$dir/log\" 2>&1 </dev/null &",
    "apid=$!",
    -- $PPID is the test process (the shell io.popen started): when it is gone, so is Azurite.
    "( while kill -0 $PPID 2>/dev/null && kill -0 $apid 2>/dev/null; do sleep 1; done;" ..
      " kill $apid 2>/dev/null; sleep 1; kill -9 $apid 2>/dev/null; rm -rf \"$dir\" ) >/dev/null 2>&1 </dev/null &",
    "echo \"$apid $dir\"",
  }, "\n")
  local p = io.popen(script, "r")
  local line = p:read("l")
  p:close()
  local pid, dir = (line or ""):match("^(%d+) (%S+)$")
  if not pid then return nil, "could not start Azurite" end
  local srv = { pid = tonumber(pid), dir = dir, account = M.account, key = M.key }
  local stopped = false
  function srv.stop()
    if stopped then return end
    stopped = true
    running[srv] = nil
    os.execute("kill " .. srv.pid .. " 2>/dev/null")
    for _, path in ipairs(opts.cleanup or {}) do os.execute("rm -rf " .. sh_quote(path)) end
  end
  running[srv] = true
  install_exit_hook()
  local deadline = os.time() + (opts.timeout or 30)
  while true do
    local log = read_all(dir .. "/log")
    local port = log:match("successfully listens on https?://127%.0%.0%.1:(%d+)")
    if port then
      srv.port = tonumber(port)
      srv.scheme = log:match("listens on (https?)://")
      break
    end
    if log:find("Exit due to", 1, true) or os.time() > deadline then
      srv.stop()
      return nil, "Azurite did not start: " .. log
    end
    sleep(0.05)
  end
  srv.endpoint = string.format("%s://127.0.0.1:%d/%s", srv.scheme, srv.port, M.account)
  srv.connection_string = string.format("DefaultEndpointsProtocol=%s;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;",
    srv.scheme, M.account, M.key, srv.endpoint)
  return srv
end

-- For tests: start or skip with a printed reason.
function M.start_or_skip(t, opts)
  local srv, err = M.start(opts)
  if not srv then
    print("notice: " .. err)
    t.skip(err)
  end
  return srv
end

return M
