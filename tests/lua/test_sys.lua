-- azure.core.sys: atomic 0600 writes, spawning without a shell, small OS queries.
local t = dofile("tests/lua/lib/testing.lua")
local sys = require "azure.core.sys"

local function tmpdir()
  local d = os.tmpname(); os.remove(d)
  assert(sys.mkdir_p(d .. "/sub/dir"))
  return d
end

t.test("write_file_atomic creates the file 0600 with the content", function()
  local d = tmpdir()
  local p = d .. "/secret.lua"
  t.ok(sys.write_file_atomic(p, "key = 'x'\n"))
  t.eq(sys.file_mode(p), tonumber("600", 8))
  local f = assert(io.open(p)); t.eq(f:read("a"), "key = 'x'\n"); f:close()
  -- replaces an existing file whole, and leaves no temp file behind
  t.ok(sys.write_file_atomic(p, "v2"))
  local f2 = assert(io.open(p)); t.eq(f2:read("a"), "v2"); f2:close()
  local ls = io.popen("ls -A " .. d):read("a")
  t.eq(ls, "secret.lua\nsub\n")
  os.execute("rm -rf " .. d)
end)

t.test("write_file_atomic into a missing directory fails cleanly and writes nothing", function()
  local ok, err = sys.write_file_atomic("/nonexistent-dir/x", "data")
  t.eq(ok, nil)
  t.match(err, "^cannot create /nonexistent%-dir/x%.tmp%.%d+: No such file or directory$")
end)

t.test("write_file_atomic honours a wider mode when asked", function()
  local d = tmpdir()
  t.ok(sys.write_file_atomic(d .. "/pub", "x", tonumber("644", 8)))
  t.eq(sys.file_mode(d .. "/pub"), tonumber("644", 8))
  os.execute("rm -rf " .. d)
end)

t.test("spawn passes arguments verbatim (no shell) and captures both streams", function()
  local r = assert(sys.spawn({ "printf", "%s|", "a b", "$HOME", "'; rm -rf /'" }))
  t.eq(r.status, 0)
  t.eq(r.stdout, "a b|$HOME|'; rm -rf /'|")
  local r2 = assert(sys.spawn({ "sh", "-c", "cat; echo oops >&2; exit 7" }, { stdin = "in" }))
  t.eq(r2.status, 7); t.eq(r2.stdout, "in"); t.eq(r2.stderr, "oops\n")
end)

t.test("spawn of a missing program is nil, err", function()
  local r, err = sys.spawn({ "azlua-no-such-program" })
  t.eq(r, nil)
  t.match(err, "cannot run azlua%-no%-such%-program")
end)

t.test("spawn handles more output than a pipe buffer", function()
  local r = assert(sys.spawn({ "head", "-c", "1000000", "/dev/zero" }))
  t.eq(#r.stdout, 1000000)
end)

t.test("preallocate reserves space without changing the length; a size no disk has is a clear error", function()
  local path = os.tmpname()
  local ok, err = sys.preallocate(path, 4 * 1024 * 1024)
  t.eq(err, nil)
  t.eq(type(ok), "boolean") -- false where the file system cannot (then downloads write as they go)
  local f = assert(io.open(path, "rb")); t.eq(f:seek("end"), 0); f:close()
  if ok then
    -- the blocks are there: du counts them although the file is empty
    local p = io.popen("du -k " .. path); local kib = tonumber(p:read("a"):match("^(%d+)")); p:close()
    t.ok(kib >= 4096, "du -k says " .. tostring(kib))
    local r, e = sys.preallocate(path, 1 << 60)
    t.eq(r, nil)
    t.match(e, "^cannot reserve 1152921504606846976 bytes for .+: ")
  end
  t.eq(sys.preallocate(path, 0), true)
  local r, e = sys.preallocate(path .. ".missing", 10)
  t.eq(r, nil); t.match(e, "^cannot open ")
  os.remove(path)
end)

t.test("nproc, getpid, isatty", function()
  t.ok(sys.nproc() >= 1)
  t.ok(math.type(sys.getpid()) == "integer")
  t.eq(type(sys.isatty(0)), "boolean")
end)

t.run()
