/* azlua_openlibs: makes every azlua module requirable in a lua_State, loading none of them. */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "azlua.h"
#include "azlua_embed.h"

/* package.searchers entry for the Lua modules compiled into the binary. */
static int search_embedded(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  for (const struct azlua_embedded *e = azlua_embedded_sources; e->module; e++) {
    if (strcmp(e->module, name) != 0) continue;
    /* "b": precompiled at build time (cmake/embed_lua.cmake); "t" when built without luac. */
    if (luaL_loadbufferx(L, e->source, e->len, e->chunkname, "bt") != LUA_OK)
      return luaL_error(L, "error loading built-in module '%s':\n\t%s", name, lua_tostring(L, -1));
    lua_pushstring(L, e->chunkname + 1); /* second loader argument, like a file name */
    return 2;
  }
  lua_pushfstring(L, "no built-in module '%s'", name);
  return 1;
}

/* AZLUA_PATH=dir1:dir2 puts dir/?.lua and dir/?/init.lua in front of package.path. */
static void prepend_azlua_path(lua_State *L) {
  const char *env = getenv("AZLUA_PATH");
  if (!env || !*env) return;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  const char *p = env;
  while (*p) {
    const char *end = strchr(p, ':');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n > 0) {
      luaL_addlstring(&b, p, n);
      luaL_addstring(&b, "/?.lua;");
      luaL_addlstring(&b, p, n);
      luaL_addstring(&b, "/?/init.lua;");
    }
    p += n + (end ? 1 : 0);
  }
  lua_getfield(L, -2, "path");
  luaL_addvalue(&b);
  luaL_pushresult(&b);
  lua_setfield(L, -2, "path");
}

int azlua_openlibs(lua_State *L) {
  luaL_requiref(L, LUA_LOADLIBNAME, luaopen_package, 0); /* the package table, opened if needed */
  int pkg = lua_gettop(L);

  luaL_getsubtable(L, pkg, "preload");
  for (const struct azlua_cmodule *m = azlua_cmodules; m->module; m++) {
    lua_pushcfunction(L, m->open);
    lua_setfield(L, -2, m->module);
  }
  lua_pop(L, 1);

  lua_pushvalue(L, pkg);
  prepend_azlua_path(L);
  lua_pop(L, 1);

  /* Searchers: preload, package.path (user overrides), built-in sources, then C paths. */
  lua_getfield(L, pkg, "searchers");
  int searchers = lua_gettop(L);
  lua_Integer n = (lua_Integer)luaL_len(L, searchers);
  for (lua_Integer i = n; i >= 3; i--) {
    lua_geti(L, searchers, i);
    lua_seti(L, searchers, i + 1);
  }
  lua_pushcfunction(L, search_embedded);
  lua_seti(L, searchers, 3);
  lua_settop(L, pkg - 1);
  return 0;
}
