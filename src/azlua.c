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

/* AZLUA_PATH=dir1:dir2 -> "dir1/?.lua;dir1/?/init.lua;dir2/..." on the stack, or nothing (returns 0). */
static int push_azlua_path(lua_State *L) {
  const char *env = getenv("AZLUA_PATH");
  if (!env || !*env) return 0;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  const char *p = env;
  while (*p) {
    const char *end = strchr(p, ':');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n > 0) {
      if (luaL_bufflen(&b) > 0) luaL_addchar(&b, ';');
      luaL_addlstring(&b, p, n);
      luaL_addstring(&b, "/?.lua;");
      luaL_addlstring(&b, p, n);
      luaL_addstring(&b, "/?/init.lua");
    }
    p += n + (end ? 1 : 0);
  }
  luaL_pushresult(&b);
  if (lua_rawlen(L, -1) == 0) { /* only colons */
    lua_pop(L, 1);
    return 0;
  }
  return 1;
}

/* package.searchers entry for AZLUA_PATH (the template is upvalue 1): the one place a file may replace
 * a built-in module. Lua's own package.path comes after the built-ins, so a stray azure module file under
 * /usr/local/share/lua cannot shadow them, and finding a built-in costs no failed open()s. */
static int search_azlua_path(lua_State *L) {
  const char *name = luaL_checkstring(L, 1);
  const char *tmpl = lua_tostring(L, lua_upvalueindex(1));
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "searchpath");
  lua_pushstring(L, name);
  lua_pushstring(L, tmpl);
  lua_call(L, 2, 2);
  if (lua_isnil(L, -2)) return 1; /* the message: every file tried */
  const char *file = lua_tostring(L, -2);
  if (luaL_loadfilex(L, file, "t") != LUA_OK)
    return luaL_error(L, "error loading module '%s' from file '%s':\n\t%s", name, file, lua_tostring(L, -1));
  lua_pushstring(L, file);
  return 2;
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

  /* Searchers: preload, AZLUA_PATH (overrides), built-in sources, then package.path and C paths. */
  lua_getfield(L, pkg, "searchers");
  int searchers = lua_gettop(L);
  int ours = push_azlua_path(L) ? 2 : 1; /* how many searchers go in front of package.path's */
  if (ours == 2) lua_pushcclosure(L, search_azlua_path, 1);
  lua_Integer n = (lua_Integer)luaL_len(L, searchers);
  for (lua_Integer i = n; i >= 2; i--) {
    lua_geti(L, searchers, i);
    lua_seti(L, searchers, i + ours);
  }
  if (ours == 2) lua_seti(L, searchers, 2);
  lua_pushcfunction(L, search_embedded);
  lua_seti(L, searchers, 1 + ours);
  lua_settop(L, pkg - 1);
  return 0;
}
