-- The azlua host as a user meets it: options, the arg table, errors, init, module overrides.
local t = dofile("tests/lua/lib/testing.lua")
local bin = t.azlua_bin()
local sh_quote = t.sh_quote

-- Runs a shell command line; returns stdout, stderr, exit code.
local function run(cmdline, stdin)
  local errf = os.tmpname()
  local inf
  if stdin then
    inf = os.tmpname()
    local f = assert(io.open(inf, "wb")); f:write(stdin); f:close()
    cmdline = cmdline .. " < " .. inf
  end
  local p = assert(io.popen(cmdline .. " 2>" .. errf, "r"))
  local out = p:read("a")
  local _, _, code = p:close()
  local ef = assert(io.open(errf, "rb")); local err = ef:read("a"); ef:close()
  os.remove(errf)
  if inf then os.remove(inf) end
  return out, err, code
end

local function azlua(args, stdin, env)
  return run((env or "") .. " " .. sh_quote(bin) .. " " .. args, stdin)
end

t.test("-e runs a statement and json encodes as the issue says", function()
  local out, err, code = azlua([[-e 'print(require("azure").json.encode({a={1,2}}))']])
  t.eq(code, 0, "exit code"); t.eq(err, "")
  t.eq(out, '{"a":[1,2]}\n')
end)

t.test("script receives arg table and varargs", function()
  local f = os.tmpname()
  local h = assert(io.open(f, "w"))
  h:write("print(arg[0] == ...  or arg[0], arg[1], arg[2], select('#', ...), arg[-1] ~= nil)\n")
  h:close()
  local out, _, code = azlua(sh_quote(f) .. " one two")
  os.remove(f)
  t.eq(code, 0)
  t.match(out, "\tone\ttwo\t2\ttrue\n$")
end)

t.test("uncaught error: one line, exit 1, no traceback", function()
  local out, err, code = azlua([[-e 'error("boom")']])
  t.eq(code, 1); t.eq(out, "")
  t.eq(err, "azlua: (command line):1: boom\n")
end)

t.test("error object prints through __tostring", function()
  local _, err, code = azlua([[-e 'error(setmetatable({}, {__tostring=function() return "ARM 404 NotFound: gone" end}))']])
  t.eq(code, 1)
  t.eq(err, "azlua: ARM 404 NotFound: gone\n")
end)

t.test("AZLUA_DEBUG=1 and -d add a traceback", function()
  local _, err = azlua([[-e 'error("boom")']], nil, "AZLUA_DEBUG=1")
  t.match(err, "stack traceback:")
  local _, err2 = azlua([[-d -e 'error("boom")']])
  t.match(err2, "stack traceback:")
end)

t.test("-v, --help and a bad option", function()
  local out, _, code = azlua("-v")
  t.eq(code, 0); t.match(out, "^azlua %d+%.%d+%.%d+ %(Lua 5%.4")
  out, _, code = azlua("--help")
  t.eq(code, 0); t.match(out, "usage: azlua")
  local _, err, code2 = azlua("--nope")
  t.eq(code2, 1); t.match(err, "unrecognized option '%-%-nope'")
end)

t.test("- reads the script from stdin, and args follow", function()
  local out, _, code = azlua("- x", "print('stdin', arg[1])")
  t.eq(code, 0); t.eq(out, "stdin\tx\n")
end)

t.test("-l requires a module into a global", function()
  local out, _, code = azlua([[-l azure.json -e 'print(json.encode({1}))']])
  t.eq(code, 0); t.eq(out, "[1]\n")
end)

t.test("AZLUA_INIT runs first, as code or @file", function()
  local out = azlua([[-e 'print(X)']], nil, "AZLUA_INIT='X=42'")
  t.eq(out, "42\n")
  local f = os.tmpname()
  local h = assert(io.open(f, "w")); h:write("X = 'from file'"); h:close()
  out = azlua([[-e 'print(X)']], nil, "AZLUA_INIT=@" .. f)
  os.remove(f)
  t.eq(out, "from file\n")
end)

