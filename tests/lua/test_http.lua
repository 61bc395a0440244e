-- azure.core.http against a real local server (tests/support/httpserver.py, Python stdlib).
local t = dofile("tests/lua/lib/testing.lua")
local http = require("azure.core.http")
local crypto = require("azure.core.crypto")

-- ---- servers and helpers (tests/lua/lib/local_http.lua) ------------------------------------------

local lh = dofile("tests/lua/lib/local_http.lua")
local start_server, srv, get, parse_echo, server_stats = lh.start_server, lh.srv, lh.get, lh.parse_echo, lh.server_stats
local tmpname, write_file, sha256_file, sha256 = lh.tmpname, lh.write_file, lh.sha256_file, lh.sha256
local file_size, status_kb, one_line = lh.file_size, lh.status_kb, lh.one_line

-- ---- start-up -----------------------------------------------------------------------------------

t.test("libcurl is not loaded before the first request", function()
  t.eq(http.stats().curl_loaded, false)
  local f = assert(io.open("/proc/self/maps"))
  local maps = f:read("a")
  f:close()
  t.ok(not maps:find("libcurl", 1, true), "libcurl is mapped at start-up")
end)

-- ---- requests and responses ---------------------------------------------------------------------

t.test("GET round trip: status, headers as sent and received, body", function()
  local res = assert(get("/echo?x=1", {
    headers = { ["X-Test"] = "v1", ["x-ms-date"] = "Tue, 01 Dec 2026 10:00:00 GMT", ["X-Rep"] = { "a", "b" },
                ["X-Num"] = 42, ["X-Empty"] = "" },
  }))
  t.eq(res.status, 200)
  t.eq(res.http_version, "1.1")
  t.eq(res.headers["content-type"], "text/plain")
  t.eq(res.headers["x-mixed-case"], "Yes")
  t.eq(res.headers["x-multi"], "two", "last value wins")
  local multi, cookies, mixed = {}, {}, nil
  for _, h in ipairs(res.header_list) do
    if h[1] == "X-Multi" then multi[#multi + 1] = h[2] end
    if h[1] == "Set-Cookie" then cookies[#cookies + 1] = h[2] end
    if h[1]:lower() == "x-mixed-case" then mixed = h[1] end
  end
  t.eq(multi, { "one", "two" })
  t.eq(cookies, { "a=1", "b=2" })
  t.eq(mixed, "X-Mixed-Case", "header_list keeps the name as received")
  local e = parse_echo(res.body)
  t.eq(e.method, "GET")
  t.eq(e.query, "x=1")
  t.eq(e.content_length, "-", "a GET sends no body")
  local rep, names = {}, {}
  for _, h in ipairs(e.header_list) do
    if h[1] == "X-Rep" then rep[#rep + 1] = h[2] end
    names[h[1]] = h[2]
  end
  t.eq(rep, { "a", "b" }, "a list sends a repeated header")
  t.eq(names["X-Test"], "v1", "names are sent exactly as given")
  t.eq(names["x-ms-date"], "Tue, 01 Dec 2026 10:00:00 GMT")
  t.eq(names["X-Num"], "42")
  t.eq(names["X-Empty"], "")
  t.match(e.headers["user-agent"], "^azlua/")
  t.eq(e.headers["expect"], nil)
  t.eq(e.headers["content-type"], nil)
  t.eq(type(res.elapsed), "number")
  t.eq(res.bytes_sent, 0)
  t.eq(res.bytes_received, #res.body)
end)

t.test("any status is a response, not an error", function()
  for _, code in ipairs({ 201, 304, 404, 409, 500, 503 }) do
    local res, err = get("/status?code=" .. code)
    t.ok(res, err and err.message)
    t.eq(res.status, code)
    if code ~= 304 then t.eq(res.body, "status " .. code) end
  end
end)

t.test("HEAD returns headers and no body", function()
  local res = assert(get("/echo", { method = "HEAD" }))
  t.eq(res.status, 200)
  t.eq(res.body, "")
  t.ok(tonumber(res.headers["content-length"]) > 0)
  t.eq(assert(get("/echo")).status, 200, "the connection is in sync after HEAD")
end)

t.test("PUT with a string body", function()
  local body = string.rep("azlua-", 200000) .. "end"
  local res = assert(get("/echo", { method = "PUT", body = body,
                                    headers = { ["Content-Type"] = "application/octet-stream" } }))
  local e = parse_echo(res.body)
  t.eq(e.method, "PUT")
  t.eq(tonumber(e.body_len), #body)
  t.eq(e.body_sha256, sha256(body))
  t.eq(e.headers["content-type"], "application/octet-stream")
  t.eq(e.headers["expect"], nil, "no Expect: 100-continue on a large body")
  t.eq(res.bytes_sent, #body)
end)

t.test("PUT with a file body at offset and length", function()
  local parts = {}
  for i = 1, 30000 do parts[i] = string.format("%08d|", i * 7919) end
  local data = table.concat(parts)
  local path = tmpname()
  write_file(path, data)
  local res = assert(get("/echo", { method = "PUT", body = { file = path, offset = 1001, length = 150001 } }))
  local e = parse_echo(res.body)
  t.eq(tonumber(e.body_len), 150001)
  t.eq(e.body_sha256, sha256(data:sub(1002, 1001 + 150001)))
  -- the rest of the file from an offset, length defaulted
  res = assert(get("/echo", { method = "POST", body = { file = path, offset = 5 } }))
  e = parse_echo(res.body)
  t.eq(tonumber(e.body_len), #data - 5)
  t.eq(e.body_sha256, sha256(data:sub(6)))
end)

t.test("POST, PUT and PATCH without a body send Content-Length: 0; DELETE sends none", function()
  for _, m in ipairs({ "POST", "PUT", "PATCH" }) do
    local e = parse_echo(assert(get("/echo", { method = m })).body)
    t.eq(e.method, m)
    t.eq(e.content_length, "0", m)
  end
  local e = parse_echo(assert(get("/echo", { method = "DELETE" })).body)
  t.eq(e.method, "DELETE")
  t.eq(e.content_length, "-")
end)

t.test("max_body caps a string body", function()
  local res, err = get("/data?length=100000", { max_body = 1000 })
  t.eq(res, nil)
  t.eq(err.kind, "other")
  t.match(err.message, "max_body")
  res = assert(get("/data?length=1000", { max_body = 1000 }))
  t.eq(#res.body, 1000)
end)

-- ---- the connection pool ------------------------------------------------------------------------

t.test("keep-alive: 20 sequential requests on one connection", function()
  assert(get("/reset"))
  local before = http.stats()
  for i = 1, 20 do
    local res = assert(get("/echo?i=" .. i))
    t.eq(res.status, 200)
    t.eq(res.reused, true, "request " .. i)
  end
  local after = http.stats()
  t.eq(after.connections_opened - before.connections_opened, 0)
  t.eq(after.requests - before.requests, 20)
  t.eq(server_stats().connections, 1, "connections the server saw")
end)

t.test("request_many runs requests concurrently and keeps their order", function()
  assert(get("/reset"))
  local reqs = {}
  for i = 1, 16 do reqs[i] = { url = srv().base .. "/sleep?s=0.3&i=" .. i } end
  local out = http.request_many(reqs, { concurrency = 8 })
  t.eq(#out, 16)
  for i = 1, 16 do
    t.eq(out[i].status, 200, "request " .. i)
    t.eq(out[i].body, "slept")
  end
  t.ok(server_stats().max_active >= 4, "max concurrency seen by the server >= 4")
  reqs = {}
  for i = 1, 40 do reqs[i] = { url = srv().base .. "/echo?i=" .. i } end
  out = http.request_many(reqs)
  for i = 1, 40 do t.eq(parse_echo(out[i].body).query, "i=" .. i) end
end)

t.test("request_many: a refused request is an entry, not an error", function()
  local out = http.request_many({
    { url = srv().base .. "/echo" },
    { url = "http://192.0.2.1/x?sig=SECRET" },
    { url = "http://127.0.0.1:1/" },
    { url = srv().base .. "/status?code=404" },
  })
  t.eq(out[1].status, 200)
  t.eq(out[2].kind, "insecure")
  t.eq(out[2].status, nil)
  t.eq(out[3].kind, "connect")
  t.eq(out[4].status, 404)
  t.eq(http.request_many({}), {})
end)

-- ---- streaming ----------------------------------------------------------------------------------

t.test("200 MB streamed to a file: size, SHA-256, flat memory", function()
  local size = 200 * 1024 * 1024
  local path = tmpname()
  local rss0 = status_kb("VmRSS")
  local res = assert(get("/data?length=" .. size, { output = path, timeout = 60 }))
  t.eq(res.status, 200)
  t.eq(res.body, "")
  t.eq(res.bytes_received, size)
  local hwm = status_kb("VmHWM")
  t.eq(file_size(path), size)
  t.eq(sha256_file(path), assert(get("/hash?length=" .. size)).body)
  -- peak RSS stays flat: a few MB over the baseline (sanitizer builds start higher)
  t.ok(hwm - rss0 < 24 * 1024, string.format("peak RSS grew by %d kB", hwm - rss0))
  if rss0 < 16 * 1024 then t.ok(hwm < 40 * 1024, string.format("VmHWM %d kB", hwm)) end
  os.remove(path)
end)

t.test("200 MB streamed from a file: flat memory", function()
  local path = tmpname()
  local size = 200 * 1024 * 1024
  assert(os.execute("head -c " .. size .. " /dev/zero > '" .. path .. "'"))
  local rss0 = status_kb("VmRSS")
  local res = assert(get("/echo", { method = "PUT", body = { file = path }, timeout = 60 }))
  local hwm = status_kb("VmHWM")
  local e = parse_echo(res.body)
  t.eq(tonumber(e.body_len), size)
  t.eq(e.body_sha256, sha256_file(path))
  t.ok(hwm - rss0 < 24 * 1024, string.format("peak RSS grew by %d kB", hwm - rss0))
  os.remove(path)
end)

t.test("ranged downloads into one file at offsets, with progress", function()
  local size = 8 * 1024 * 1024 + 12345
  local path = tmpname()
  local f = assert(io.open(path, "wb"))
  f:seek("set", size - 1)
  f:write("\0")
  f:close()
  local piece = 1024 * 1024
  local reqs = {}
  for off = 0, size - 1, piece do
    local len = math.min(piece, size - off)
    reqs[#reqs + 1] = { url = srv().base .. "/data?offset=" .. off .. "&length=" .. len,
                        output = { file = path, offset = off } }
  end
  local calls, last = 0, nil
  local out = http.request_many(reqs, { concurrency = 4, progress = function(s, r)
    calls = calls + 1
    last = { s, r }
  end })
  for i = 1, #reqs do
    t.eq(out[i].status, 200)
    t.eq(out[i].body, "")
  end
  t.eq(file_size(path), size)
  t.eq(sha256_file(path), assert(get("/hash?length=" .. size)).body)
  t.ok(calls >= 1)
  t.eq(last, { 0, size }, "final progress")
end)

t.test("direct output: ranged downloads land at their offsets, a cut body is an error, a retry rewrites it", function()
  local size = 3 * 1024 * 1024 + 777
  local path = tmpname()
  local f = assert(io.open(path, "wb")); f:close()
  local piece = 1024 * 1024
  local reqs = {}
  for off = 0, size - 1, piece do
    local len = math.min(piece, size - off)
    reqs[#reqs + 1] = { url = srv().base .. "/data?offset=" .. off .. "&length=" .. len,
                        output = { file = path, offset = off, direct = true } }
  end
  local out = http.request_many(reqs, { concurrency = 3 })
  for i = 1, #reqs do t.eq(out[i].status, 200) end
  t.eq(file_size(path), size)
  t.eq(sha256_file(path), assert(get("/hash?length=" .. size)).body)
  -- a body cut after 1000 bytes: an error, and nothing staged is written as if it were complete
  local cut = tmpname()
  local _, err = get("/close-mid-body", { output = { file = cut, offset = 0, direct = true } })
  t.eq(err.kind, "reset")
  -- the same range fetched again into a file that holds garbage: overwritten exactly
  f = assert(io.open(cut, "wb")); f:write(string.rep("#", 5000)); f:close()
  local res = assert(get("/data?offset=0&length=4096", { output = { file = cut, offset = 0, direct = true } }))
  t.eq(res.status, 200)
  f = assert(io.open(cut, "rb")); local got = f:read("a"); f:close()
  t.eq(#got, 5000)
  t.eq(crypto.hex(crypto.sha256(got:sub(1, 4096))), assert(get("/hash?length=4096")).body)
  t.eq(got:sub(4097), string.rep("#", 904))
end)

t.test("output: a non-2xx body is returned, the file is left alone; bad paths are kind file", function()
  local path = tmpname()
  write_file(path, "keep")
  local res = assert(get("/status?code=404", { output = { file = path } }))
  t.eq(res.status, 404)
  t.eq(res.body, "status 404")
  local f = assert(io.open(path, "rb"))
  t.eq(f:read("a"), "keep")
  f:close()
  local before = http.stats().requests
  local _, err = get("/echo", { output = "/nonexistent/dir/file" })
  t.eq(err.kind, "file")
  t.match(err.message, "/nonexistent/dir/file")
  _, err = get("/echo", { method = "PUT", body = { file = "/nonexistent/body" } })
  t.eq(err.kind, "file")
  _, err = get("/echo", { method = "PUT", body = { file = path, offset = 2, length = 10 } })
  t.eq(err.kind, "file")
  t.match(err.message, "shorter")
  t.eq(http.stats().requests, before, "nothing was sent")
end)

-- ---- failures -----------------------------------------------------------------------------------

t.test("a server that never answers: kind timeout within the timeout", function()
  local res, err = get("/hang?sig=SECRET", { timeout = 0.5 })
  t.eq(res, nil)
  t.eq(err.kind, "timeout")
  t.ok(err.elapsed >= 0.4 and err.elapsed < 2, "elapsed " .. tostring(err.elapsed))
  t.eq(err.sent, true)
  t.ok(one_line(err.message))
  t.ok(not err.message:find("SECRET"), "query string in the message")
  t.eq(err.url, srv().base .. "/hang")
end)

t.test("low_speed_limit/low_speed_time abort a stalled transfer", function()
  local res, err = get("/hang", { low_speed_limit = 1, low_speed_time = 1, timeout = 10 })
  t.eq(res, nil)
  t.eq(err.kind, "timeout")
  t.ok(err.elapsed < 5)
end)

t.test("connection refused: kind connect, not sent", function()
  local res, err = http.request({ url = "http://127.0.0.1:1/x?sig=SECRET", method = "POST", body = "x" })
  t.eq(res, nil)
  t.eq(err.kind, "connect")
  t.eq(err.sent, false)
  t.eq(err.status, nil)
  t.eq(type(err.curl_code), "number")
  t.ok(one_line(err.message))
  t.match(err.message, "127%.0%.0%.1")
  t.ok(not err.message:find("SECRET"))
  t.eq(err.url, "http://127.0.0.1:1/x")
end)

t.test("a server that closes mid-body: kind reset, clean message", function()
  local res, err = get("/close-mid-body")
  t.eq(res, nil)
  t.eq(err.kind, "reset")
  t.eq(err.status, nil, "an err never has .status")
  t.eq(err.http_status, 200, "the status line had arrived")
  t.eq(err.sent, true)
  t.ok(one_line(err.message), err.message)
  -- streamed to a file, the same
  res, err = get("/close-mid-body", { output = tmpname() })
  t.eq(err.kind, "reset")
  assert(get("/echo"), "the pool still works")
end)

t.test("err.sent: closed before the request was read vs after", function()
  local big = string.rep("z", 32 * 1024 * 1024)
  local res, err = get("/close-before-read", { method = "PUT", body = big })
  t.eq(res, nil)
  t.eq(err.kind, "reset")
  t.eq(err.sent, false, "the body could not be sent")
  res, err = get("/close-after-read", { method = "POST", body = "payload" })
  t.eq(res, nil)
  t.eq(err.kind, "reset")
  t.eq(err.sent, true, "the whole request was read by the server")
  t.ok(one_line(err.message))
  res, err = get("/close-after-read")
  t.eq(err.kind, "reset")
  t.eq(err.sent, true)
end)

t.test("plain http to a non-loopback host is refused before connecting", function()
  local before = http.stats()
  for _, url in ipairs({ "http://192.0.2.1/x?sig=SECRET", "http://example.com/", "http://10.0.0.1:8080/",
                          "http://127.0.0.1.example.com/", "http://[2001:db8::1]/" }) do
    local res, err = http.request({ url = url, timeout = 5 })
    t.eq(res, nil)
    t.eq(err.kind, "insecure", url)
    t.eq(err.sent, false)
    t.ok(err.elapsed < 0.05)
    t.ok(not err.message:find("SECRET"))
  end
  local _, err = http.request({ url = "http://192.0.2.1/x?sig=SECRET" })
  t.eq(err.message, "refusing plain http to 192.0.2.1: use https")
  local after = http.stats()
  t.eq(after.requests, before.requests, "no transfer was started")
  t.eq(after.connections_opened, before.connections_opened)
  -- loopback by name is plain-http territory
  local res = assert(http.request({ url = "http://localhost:" .. srv().port .. "/echo" }))
  t.eq(res.status, 200)
end)

t.test("proxy variables: https goes through https_proxy, loopback never does", function()
  local bin = os.getenv("AZLUA_BIN") or arg[-1]
  local before = server_stats().tunnels
  local code = "local h = require('azure.core.http'); "
    .. "local _, e = h.request({url='https://azlua-proxy-test.example/x'}); io.write(e.kind, ' '); "
    .. "local r = assert(h.request({url='" .. srv().base .. "/echo'})); io.write(r.status)"
  local p = assert(io.popen(string.format("https_proxy=%s http_proxy=http://127.0.0.1:1 no_proxy= %s -e %q",
    srv().base, bin, code)))
  local out = p:read("a")
  p:close()
  t.eq(server_stats().tunnels, before + 1, "the https request asked the proxy for a tunnel")
  local kind, status = out:match("^(%S+) (%d+)$")
  t.eq(kind, "connect", "the proxy refused the tunnel")
  t.eq(status, "200", "plain http to loopback bypassed the (dead) http_proxy")
end)

-- ---- TLS ----------------------------------------------------------------------------------------

local function make_certs()
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir))
  local ext = dir .. "/ext.cnf"
  write_file(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n")
  local q = " >/dev/null 2>&1"
  local cmds = {
    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=azlua-test-ca"
      .. " -keyout " .. dir .. "/ca.key -out " .. dir .. "/ca.crt" .. q,
    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=localhost"
      .. " -keyout " .. dir .. "/srv.key -out " .. dir .. "/srv.csr" .. q,
    "openssl x509 -req -in " .. dir .. "/srv.csr -CA " .. dir .. "/ca.crt -CAkey " .. dir .. "/ca.key"
      .. " -CAcreateserial -days 2 -extfile " .. ext .. " -out " .. dir .. "/srv.crt" .. q,
  }
  for _, c in ipairs(cmds) do assert(os.execute(c), "openssl failed: " .. c) end
  return dir
end

t.test("TLS: verified with ca_file, kind tls without it", function()
  local dir = make_certs()
  local s = start_server("--tls " .. dir .. "/srv.crt " .. dir .. "/srv.key")
  local url = "https://127.0.0.1:" .. s.port .. "/echo?sig=SECRET"
  local res, err = http.request({ url = url, ca_file = dir .. "/ca.crt" })
  t.ok(res, err and err.message)
  t.eq(res.status, 200)
  res = assert(http.request({ url = "https://localhost:" .. s.port .. "/echo", ca_file = dir .. "/ca.crt" }))
  t.eq(res.status, 200)
  res = assert(http.request({ url = url, ca_file = dir .. "/ca.crt" }))
  t.eq(res.reused, true, "TLS connections are kept alive too")
  res, err = http.request({ url = url })
  t.eq(res, nil)
  t.eq(err.kind, "tls")
  t.ok(one_line(err.message))
  t.match(err.message, "certificate")
  t.ok(not err.message:find("SECRET"))
  -- the right CA but another name: host name verification is on
  res, err = http.request({ url = "https://127.0.0.2:" .. s.port .. "/echo", ca_file = dir .. "/ca.crt",
                           connect_timeout = 2 })
  t.eq(res, nil)
  t.ok(err.kind == "tls" or err.kind == "connect", err.kind)
  os.execute("rm -rf " .. dir)
end)

-- ---- hook, misuse, interrupt --------------------------------------------------------------------

t.test("the hook sees every request, without the query string", function()
  local seen = {}
  http.set_hook(function(info) seen[#seen + 1] = info end)
  local ok, e = pcall(function()
    assert(get("/echo?sig=SECRET&x=1", { method = "PUT", body = "abc" }))
    http.request({ url = "http://127.0.0.1:1/y?sig=SECRET" })
    http.request_many({ { url = srv().base .. "/status?code=404&sig=SECRET" } })
  end)
  http.set_hook(nil)
  assert(ok, e)
  t.eq(#seen, 3)
  t.eq(seen[1].method, "PUT")
  t.eq(seen[1].url, srv().base .. "/echo")
  t.eq(seen[1].status, 200)
  t.eq(seen[1].kind, nil)
  t.eq(seen[1].bytes_sent, 3)
  t.ok(seen[1].bytes_received > 0)
  t.eq(type(seen[1].elapsed), "number")
  t.eq(type(seen[1].reused), "boolean")
  t.eq(seen[2].method, "GET")
  t.eq(seen[2].kind, "connect")
  t.eq(seen[2].status, nil)
  t.eq(seen[3].status, 404)
  for _, info in ipairs(seen) do t.ok(not info.url:find("SECRET")) end
  -- an error in the hook propagates, and the pool stays usable
  http.set_hook(function() error("hook failed") end)
  t.raises(function() get("/echo") end, "hook failed")
  local reqs = {}
  for i = 1, 6 do reqs[i] = { url = srv().base .. "/sleep?s=0.2" } end
  t.raises(function() http.request_many(reqs) end, "hook failed")
  http.set_hook(function() http.request({ url = srv().base .. "/echo" }) end)
  t.raises(function() get("/echo") end, "from a hook")
  http.set_hook(nil)
  t.eq(#http.request_many(reqs), 6)
  t.eq(assert(get("/echo")).status, 200)
end)

t.test("misuse raises", function()
  t.raises(function() http.request() end)
  t.raises(function() http.request({}) end, "req.url must be a string")
  t.raises(function() http.request({ url = 5 }) end, "req.url")
  t.raises(function() http.request({ url = "ftp://127.0.0.1/" }) end, "http or https")
  t.raises(function() http.request({ url = "not a url" }) end, "req.url")
  t.raises(function() http.request({ url = srv().base, method = "GE T" }) end, "method")
  t.raises(function() http.request({ url = srv().base, headers = { ["Bad Name"] = "x" } }) end, "header name")
  t.raises(function() http.request({ url = srv().base, headers = { ["X-A"] = "a\r\nX-Injected: 1" } }) end,
    "line break")
  t.raises(function() http.request({ url = srv().base, headers = { ["X-A"] = true } }) end, "X%-A")
  t.raises(function() http.request({ url = srv().base, body = 5 }) end, "req.body")
  t.raises(function() http.request({ url = srv().base, timeout = "1" }) end, "req.timeout")
  t.raises(function() http.request({ url = srv().base, output = {} }) end, "output.file")
  t.raises(function() http.request({ url = srv().base, method = "HEAD", body = "x" }) end, "HEAD")
  assert(get("/reset"))
  t.raises(function() http.request_many({ { url = srv().base .. "/echo" }, {} }) end, "reqs%[2%]%.url")
  t.raises(function() http.request_many({}, { concurrency = 0 }) end, "concurrency")
  t.eq(server_stats().requests, 1, "a bad request_many sends nothing")
  t.raises(function() http.set_hook(5) end)
end)

t.test("Ctrl-C stops a waiting request: cleaned up, one line, exit 1", function()
  local bin = os.getenv("AZLUA_BIN") or arg[-1]
  local errfile = tmpname()
  local code = "require('azure.core.http').request({url='" .. srv().base .. "/hang?s=20'})"
  local script = tmpname()
  write_file(script, string.format('%s -e "%s" 2>%s & pid=$!\nsleep 0.5\nkill -INT $pid\nwait $pid\necho $?\n',
    bin, code, errfile))
  local t0 = os.time()
  local p = assert(io.popen("sh " .. script))
  local rc = p:read("l")
  p:close()
  t.ok(os.time() - t0 < 5, "the request was interrupted")
  t.eq(rc, "1")
  local f = assert(io.open(errfile))
  t.eq(f:read("a"), "azlua: interrupted!\n")
  f:close()
end)

t.run()
