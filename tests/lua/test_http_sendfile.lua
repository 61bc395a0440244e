-- azure.core.http's sendfile path (src/util/sendfile_http.c): file bodies to plain-http loopback go on
-- azlua's own HTTP/1.1 exchange. It must put the same request on the wire as libcurl and give the same
-- res and err, against the local test server (tests/support/httpserver.py).
local t = dofile("tests/lua/lib/testing.lua")
local http = require("azure.core.http")
local lh = dofile("tests/lua/lib/local_http.lua")
local srv, get, parse_echo, server_stats = lh.srv, lh.get, lh.parse_echo, lh.server_stats
local tmpname, write_file, sha256_file, sha256, one_line = lh.tmpname, lh.write_file, lh.sha256_file, lh.sha256, lh.one_line

local function data_file(n)
  local parts, i = {}, 0
  while #parts * 9 < n do
    i = i + 1
    parts[#parts + 1] = string.format("%08d|", i * 7919)
  end
  local data = table.concat(parts):sub(1, n)
  local path = tmpname()
  write_file(path, data)
  return path, data
end

-- Runs one request in a child azlua with the given environment and returns the /echo answer's body.
local function child_echo(env, req_code)
  local code = "local http = require('azure.core.http'); local r = assert(http.request(" .. req_code ..
               ")); io.write(r.body, '\\nstats_sendfile ', http.stats().sendfile_requests, '\\n')"
  local p = assert(io.popen(env .. " " .. t.sh_quote(t.azlua_bin()) .. " -e " .. t.sh_quote(code)))
  local out = p:read("a")
  p:close()
  return out
end

t.test("a file body to loopback goes by sendfile; a string body and AZLUA_SENDFILE=0 do not", function()
  local path, data = data_file(300000)
  local before = http.stats().sendfile_requests
  local res = assert(get("/echo", { method = "PUT", body = { file = path } }))
  t.eq(http.stats().sendfile_requests, before + 1)
  local e = parse_echo(res.body)
  t.eq(tonumber(e.body_len), #data)
  t.eq(e.body_sha256, sha256(data))
  t.eq(res.bytes_sent, #data)
  assert(get("/echo", { method = "PUT", body = data }))
  t.eq(http.stats().sendfile_requests, before + 1, "a string body goes through libcurl")
  local req = string.format("{ url = %q, method = 'PUT', body = { file = %q } }", srv().base .. "/echo", path)
  t.match(child_echo("AZLUA_SENDFILE=0", req), "stats_sendfile 0\n")
  t.match(child_echo("", req), "stats_sendfile 1\n")
end)

t.test("the same request on the wire as libcurl: request line, headers, Content-Length", function()
  local path = data_file(123457)
  local req = string.format([[{ url = %q, method = "PUT", body = { file = %q, offset = 7, length = 100000 },
    headers = { ["x-ms-blob-type"] = "BlockBlob", ["X-Empty"] = "", ["X-List"] = { "a", "b" },
                ["x-ms-version"] = "2025-11-05", ["Content-Type"] = "application/octet-stream" } }]],
    srv().base .. "/echo?comp=block&blockid=QUFBQQ%3D%3D", path)
  local via_curl = parse_echo(child_echo("AZLUA_SENDFILE=0", req))
  local via_sendfile = parse_echo(child_echo("", req))
  for _, k in ipairs { "method", "path", "query", "body_len", "body_sha256", "content_length" } do
    t.eq(via_sendfile[k], via_curl[k], k)
  end
  t.eq(via_sendfile.content_length, "100000")
  local function sorted(list)
    local out = {}
    for i, h in ipairs(list) do out[i] = h[1]:lower() .. ": " .. h[2] end
    table.sort(out)
    return table.concat(out, "\n")
  end
  t.eq(sorted(via_sendfile.header_list), sorted(via_curl.header_list))
  t.eq(via_sendfile.headers["x-empty"], "", "an empty header is sent empty")
  t.eq(via_sendfile.headers["expect"], nil)
end)

t.test("keep-alive: sequential file bodies reuse one connection", function()
  local path = data_file(50000)
  assert(get("/reset"))
  local before = http.stats()
  for i = 1, 10 do
    local res = assert(get("/echo?i=" .. i, { method = "PUT", body = { file = path } }))
    t.eq(res.status, 200)
    t.eq(res.reused, true, "request " .. i)
  end
  t.eq(http.stats().connections_opened - before.connections_opened, 0)
  t.eq(server_stats().connections, 1, "connections the server saw")
end)

t.test("a kept connection the server dropped while idle is not used", function()
  local path = data_file(1000)
  local res = assert(get("/idle-close?s=0.1", { method = "PUT", body = { file = path } }))
  t.eq(res.body, "bye")
  os.execute("sleep 0.4")
  local before = http.stats().connections_opened
  res = assert(get("/echo", { method = "PUT", body = { file = path } }))
  t.eq(res.status, 200)
  t.eq(res.reused, false)
  t.eq(http.stats().connections_opened, before + 1)
  t.eq(res.resent, nil)
end)

t.test("a kept connection that dies unanswered: the request once more on a fresh one, res.resent", function()
  local path = data_file(30000)
  assert(get("/echo", { method = "PUT", body = { file = path } })) -- leaves a kept connection
  local res = assert(get("/drop-once?key=a", { method = "PUT", body = { file = path } }))
  t.eq(res.status, 200)
  t.eq(res.body, "answered 30000")
  t.eq(res.resent, true, "the whole body had gone out the first time")
  t.eq(res.reused, false, "answered on a fresh connection")
end)

t.test("localhost and [::1] URLs (whichever address answers)", function()
  local path = data_file(1000)
  local res = assert(http.request { url = "http://localhost:" .. srv().port .. "/echo", method = "PUT",
                                    body = { file = path } })
  t.eq(parse_echo(res.body).body_len, "1000")
  t.match(parse_echo(res.body).headers["host"], "^localhost:%d+$")
  local _, err = http.request { url = "http://[::1]:1/x", method = "PUT", body = { file = path } }
  t.eq(err.kind, "connect")
  t.match(err.message, "^%[::1%]:1: ")
end)

t.test("a chunked answer with extensions and trailers", function()
  local path = data_file(70000)
  local res = assert(get("/chunked", { method = "PUT", body = { file = path } }))
  t.eq(res.status, 201)
  t.eq(res.body, "hello world")
  t.eq(res.headers["x-body-len"], "70000")
  t.eq(res.headers["transfer-encoding"], "chunked")
  assert(get("/echo", { method = "PUT", body = { file = path } }), "the connection is still good")
end)

t.test("an answer before the body is read: the answer, not an error; the connection is not reused", function()
  local path = data_file(40 * 1024 * 1024)
  local res = assert(get("/answer-early", { method = "PUT", body = { file = path }, timeout = 30 }))
  t.eq(res.status, 403)
  t.match(res.body, "AuthenticationFailed")
  t.eq(res.headers["content-type"], "application/xml")
  t.ok(res.bytes_sent < 40 * 1024 * 1024, "stopped sending: " .. res.bytes_sent)
  local r2 = assert(get("/echo", { method = "PUT", body = { file = path } }))
  t.eq(r2.reused, false)
  t.eq(parse_echo(r2.body).body_sha256, sha256_file(path))
end)

t.test("max_body caps the answer", function()
  local path = data_file(10)
  local res, err = get("/echo", { method = "PUT", body = { file = path }, max_body = 20 })
  t.eq(res, nil)
  t.eq(err.kind, "other")
  t.match(err.message, "max_body")
end)

t.test("failures: refused, closed before reading (no SIGPIPE), closed after, timeout, stalled", function()
  local big = data_file(32 * 1024 * 1024)
  local small = data_file(100)
  local res, err = http.request({ url = "http://127.0.0.1:1/x?sig=SECRET", method = "PUT", body = { file = small } })
  t.eq(res, nil)
  t.eq(err.kind, "connect")
  t.eq(err.sent, false)
  t.eq(type(err.curl_code), "number")
  t.ok(one_line(err.message), err.message)
  t.match(err.message, "^127%.0%.0%.1:1: ")
  t.ok(not err.message:find("SECRET"))
  t.eq(err.url, "http://127.0.0.1:1/x")

  res, err = get("/close-before-read", { method = "PUT", body = { file = big } })
  t.eq(res, nil)
  t.eq(err.kind, "reset")
  t.eq(err.sent, false, "the body could not be sent")
  t.ok(one_line(err.message), err.message)

  res, err = get("/close-after-read", { method = "PUT", body = { file = small } })
  t.eq(err.kind, "reset")
  t.eq(err.sent, true)

  res, err = get("/hang?s=5&sig=SECRET", { method = "PUT", body = { file = small }, timeout = 0.5 })
  t.eq(err.kind, "timeout")
  t.ok(err.elapsed >= 0.4 and err.elapsed < 2, "elapsed " .. tostring(err.elapsed))
  t.eq(err.sent, true)
  t.ok(not err.message:find("SECRET"))

  res, err = get("/hang?s=5", { method = "PUT", body = { file = small }, low_speed_limit = 1, low_speed_time = 1 })
  t.eq(err.kind, "timeout")
  t.ok(err.elapsed < 4, "elapsed " .. tostring(err.elapsed))
  assert(get("/echo", { method = "PUT", body = { file = small } }), "the pool still works")
end)

t.test("a peer that resets mid-body never kills the process with SIGPIPE (30 times)", function()
  -- sendfile can return a partial count with SIGPIPE already raised; the old code let it through
  -- within a few tries.
  local big = data_file(32 * 1024 * 1024)
  for i = 1, 30 do
    local res, err = get("/close-before-read", { method = "PUT", body = { file = big } })
    t.eq(res, nil)
    t.eq(err.kind, "reset", "try " .. i)
  end
end)

t.test("request_many: file bodies in parallel, in order, with progress", function()
  local path, data = data_file(4 * 1024 * 1024 + 11)
  local reqs, n = {}, 8
  local piece = math.floor(#data / n)
  for i = 1, n do
    local off = (i - 1) * piece
    local len = i == n and #data - off or piece
    reqs[i] = { url = srv().base .. "/echo?i=" .. i, method = "PUT", body = { file = path, offset = off, length = len } }
  end
  local last_sent = 0
  local out = http.request_many(reqs, { concurrency = 4, progress = function(s) last_sent = s end })
  for i = 1, n do
    t.eq(out[i].status, 200, "request " .. i)
    local e = parse_echo(out[i].body)
    t.eq(e.query, "i=" .. i)
    local b = reqs[i].body
    t.eq(e.body_sha256, sha256(data:sub(b.offset + 1, b.offset + b.length)), "body " .. i)
  end
  t.eq(last_sent, #data, "progress counts every body byte")
end)

t.test("a file shorter than the request's length is a file error before sending", function()
  local path = data_file(10)
  local res, err = get("/echo", { method = "PUT", body = { file = path, offset = 5, length = 100 } })
  t.eq(res, nil)
  t.eq(err.kind, "file")
  t.eq(err.sent, false)
end)

t.run()
