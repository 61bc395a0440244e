#include "support/lua_fixture.h"

#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lualib.h>

#include "azlua.h"

lua_State *lf_state(void) {
  lua_State *L = luaL_newstate();
  if (!L) {
    fprintf(stderr, "cannot create a Lua state\n");
    abort();
  }
  luaL_openlibs(L);
  azlua_openlibs(L);
  return L;
}

const char *lf_eval(lua_State *L, const char *code) {
  int base = lua_gettop(L);
  int rc = luaL_loadstring(L, code);
  if (rc == LUA_OK) rc = lua_pcall(L, 0, 1, 0);
  if (rc == LUA_OK) {
    luaL_tolstring(L, -1, NULL);
  } else {
    lua_pushfstring(L, "ERR: %s", lua_tostring(L, -1));
  }
  /* The registry keeps the result alive after the stack is reset. */
  lua_setfield(L, LUA_REGISTRYINDEX, "lua_fixture.result");
  lua_settop(L, base);
  lua_getfield(L, LUA_REGISTRYINDEX, "lua_fixture.result");
  const char *s = lua_tostring(L, -1);
  lua_pop(L, 1);
  return s;
}

int lf_run_suite(Suite *s) {
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
