local t = dofile("tests/lua/lib/testing.lua")
local time = require("azure").time

t.test("rfc1123 of known instants", function()
  t.eq(time.rfc1123(0), "Thu, 01 Jan 1970 00:00:00 GMT")
  t.eq(time.rfc1123(1704067200), "Mon, 01 Jan 2024 00:00:00 GMT")
  t.eq(time.rfc1123(951782400), "Tue, 29 Feb 2000 00:00:00 GMT")
  t.eq(time.rfc1123(1704067200.9), "Mon, 01 Jan 2024 00:00:00 GMT")
  t.match(time.rfc1123(), "^%a%a%a, %d%d %a%a%a %d%d%d%d %d%d:%d%d:%d%d GMT$")
end)

t.test("rfc1123 is English whatever the locale", function()
  os.setlocale("C.UTF-8")
  for _, loc in ipairs({ "de_DE.UTF-8", "fr_FR.UTF-8" }) do os.setlocale(loc) end
  t.eq(time.rfc1123(1704067200), "Mon, 01 Jan 2024 00:00:00 GMT")
  os.setlocale("C")
end)

t.test("parse_rfc1123", function()
  t.eq(time.parse_rfc1123("Mon, 01 Jan 2024 00:00:00 GMT"), 1704067200)
  t.eq(time.parse_rfc1123("Thu, 01 Jan 1970 00:00:00 GMT"), 0)
  local v, err = time.parse_rfc1123("Mon, 01 Jan 2024 00:00:00 UTC")
  t.eq(v, nil)
  t.eq(err, "invalid RFC 1123 date")
  t.eq(time.parse_rfc1123("Mon, 30 Feb 2024 00:00:00 GMT"), nil)
  t.eq(time.parse_rfc1123("Tue, 01 Jan 2024 00:00:00 GMT"), nil, "weekday must match")
end)

t.test("iso8601 format", function()
  t.eq(time.iso8601(1795518000), "2026-11-24T11:00:00Z")
  t.eq(time.iso8601(0), "1970-01-01T00:00:00Z")
  t.eq(time.iso8601(1704067200.25, { fraction = true }), "2024-01-01T00:00:00.250000Z")
  t.eq(time.iso8601(1704067200.25, { fraction = 3 }), "2024-01-01T00:00:00.250Z")
  t.eq(time.iso8601(1704067200.9999999, { fraction = 3 }), "2024-01-01T00:00:01.000Z")
  t.match(time.iso8601(), "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$")
end)

t.test("parse_iso8601 forms Azure sends", function()
  t.eq(time.parse_iso8601("2026-11-24T11:00:00Z"), 1795518000)
  t.eq(math.type(time.parse_iso8601("2026-11-24T11:00:00Z")), "integer")
  t.ok(math.abs(time.parse_iso8601("2026-11-24T11:00:00.1234567Z") - 1795518000.1234567) < 1e-6)
  t.eq(time.parse_iso8601("2026-11-24T12:00:00+01:00"), 1795518000)
  t.eq(time.parse_iso8601("2026-11-24T10:30:00-0030"), 1795518000)
  t.eq(time.parse_iso8601("2026-11-24T11:00:00"), 1795518000)
  t.eq(time.parse_iso8601("2024-02-29T00:00:00Z"), 1709164800)
  for _, bad in ipairs({ "2023-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-24", "2026-11-24T11:00Z",
    "2026-11-24T11:00:00.Z", "2026-11-24T11:00:00.1234567890Z", "2026-11-24T24:00:00Z", "x" }) do
    local v, err = time.parse_iso8601(bad)
    t.eq(v, nil, bad)
    t.eq(err, "invalid ISO 8601 date")
  end
end)

t.test("round trips", function()
  for _, s in ipairs({ 0, 1, 951782400, 1704067200, 4102444799, -86400 }) do
    t.eq(time.parse_iso8601(time.iso8601(s)), s)
    t.eq(time.parse_rfc1123(time.rfc1123(s)), s)
  end
  for day = 0, 40000, 37 do
    local s = day * 86400 + 12345
    t.eq(time.parse_iso8601(time.iso8601(s)), s)
  end
end)

t.test("clocks and sleep", function()
  local now = time.now()
  t.eq(math.type(now), "float")
  t.ok(math.abs(now - os.time()) < 2)
  local a = time.monotonic()
  time.sleep(0.1)
  local dt = time.monotonic() - a
  t.ok(dt >= 0.1 and dt < 1, "slept " .. dt)
  time.sleep(0)
  t.raises(function() time.sleep(-1) end, "non%-negative")
end)

t.test("sleep is interrupted by Ctrl-C", function()
  local bin = os.getenv("AZLUA_BIN") or arg[-1]
  local a = time.monotonic()
  local p = io.popen("timeout -s INT 0.3 " .. bin .. " -e 'require(\"azure\").time.sleep(5)' 2>&1")
  local out = p:read("a")
  p:close()
  t.ok(time.monotonic() - a < 2, "sleep stopped early")
  t.match(out, "interrupted!")
end)

t.run()
