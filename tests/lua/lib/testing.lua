-- A small test runner for Lua tests run by build/azlua:
--   local t = dofile("tests/lua/lib/testing.lua")
--   t.test("name", function() t.eq(1+1, 2) end)
--   t.run()   -- prints "N passed, N failed" and exits non-zero on a failure
-- Helpers for tests that run commands: t.sh_quote(s), t.azlua_bin().
local M = { cases = {} }

function M.test(name, fn) M.cases[#M.cases + 1] = { name = name, fn = fn } end

local function fmt(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

local function deep_eq(a, b, seen)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  seen = seen or {}
  if seen[a] == b then return true end
  seen[a] = b
  for k, v in pairs(a) do if not deep_eq(v, b[k], seen) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

function M.eq(got, want, what)
  if not deep_eq(got, want) then
    error(string.format("%sexpected %s, got %s", what and (what .. ": ") or "", fmt(want), fmt(got)), 2)
  end
end

function M.ok(v, what)
  if not v then error((what or "expected a true value") .. ", got " .. fmt(v), 2) end
  return v
end

function M.match(s, pattern, what)
  if type(s) ~= "string" or not s:find(pattern) then
    error(string.format("%sexpected %s to match %q", what and (what .. ": ") or "", fmt(s), pattern), 2)
  end
end

-- Asserts that fn raises; returns the error value. `pattern` (optional) must match tostring(err).
function M.raises(fn, pattern)
  local ok, err = pcall(fn)
  if ok then error("expected an error, got none", 2) end
  if pattern and not tostring(err):find(pattern) then
    error(string.format("error %q does not match %q", tostring(err), pattern), 2)
  end
  return err
end

function M.skip(reason) error({ skip = reason }, 0) end

-- s as one shell word.
function M.sh_quote(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

-- The azlua under test, as an absolute path: $AZLUA_BIN (set by ctest) or build/azlua.
function M.azlua_bin()
  local bin = os.getenv("AZLUA_BIN") or "build/azlua"
  if bin:sub(1, 1) ~= "/" then bin = os.getenv("PWD") .. "/" .. bin end
  return bin
end

function M.run()
  local passed, failed, skipped = 0, 0, 0
  local only = os.getenv("TEST_ONLY")
  for _, c in ipairs(M.cases) do
    if not only or c.name:find(only, 1, true) then
      local ok, err = xpcall(c.fn, function(e)
        if type(e) == "table" and e.skip then return e end
        return debug.traceback(tostring(e), 2)
      end)
      if ok then
        passed = passed + 1
        print("ok   " .. c.name)
      elseif type(err) == "table" and err.skip then
        skipped = skipped + 1
        print("skip " .. c.name .. ": " .. err.skip)
      else
        failed = failed + 1
        print("FAIL " .. c.name .. "\n" .. tostring(err))
      end
    end
  end
  print(string.format("%d passed, %d failed, %d skipped", passed, failed, skipped))
  os.exit(failed == 0 and 0 or 1)
end

return M
