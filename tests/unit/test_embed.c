/* The embedding contract of src/azlua.h: a program with its own lua_State opens azlua in it. */
#include <check.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lualib.h>

#include "azlua.h"
#include "support/lua_fixture.h"

START_TEST(embed_json_encode) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  ck_assert_int_eq(azlua_openlibs(L), 0);
  const char *code = "return require('azure').json.encode({a={1,2}})";
  ck_assert_int_eq(luaL_dostring(L, code), LUA_OK);
  ck_assert_str_eq(lua_tostring(L, -1), "{\"a\":[1,2]}");
  lua_close(L);
}
END_TEST

START_TEST(embed_core_modules_require) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  azlua_openlibs(L);
  const char *code = "local n = 0 for _, m in ipairs{'json','xml','crypto','time'} do "
                     "if type(require('azure.core.' .. m)) == 'table' then n = n + 1 end end return n";
  ck_assert_int_eq(luaL_dostring(L, code), LUA_OK);
  ck_assert_int_eq(lua_tointeger(L, -1), 4);
  lua_close(L);
}
END_TEST

int main(void) {
  Suite *s = suite_create("embed");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, embed_json_encode);
  tcase_add_test(tc, embed_core_modules_require);
  suite_add_tcase(s, tc);
  return lf_run_suite(s);
}