t.test("built-in modules work from any directory", function()
  local out, _, code = run("cd / && " .. sh_quote(bin) .. [[ -e 'print(require("azure").version)']])
  t.eq(code, 0); t.match(out, "^%d+%.%d+%.%d+\n$")
end)

t.test("a module on AZLUA_PATH overrides the built-in one", function()
  local dir = os.tmpname(); os.remove(dir)
  assert(os.execute("mkdir -p " .. dir .. "/azure"))
  local h = assert(io.open(dir .. "/azure/pretty.lua", "w"))
  h:write("return { overridden = true }"); h:close()
  local out = azlua([[-e 'print(require("azure.pretty").overridden)']], nil, "AZLUA_PATH=" .. dir)
  os.execute("rm -rf " .. dir)
  t.eq(out, "true\n")
end)

t.test("a module on LUA_PATH does not shadow a built-in one; AZLUA_PATH still adds new modules", function()
  local dir = os.tmpname(); os.remove(dir)
  assert(os.execute("mkdir -p " .. dir .. "/azure"))
  local h = assert(io.open(dir .. "/azure/pretty.lua", "w"))
  h:write("return { overridden = true }"); h:close()
  h = assert(io.open(dir .. "/mine.lua", "w"))
  h:write("return { mine = 42 }"); h:close()
  local env = "LUA_PATH_5_4=" .. dir .. "/?.lua LUA_PATH=" .. dir .. "/?.lua"
  local out = azlua([[-e 'print(require("azure.pretty").overridden, require("mine").mine)']], nil, env)
  local out2 = azlua([[-e 'print(require("mine").mine)']], nil, "AZLUA_PATH=" .. dir)
  os.execute("rm -rf " .. dir)
  t.eq(out, "nil\t42\n")
  t.eq(out2, "42\n")
end)

t.test("modules load lazily: require 'azure' loads no submodule", function()
  local out = azlua([[-e 'require("azure"); local n=0; for k in pairs(package.loaded) do if k:find("^azure%.") then n=n+1 end end; print(n)']])
  t.eq(out, "0\n")
end)

t.test("start-up maps neither libcrypto nor libcurl; requiring crypto loads libcrypto", function()
  local probe = [[local function has(lib) for l in io.lines("/proc/self/maps") do if l:find(lib, 1, true) then return true end end return false end ]]
  local out = azlua("-e '" .. probe .. [[print(has("libcrypto"), has("libcurl"))']])
  t.eq(out, "false\tfalse\n")
  out = azlua("-e '" .. probe .. [[require("azure.core.crypto"); print(has("libcrypto"))']])
  t.eq(out, "true\n")
end)

t.test("os.exit code passes through", function()
  local _, _, code = azlua([[-e 'os.exit(3)']])
  t.eq(code, 3)
end)

t.test("a script file that does not exist: one line, exit 1", function()
  local _, err, code = azlua("/nonexistent/x.lua")
  t.eq(code, 1); t.match(err, "^azlua: cannot open /nonexistent/x.lua: No such file or directory\n$")
end)

t.test("pretty printer: sorted, nested, cycles marked, depth-limited", function()
  local pretty = require "azure.pretty"
  t.eq(pretty.format({ b = 1, a = { 1, 2 }, [3] = "x" }), '{\n  [3] = "x",\n  a = {\n    1,\n    2,\n  },\n  b = 1,\n}')
  local c = {}; c.self = c
  t.match(pretty.format(c), "self = <cycle 0x%x+>")
  t.eq(pretty.format({ { { { 1 } } } }, { depth = 2 }), "{\n  {\n    {...},\n  },\n}")
  t.eq(pretty.format({}), "{}")
  t.eq(pretty.format("a\nb"), '"a\\nb"')
end)

t.test("piped stdin without a script runs it (no REPL when not a tty)", function()
  local out, _, code = azlua("", "print(6*7)")
  t.eq(code, 0); t.eq(out, "42\n")
end)

t.run()
