/* azure.core.builtin: what is compiled into this binary, for completion and `azlua --version`
 * style introspection.
 *
 *   builtin.modules() -> sorted list of module names (Lua sources and C modules)
 *   builtin.sanitized -> true in an AddressSanitizer build (memory-bound tests skip their bound) */
#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>

#include "azlua_embed.h"

static int cmp(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

static int l_modules(lua_State *L) {
  size_t n = 0;
  for (const struct azlua_embedded *e = azlua_embedded_sources; e->module; e++) n++;
  for (const struct azlua_cmodule *m = azlua_cmodules; m->module; m++) n++;
  const char **names = lua_newuserdatauv(L, sizeof(char *) * (n ? n : 1), 0);
  size_t i = 0;
  for (const struct azlua_embedded *e = azlua_embedded_sources; e->module; e++) names[i++] = e->module;
  for (const struct azlua_cmodule *m = azlua_cmodules; m->module; m++) names[i++] = m->module;
  qsort(names, n, sizeof(char *), cmp);
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    lua_pushstring(L, names[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static const luaL_Reg funcs[] = {{"modules", l_modules}, {NULL, NULL}};

int luaopen_azure_core_builtin(lua_State *L) {
  luaL_newlib(L, funcs);
#ifdef AZLUA_SANITIZED
  lua_pushboolean(L, 1);
#else
  lua_pushboolean(L, 0);
#endif
  lua_setfield(L, -2, "sanitized");
  return 1;
}
