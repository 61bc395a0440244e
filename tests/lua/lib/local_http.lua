-- The local HTTP test server (tests/support/httpserver.py, Python stdlib) and helpers shared by the
-- azure.core.http tests. Servers are stopped and temporary files removed when the runner exits.
local http = require("azure.core.http")

local servers, tmpfiles = {}, {}

local function start_server(args)
  local cmd = "exec /usr/bin/python3 tests/support/httpserver.py " .. (args or "")
  local p = assert(io.popen(cmd, "r"))
  local line = p:read("l") or ""
  local port, pid = line:match("^(%d+) (%d+)$")
  assert(port, "the test server did not start")
  local s = { port = tonumber(port), pid = pid, pipe = p, base = "http://127.0.0.1:" .. port }
  servers[#servers + 1] = s
  return s
end

local function stop_servers()
  for _, s in ipairs(servers) do
    os.execute("kill " .. s.pid .. " 2>/dev/null")
    s.pipe:close()
  end
  servers = {}
end

local real_exit = os.exit
os.exit = function(...) -- the runner exits at the end: stop the servers, remove temporary files
  stop_servers()
  for _, f in ipairs(tmpfiles) do os.remove(f) end
  return real_exit(...)
end

local main_server
local function srv()
  main_server = main_server or start_server()
  return main_server
end

local function get(path, req)
  req = req or {}
  req.url = srv().base .. path
  return http.request(req)
end

-- /echo answers with lines "key value" and "header Name: value".
local function parse_echo(body)
  local e = { header_list = {}, headers = {} }
  for line in body:gmatch("[^\n]+") do
    local k, v = line:match("^(%S+) ?(.*)$")
    if k == "header" then
      local n, hv = v:match("^(.-): ?(.*)$")
      e.header_list[#e.header_list + 1] = { n, hv }
      e.headers[n:lower()] = hv
    else
      e[k] = v
    end
  end
  return e
end

local function server_stats()
  local res = assert(get("/stats"))
  local s = {}
  for k, v in res.body:gmatch("(%S+) (%d+)") do s[k] = tonumber(v) end
  return s
end

local function tmpname()
  local n = os.tmpname()
  tmpfiles[#tmpfiles + 1] = n
  return n
end

local function write_file(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

local function sha256_file(path)
  local p = assert(io.popen("sha256sum '" .. path .. "'"))
  local out = p:read("l")
  p:close()
  return out:match("^(%x+)")
end

local function sha256(s)
  local path = tmpname()
  write_file(path, s)
  return sha256_file(path)
end

local function file_size(path)
  local f = assert(io.open(path, "rb"))
  local n = f:seek("end")
  f:close()
  return n
end

local function status_kb(field)
  local f = assert(io.open("/proc/self/status"))
  local s = f:read("a")
  f:close()
  return tonumber(s:match(field .. ":%s*(%d+) kB"))
end

local function one_line(s) return type(s) == "string" and not s:find("[\r\n]") end

return { start_server = start_server, stop_servers = stop_servers, srv = srv, get = get, parse_echo = parse_echo, server_stats = server_stats, tmpname = tmpname, write_file = write_file, sha256_file = sha256_file, sha256 = sha256, file_size = file_size, status_kb = status_kb, one_line = one_line }
