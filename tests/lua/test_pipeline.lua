-- The request pipeline against a scripted fake transport: retries, Retry-After, idempotency,
-- on_replay, error decoding, send_many. No network, no emulator.
local t = dofile("tests/lua/lib/testing.lua")
local pipeline = require "azure.pipeline"
local errors = require "azure.errors"

-- A transport that answers from a script: each entry is a res table or {kind=..} transport error.
local function fake(script)
  local tr = { calls = {} }
  local i = 0
  local function next_answer(req)
    tr.calls[#tr.calls + 1] = req
    i = i + 1
    local a = script[i] or script[#script]
    if type(a) == "function" then a = a(req) end
    if a.kind then return nil, a end
    local res = { status = a.status, headers = a.headers or {}, body = a.body or "", resent = a.resent }
    return res
  end
  tr.request = next_answer
  function tr.request_many(reqs)
    local out = {}
    for j, r in ipairs(reqs) do
      local res, err = next_answer(r)
      out[j] = res or err
    end
    return out
  end
  return tr
end

local slept
local function new(script, opts)
  opts = opts or {}
  slept = {}
  local tr = fake(script)
  opts.service = opts.service or "arm"
  opts.transport = tr
  opts.sleep = function(s) slept[#slept + 1] = s end
  opts.retry = opts.retry or { max_attempts = 4, base_delay = 0.01, max_delay = 0.05 }
  return pipeline.new(opts), tr
end

t.test("2xx returned, request id and user agent added, authorize per attempt", function()
  local n = 0
  local p, tr = new({ { status = 503, headers = { ["retry-after"] = "2" } }, { status = 200, body = '{"a":1}' } },
    { authorize = function(req, attempt) n = n + 1; req.headers.Authorization = "Bearer tok" .. attempt end })
  local res = p:send{ method = "GET", url = "http://127.0.0.1:1/x" }
  t.eq(res.status, 200)
  t.eq(res.attempts, 2)
  t.eq(res.json.a, 1)
  t.eq(n, 2)
  t.eq(tr.calls[2].headers.Authorization, "Bearer tok2")
  t.match(tr.calls[1].headers["User-Agent"], "^azlua/")
  t.ok(tr.calls[1].headers["x-ms-client-request-id"])
  t.eq(tr.calls[1].headers["x-ms-client-request-id"], tr.calls[2].headers["x-ms-client-request-id"])
  t.eq(slept[1], 2, "Retry-After honoured")
end)

t.test("batch gets client-request-id and return-client-request-id", function()
  local p, tr = new({ { status = 200 } }, { service = "batch" })
  p:send{ url = "http://127.0.0.1:1/pools" }
  t.ok(tr.calls[1].headers["client-request-id"])
  t.eq(tr.calls[1].headers["return-client-request-id"], "true")
end)

t.test("retry-after-ms and x-ms-retry-after-ms", function()
  local p = new({ { status = 429, headers = { ["x-ms-retry-after-ms"] = "1500" } }, { status = 200 } })
  p:send{ url = "http://127.0.0.1:1/x" }
  t.eq(slept[1], 1.5)
  p = new({ { status = 429, headers = { ["retry-after-ms"] = "250" } }, { status = 200 } })
  p:send{ url = "http://127.0.0.1:1/x" }
  t.eq(slept[1], 0.25)
end)

t.test("ARM error decoded and raised, not retried on 404", function()
  local p, tr = new({ { status = 404, headers = { ["x-ms-request-id"] = "rid-1" },
    body = '{"error":{"code":"ResourceGroupNotFound","message":"Resource group \'x\' could not be found."}}' } })
  local e = t.raises(function() p:send{ url = "http://127.0.0.1:1/rg" } end)
  t.ok(errors.is(e, "ResourceGroupNotFound"))
  t.eq(#tr.calls, 1)
  t.eq(tostring(e), "ARM 404 ResourceGroupNotFound: Resource group 'x' could not be found. (request id rid-1)")
end)

t.test("attempts exhausted raises the last error with the count", function()
  local p, tr = new({ { status = 500, body = '{"error":{"code":"InternalServerError","message":"boom"}}' } })
  local e = t.raises(function() p:send{ url = "http://127.0.0.1:1/x" } end)
  t.eq(#tr.calls, 4)
  t.eq(e.attempts, 4)
  t.match(tostring(e), "after 4 attempts")
end)

t.test("POST 500 not retried unless idempotent; 503 retried", function()
  local p, tr = new({ { status = 500 }, { status = 201 } })
  t.raises(function() p:send{ method = "POST", url = "http://127.0.0.1:1/x" } end)
  t.eq(#tr.calls, 1)
  p, tr = new({ { status = 500 }, { status = 201 } })
  t.eq(p:send{ method = "POST", url = "http://127.0.0.1:1/x", idempotent = true }.status, 201)
  p, tr = new({ { status = 503 }, { status = 201 } })
  t.eq(p:send{ method = "POST", url = "http://127.0.0.1:1/x" }.status, 201)
end)

t.test("transport reset after send: GET retried, POST not", function()
  local p, tr = new({ { kind = "reset", sent = true, message = "connection reset" }, { status = 200 } })
  t.eq(p:send{ url = "http://127.0.0.1:1/x" }.status, 200)
  p, tr = new({ { kind = "reset", sent = true, message = "connection reset" }, { status = 200 } })
  local e = t.raises(function() p:send{ method = "POST", url = "http://127.0.0.1:1/x" } end)
  t.eq(e.code, "ConnectionReset")
  t.eq(e.kind, "reset")
  t.match(tostring(e), "POST http://127.0.0.1:1/x")
  -- not sent at all: safe for a POST too
  p, tr = new({ { kind = "connect", sent = false, message = "refused" }, { status = 200 } })
  t.eq(p:send{ method = "POST", url = "http://127.0.0.1:1/x" }.status, 200)
end)

t.test("on_replay turns TaskExists on a retry into success", function()
  local p = new({ { kind = "reset", sent = true, message = "reset" },
    { status = 409, body = '{"odata.metadata":"m","code":"TaskExists","message":{"lang":"en-US","value":"The specified task already exists.\\nRequestId:abc\\nTime:x"}}' } },
    { service = "batch" })
  local res = p:send{ method = "POST", url = "http://127.0.0.1:1/jobs/j/tasks", idempotent = true, expect = { 201 },
    on_replay = function(e) return e.code == "TaskExists" end }
  t.eq(res.status, 409)
  t.ok(res.replayed)
end)

t.test("on_replay also for libcurl's own resend (res.resent), and only then on a first attempt", function()
  local exists = '{"odata.metadata":"m","code":"TaskExists","message":{"lang":"en-US","value":"The specified task already exists."}}'
  local function send(p)
    return p:send{ method = "POST", url = "http://127.0.0.1:1/jobs/j/tasks", idempotent = true, expect = { 201 },
      on_replay = function(e) return e.code == "TaskExists" end }
  end
  local res = send(new({ { status = 409, resent = true, body = exists } }, { service = "batch" }))
  t.eq(res.status, 409)
  t.ok(res.replayed)
  local e = t.raises(function() send(new({ { status = 409, body = exists } }, { service = "batch" })) end)
  t.eq(e.code, "TaskExists", "a first attempt's TaskExists is the caller's")
end)

t.test("Batch error line is the first line of message.value", function()
  local p = new({ { status = 409, headers = { ["request-id"] = "r2" },
    body = '{"odata.metadata":"m","code":"PoolExists","message":{"lang":"en-US","value":"The specified pool already exists.\\nRequestId:abc\\nTime:x"}}' } },
    { service = "batch" })
  local e = t.raises(function() p:send{ method = "POST", url = "http://127.0.0.1:1/pools" } end)
  t.eq(tostring(e), "Batch 409 PoolExists: The specified pool already exists. (request id r2)")
end)

t.test("storage XML error and HEAD error code header with hint", function()
  local p = new({ { status = 403, body = '<?xml version="1.0"?><Error><Code>AuthenticationFailed</Code><Message>Server failed to authenticate the request.</Message></Error>' } },
    { service = "storage" })
  local e = t.raises(function() p:send{ url = "http://127.0.0.1:1/c/b?sig=SECRET" } end)
  t.eq(e.code, "AuthenticationFailed")
  t.match(tostring(e), "check the account key or SAS")
  t.ok(not tostring(e):find("SECRET"))
  p = new({ { status = 404, headers = { ["x-ms-error-code"] = "BlobNotFound" } } }, { service = "storage" })
  e = t.raises(function() p:send{ method = "HEAD", url = "http://127.0.0.1:1/c/b" } end)
  t.eq(e.code, "BlobNotFound")
end)

t.test("token error: AADSTS first line, correlation id", function()
  local p = new({ { status = 401, body = '{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\\r\\nTrace ID: t\\r\\nCorrelation ID: c1\\r\\nTimestamp: x","error_codes":[7000215],"correlation_id":"c1"}' } },
    { service = "token" })
  local e = t.raises(function() p:send{ method = "POST", url = "http://127.0.0.1:1/t/oauth2/v2.0/token", body = "client_secret=hunter2" } end)
  t.eq(e.code, "invalid_client")
  t.eq(tostring(e), "Sign-in 401 invalid_client: AADSTS7000215: Invalid client secret provided. — check the client id and its secret or certificate (expired or wrong?) (request id c1)")
end)

t.test("expect list", function()
  local p = new({ { status = 200 } })
  t.raises(function() p:send{ url = "http://127.0.0.1:1/x", expect = { 201 } } end, "ARM 200")
  p = new({ { status = 404 } })
  t.eq(p:send{ url = "http://127.0.0.1:1/x", expect = { 200, 404 } }.status, 404)
end)

t.test("send_many retries items on their own and keeps order", function()
  local seen = {}
  local p, tr = new({ function(req)
    seen[req.url] = (seen[req.url] or 0) + 1
    if req.url:find("/2$") and seen[req.url] < 3 then return { status = 503, headers = { ["retry-after"] = "1" } } end
    if req.url:find("/3$") then return { status = 400, body = '{"error":{"code":"Bad","message":"no"}}' } end
    return { status = 200, body = req.url }
  end })
  local calls = {}
  local out = p:send_many({ { url = "http://127.0.0.1:1/1" }, { url = "http://127.0.0.1:1/2" }, { url = "http://127.0.0.1:1/3" } },
    { progress = function(d, n) calls[#calls + 1] = d .. "/" .. n end })
  t.eq(out[1].status, 200)
  t.eq(out[2].status, 200)
  t.eq(out[2].attempts, 3)
  t.ok(errors.is(out[3], "Bad"))
  t.eq(#tr.calls, 5)
  t.eq(calls[#calls], "3/3")
end)

t.test("redaction of secrets in text, urls and headers", function()
  local redact = require "azure.redact"
  local s = redact("client_id=a&client_secret=hunter2&client_assertion=eyJx.eyJy.zz&scope=s")
  t.ok(not s:find("hunter2") and not s:find("eyJx"), s)
  t.match(redact.url("https://a.blob.core.windows.net/c?sv=1&sig=abc%2F&se=2"), "sig=REDACTED")
  local h = redact.headers{ Authorization = "Bearer abc.def", ["x-ms-date"] = "d" }
  t.eq(h.Authorization, "Bearer REDACTED")
  t.eq(h["x-ms-date"], "d")
  local j = redact('{"access_token":"tok","keys":[{"keyName":"key1","value":"K=="}],"primary":"P"}')
  t.ok(not j:find("tok\"") and not j:find("K==") and not j:find('"P"'), j)
  t.eq(redact("SharedKey acct:abc+/=="), "SharedKey acct:REDACTED")
end)

t.run()
