-- Large transfers against Azurite: a 64 MiB file in 1 MiB blocks (64 blocks, 8 in flight) up and
-- down, SHA-256 equal, progress reported, and peak RSS bounded by concurrency × block + 16 MiB
-- (blocks stream from and to the file; Lua never holds one). The 1 GiB run is tests/bench.
local t = dofile("tests/lua/lib/testing.lua")
local azurite = dofile("tests/lua/lib/azurite.lua")
local blob = require "azure.blob"
local crypto = require "azure.core.crypto"

local MiB = 1024 * 1024
local SIZE, BLOCK, CONC = 64 * MiB, 1 * MiB, 8

local function vm(field)
  local f = io.open("/proc/self/status", "r")
  local s = f:read("a")
  f:close()
  return tonumber(s:match(field .. ":%s*(%d+) kB")) * 1024
end

t.test("64 MiB up and down in parallel blocks: same SHA-256, bounded RSS, progress", function()
  local srv = azurite.start_or_skip(t)
  local src = os.tmpname()
  local dst = os.tmpname()
  local ok, err = pcall(function()
    assert(os.execute(string.format("head -c %d /dev/urandom > %s", SIZE, src)))
    local c = blob.service { connection_string = srv.connection_string }:container("big")
    c:create()
    local seen, last = 0, -1
    local r = c:upload("dir/big.bin", src, { block_size = BLOCK, concurrency = CONC,
      progress = function(done, total)
        t.ok(done >= last, "progress only grows"); last = done; seen = seen + 1
        t.eq(total, SIZE)
      end })
    t.eq(r.blocks, SIZE // BLOCK)
    t.eq(last, SIZE, "progress reaches the total")
    t.ok(seen >= 2, "progress called during the transfer")
    t.eq(c:blob("dir/big.bin"):properties().size, SIZE)
    c:download("dir/big.bin", dst, { block_size = BLOCK, concurrency = CONC })
    t.eq(crypto.hex(crypto.sha256_file(dst)), crypto.hex(crypto.sha256_file(src)), "sha256")
    -- a ranged read straddling two blocks
    local f = io.open(src, "rb"); f:seek("set", BLOCK - 10); local want = f:read(20); f:close()
    t.eq(c:blob("dir/big.bin"):read(BLOCK - 10, 20), want)
    local hwm = vm("VmHWM")
    print(string.format("peak RSS %.1f MiB (bound %d MiB)", hwm / MiB, CONC * BLOCK // MiB + 16))
    if not require("azure.core.builtin").sanitized then
      t.ok(hwm <= CONC * BLOCK + 16 * MiB, "peak RSS " .. hwm)
    end
  end)
  os.remove(src); os.remove(dst)
  if not ok then error(err, 0) end
end)

-- Bytes a file has in the page cache (util-linux fincore), or nil without it.
local function cached_bytes(path)
  local p = io.popen("fincore -b -n -o RES " .. path .. " 2>/dev/null")
  local out = p:read("a"); p:close()
  return tonumber(out:match("^%s*(%d+)"))
end

t.test("direct=true downloads: the same bytes, unaligned tails included, and the file is not cached", function()
  local srv = azurite.start_or_skip(t)
  local src, dst = os.tmpname(), os.tmpname()
  local ok, err = pcall(function()
    local size = 5 * MiB + 12345 -- six ranges of 1 MiB, the last one not a multiple of 4 KiB
    assert(os.execute(string.format("head -c %d /dev/urandom > %s", size, src)))
    local c = blob.service { connection_string = srv.connection_string }:container("direct")
    c:create()
    c:upload("odd.bin", src, { block_size = BLOCK })
    c:upload_string("small.txt", string.rep("x", 10001))
    local want = crypto.hex(crypto.sha256_file(src))
    local r = c:download("odd.bin", dst, { block_size = BLOCK, concurrency = 3, direct = true })
    t.eq(r.size, size)
    local direct_cached = cached_bytes(dst)
    t.eq(crypto.hex(crypto.sha256_file(dst)), want, "sha256 with direct")
    c:download("odd.bin", dst, { block_size = BLOCK, concurrency = 3 })
    local plain_cached = cached_bytes(dst)
    t.eq(crypto.hex(crypto.sha256_file(dst)), want, "sha256 without")
    if direct_cached and plain_cached then
      -- where O_DIRECT works (not tmpfs) only the tail goes through the cache
      local f = io.open("/proc/mounts"); local mounts = f:read("a"); f:close()
      local tmpfs = mounts:find(" /tmp tmpfs ", 1, true)
      if not tmpfs then t.ok(direct_cached < MiB, "direct left " .. direct_cached .. " bytes cached") end
      t.ok(plain_cached > 4 * MiB, "a plain download is cached: " .. plain_cached)
      -- the default, "auto": direct from direct_min_size (256 MiB unless given), false: never
      c:download("odd.bin", dst, { block_size = BLOCK, direct_min_size = 4 * MiB })
      local cb = cached_bytes(dst) -- before reading it back, which caches it
      if not tmpfs then t.ok(cb < MiB, "auto above the size is direct: " .. cb) end
      t.eq(crypto.hex(crypto.sha256_file(dst)), want, "sha256 with auto")
      c:download("odd.bin", dst, { block_size = BLOCK, direct_min_size = 4 * MiB, direct = false })
      t.ok(cached_bytes(dst) > 4 * MiB, "direct=false is cached")
    end
    t.raises(function() c:download("odd.bin", dst, { direct = "yes" }) end, 'direct must be true, false or "auto"')
    local dir, base = dst:match("^(.*/)([^/]+)$")
    local p = io.popen("ls -a " .. dir .. " | grep -c -F " .. t.sh_quote(base .. ".") .. " || true")
    t.eq(p:read("a"), "0\n", "no partial file left behind")
    p:close()
    c:download("small.txt", dst, { direct = true }) -- one GET, all tail
    local f = io.open(dst, "rb"); t.eq(f:read("a"), string.rep("x", 10001)); f:close()
  end)
  os.remove(src); os.remove(dst)
  if not ok then error(err, 0) end
end)

t.test("progress never goes backwards (a retried block counts once)", function()
  local seen = {}
  local m = require("azure.blob.meter").new("x", 100, function(done) seen[#seen + 1] = done end)
  m:set(40); m:set(25); m:set(100)
  t.eq(seen, { 40, 40, 100 })
end)

t.test("block size grows so a blob needs at most 50,000 blocks", function()
  local transfer = require "azure.blob.transfer"
  t.eq(transfer.block_size(100 * MiB, {}), 8 * MiB)
  local big = 1000 * 1024 * MiB -- 1000 GiB
  local bs = transfer.block_size(big, {})
  t.ok(math.ceil(big / bs) <= 50000, "blocks " .. math.ceil(big / bs))
  t.eq(bs % MiB, 0)
  t.ok(transfer.concurrency({}) >= 4)
  t.eq(transfer.concurrency({ concurrency = 3 }), 3)
end)

-- The bar: only on a terminal (script(1) gives the child one), never with NO_COLOR/AZLUA_NO_PROGRESS.
t.test("progress bar on a terminal: bytes, rate, ETA; silent otherwise", function()
  local bin = os.getenv("AZLUA_BIN") or "build-blob/azlua"
  local script = os.tmpname()
  local f = io.open(script, "w")
  f:write([[local m = require("azure.blob.meter").new("upload big.bin", 3 * 2^20, nil)
    m:set(2^20); require("azure.core.time").sleep(0.15); m:set(3 * 2^20); m:finish()]])
  f:close()
  local function run(env, tty)
    local cmd = string.format("env -u AZLUA_NO_PROGRESS -u NO_COLOR %s %s %s", env, bin, script)
    if tty then cmd = string.format("script -qec %q /dev/null", cmd) else cmd = cmd .. " 2>&1" end
    local p = io.popen(cmd)
    local out = p:read("a")
    p:close()
    return out
  end
  if os.execute("command -v script >/dev/null") ~= true then t.skip("script(1) not installed") end
  local out = run("", true)
  t.match(out, "upload big%.bin  33%.3%%  1%.0 MiB / 3%.0 MiB  [%d.]+ %a+/s  ETA %d+:%d%d")
  t.match(out, "100%.0%%")
  t.eq(run("", false), "", "not a terminal")
  t.eq((run("NO_COLOR=1", true):gsub("%s", "")), "", "NO_COLOR")
  t.eq((run("AZLUA_NO_PROGRESS=1", true):gsub("%s", "")), "", "AZLUA_NO_PROGRESS")
  os.remove(script)
end)

t.run()
