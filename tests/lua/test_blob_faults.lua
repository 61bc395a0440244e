-- Failures in the middle of transfers, injected between the pipeline and the real transport (the
-- pipeline's transport seam), against Azurite: a block or range that fails is retried on its own
-- by the one retry policy, and a download that fails for good leaves no file behind.
local t = dofile("tests/lua/lib/testing.lua")
local azurite = dofile("tests/lua/lib/azurite.lua")
local blob = require "azure.blob"
local http = require "azure.core.http"
local crypto = require "azure.core.crypto"

local KiB = 1024

-- A transport that lets `plan(req)` replace a request's outcome with a fault, counting attempts.
local function faulty(plan)
  local log = { sent = 0, faults = 0 }
  local function fault_for(req)
    local f = plan(req)
    if f then log.faults = log.faults + 1 end
    return f
  end
  log.transport = {
    request = function(req)
      log.sent = log.sent + 1
      return fault_for(req) or http.request(req)
    end,
    request_many = function(reqs, opts)
      local out, real, idx = {}, {}, {}
      for i, r in ipairs(reqs) do
        log.sent = log.sent + 1
        local f = fault_for(r)
        if f then out[i] = f else real[#real + 1] = r; idx[#idx + 1] = i end
      end
      local res = http.request_many(real, opts)
      for j, i in ipairs(idx) do out[i] = res[j] end
      return out
    end,
  }
  return log
end

local function random_file(size)
  local p = os.tmpname()
  assert(os.execute(string.format("head -c %d /dev/urandom > %s", size, p)))
  return p
end
local function sha(p) return crypto.hex(crypto.sha256_file(p)) end

local srv
local function client(log)
  srv = srv or azurite.start_or_skip(t)
  return blob.service { connection_string = srv.connection_string, transport = log and log.transport,
    retry = { max_attempts = 4, base_delay = 0.01 } }:container("faults")
end

t.test("a block that fails (reset, then 503) is retried alone; the blob is intact", function()
  local c = client()
  c:create { if_not_exists = true }
  -- the third block: a reset on its first attempt, a 503 on its second, through on the third
  local seen, order = {}, 0
  local log = faulty(function(req)
    local id = req.url:match("blockid=([^&]+)")
    if not id then return nil end
    if not seen[id] then order = order + 1; seen[id] = { n = order, tries = 0 } end
    local b = seen[id]
    b.tries = b.tries + 1
    if b.n ~= 3 then return nil end
    if b.tries == 1 then return { kind = "reset", message = "injected reset", sent = true } end
    if b.tries == 2 then return { status = 503, headers = { ["x-ms-error-code"] = "ServerBusy" }, body = "" } end
  end)
  c = client(log)
  local src = random_file(40 * KiB + 5)
  c:upload("b.bin", src, { block_size = 4 * KiB, concurrency = 4 })
  t.eq(log.faults, 2, "faults injected")
  t.eq(log.sent, 11 + 2 + 1, "11 blocks + 2 retries of one block + the block list")
  local dst = os.tmpname()
  client():download("b.bin", dst)
  t.eq(sha(dst), sha(src))
  os.remove(src); os.remove(dst)
end)

t.test("a range that fails once is fetched again into its place", function()
  local c = client()
  c:create { if_not_exists = true }
  local src = random_file(50 * KiB)
  c:upload("r.bin", src)
  local once = false
  local log = faulty(function(req)
    local r = req.headers["x-ms-range"]
    if r and r:match("^bytes=8192%-") and not once then
      once = true
      return { kind = "timeout", message = "injected timeout", sent = true }
    end
  end)
  local dst = os.tmpname()
  client(log):download("r.bin", dst, { block_size = 4 * KiB, concurrency = 3 })
  t.eq(log.faults, 1)
  t.eq(sha(dst), sha(src))
  os.remove(src); os.remove(dst)
end)

t.test("a download that fails for good leaves the target untouched and no temp file", function()
  local c = client()
  c:create { if_not_exists = true }
  c:upload_string("d.bin", string.rep("x", 20 * KiB))
  local log = faulty(function(req)
    if (req.headers["x-ms-range"] or ""):match("^bytes=4096%-") then
      return { status = 500, headers = { ["x-ms-error-code"] = "InternalError" }, body = "" }
    end
  end)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir " .. dir))
  local dst = dir .. "/out.bin"
  local f = io.open(dst, "wb"); f:write("old"); f:close()
  local e = t.raises(function() client(log):download("d.bin", dst, { block_size = 4 * KiB }) end, "InternalError")
  t.eq(e.status, 500)
  t.eq(e.attempts, 4, "retried up to the policy's limit")
  f = io.open(dst, "rb"); t.eq(f:read("a"), "old"); f:close()
  local p = io.popen("ls -A " .. dir)
  t.eq(p:read("a"), "out.bin\n", "only the old file")
  p:close()
  os.execute("rm -rf " .. dir)
end)

t.run()
