-- azlua-curl.so (src/curl_module/): libcurl without the protocol libraries azlua never reaches.
local t = dofile("tests/lua/lib/testing.lua")
local http = require("azure.core.http")

local bin = t.azlua_bin()
local sh_quote = t.sh_quote
local module = bin:match("^(.*/)") .. "azlua-curl.so"
local function have_module()
  local f = io.open(module, "rb")
  if f then f:close() end
  return f ~= nil
end

local function sh(cmd)
  local p = assert(io.popen(cmd, "r"))
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok and 0 or code
end

-- One request to a port nothing listens on: enough to load libcurl (a connect error is the answer).
local PROBE = [[local http = require("azure.core.http")
local r = http.request{ method = "GET", url = "http://127.0.0.1:9/", connect_timeout = 2 }
local maps = io.open("/proc/self/maps"):read("a")
local found = {}
for _, lib in ipairs{ "libldap", "libssh2", "librtmp", "libgssapi", "libkrb5", "libgnutls", "libsasl2", "libcurl.so", "azlua-curl.so" } do
  if maps:find(lib, 1, true) then found[#found + 1] = lib end
end
print(http.stats().curl_library, table.concat(found, ","), r and r.status or "error")]]

local function probe(env)
  return sh((env or "") .. " " .. sh_quote(bin) .. " -e " .. sh_quote(PROBE) .. " 2>&1")
end

t.test("a request loads azlua-curl.so, and none of the protocol libraries it leaves out", function()
  if not have_module() then t.skip("azlua-curl.so not built (see CMakeLists.txt)") end
  local out, code = probe()
  t.eq(code, 0, out)
  local lib, found = out:match("^(%S+)\t(%S*)\t")
  t.eq(lib, module)
  t.eq(found, "azlua-curl.so")
end)

t.test("AZLUA_LIBCURL picks another libcurl (Debian's, with everything it loads)", function()
  local out, code = probe("AZLUA_LIBCURL=libcurl.so.4")
  t.eq(code, 0, out)
  local lib, found = out:match("^(%S+)\t(%S*)\t")
  t.eq(lib, "libcurl.so.4")
  t.match(found, "libcurl%.so")
  t.ok(not found:find("azlua-curl", 1, true), found)
end)

t.test("an AZLUA_LIBCURL that cannot be loaded is a one-line error naming it", function()
  local out, code = probe("AZLUA_LIBCURL=/nonexistent/libcurl.so")
  t.ok(code ~= 0 or out:find("not found", 1, true), out)
  t.match(out, "AZLUA_LIBCURL=/nonexistent/libcurl%.so cannot be loaded: unset it")
end)

t.test("when LD_BIND_NOW forbids lazy binding, azlua falls back to libcurl.so.4", function()
  if not have_module() then t.skip("azlua-curl.so not built") end
  local out, code = probe("LD_BIND_NOW=1")
  t.eq(code, 0, out)
  t.eq(out:match("^(%S+)\t"), "libcurl.so.4")
end)

-- The module's one risk: a function curl calls that no linked library defines would end the process
-- at the call. Every undefined symbol must be defined by a library it links, or belong to the
-- protocols it leaves out (and none of those may be one curl calls at init: they are defined).
t.test("every symbol the module needs is in a library it links, but the left-out protocols'", function()
  if not have_module() then t.skip("azlua-curl.so not built") end
  local defined = {}
  local ldd = sh("ldd " .. sh_quote(module))
  local nlibs = 0
  for path in ldd:gmatch("=> (/%S+)") do
    nlibs = nlibs + 1
    for name in sh("nm -D --defined-only " .. sh_quote(path)):gmatch("%x+ %a ([%w_]+)") do defined[name] = true end
  end
  t.ok(nlibs >= 5, "ldd found " .. nlibs .. " libraries")
  local unresolved, left_out = {}, 0
  for kind, name in sh("nm -D --undefined-only " .. sh_quote(module)):gmatch("%s(%a) ([%w_]+)") do
    if kind == "U" and not defined[name] then
      if name:match("^ldap_") or name:match("^ber_") or name:match("^RTMP_") or name:match("^libssh2_")
        or name:match("^gss_") or name:match("^krb5_") then
        left_out = left_out + 1
      else
        unresolved[#unresolved + 1] = name
      end
    end
  end
  t.eq(table.concat(unresolved, " "), "", "symbols no linked library defines")
  t.ok(left_out > 50, "expected the SSH/LDAP/RTMP/GSS-API functions to be left unbound, got " .. left_out)
  local nm = sh("nm -D --defined-only " .. sh_quote(module))
  for _, name in ipairs{ "libssh2_init", "libssh2_exit", "ldap_get_option", "GSS_C_NT_HOSTBASED_SERVICE" } do
    t.ok(not nm:find(" " .. name .. "\n", 1, true), name .. " must not be exported")
  end
  t.match(nm, " curl_easy_init\n")
end)

t.test("this test process itself runs on the module", function()
  if not have_module() then t.skip("azlua-curl.so not built") end
  http.request { method = "GET", url = "http://127.0.0.1:9/", connect_timeout = 2 }
  t.eq(http.stats().curl_library, module)
end)

t.run()
