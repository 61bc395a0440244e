/* azure.core.json: the Lua face of the JSON codec in util/json_*.c.
 *
 *   json.encode(v [, {indent=true|n, sort_keys=true, max_depth=n}]) -> string   (raises "json: ...")
 *   json.decode(s [, {max_depth=n}]) -> value                                    (raises "json: ... at line L column C (byte B)")
 *   json.null, json.array([t]), json.object([t]), json.is_array(t)
 */
#include <string.h>

#include <lauxlib.h>

#include "util/json_codec.h"

static int opt_int(lua_State *L, int opts, const char *name, int dflt) {
  if (lua_isnoneornil(L, opts)) return dflt;
  int v = dflt;
  int t = lua_getfield(L, opts, name);
  if (t == LUA_TBOOLEAN) v = lua_toboolean(L, -1) ? 1 : 0;
  else if (t == LUA_TNUMBER) v = (int)luaL_checkinteger(L, -1);
  else if (t != LUA_TNIL) luaL_error(L, "json: option '%s' must be a boolean or an integer", name);
  lua_pop(L, 1);
  return v;
}

static int l_encode(lua_State *L) {
  luaL_checkany(L, 1);
  if (lua_isnoneornil(L, 2)) {
    lua_settop(L, 1);
    lua_newtable(L);
  }
  luaL_checktype(L, 2, LUA_TTABLE);
  struct json_encode_opts o;
  o.indent = opt_int(L, 2, "indent", 0);
  if (o.indent == 1 && lua_getfield(L, 2, "indent") == LUA_TBOOLEAN) o.indent = 2; /* true: 2 spaces */
  lua_settop(L, 2);
  o.sort_keys = opt_int(L, 2, "sort_keys", 0);
  o.max_depth = opt_int(L, 2, "max_depth", JSON_DEFAULT_DEPTH);
  if (o.indent < 0 || o.indent > 16) return luaL_argerror(L, 2, "indent must be 0..16");
  json_encode(L, 1, &o);
  return 1;
}

static int l_decode(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
  int max_depth = opt_int(L, 2, "max_depth", JSON_DEFAULT_DEPTH);
  json_decode(L, s, len, max_depth);
  return 1;
}

/* Marking sets our metatable; a table with a metatable of its own says __jsontype there instead,
 * because replacing someone's metatable would silently break their object. */
static int mark(lua_State *L, const char *mt, const char *kind) {
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  luaL_getmetatable(L, mt);
  if (lua_getmetatable(L, 1)) {
    if (!lua_rawequal(L, -1, -2))
      return luaL_error(L, "json.%s: table already has a metatable (set __jsontype = \"%s\" in it)", kind, kind);
    lua_pop(L, 2);
    return 1;
  }
  lua_setmetatable(L, 1);
  return 1;
}

static int l_array(lua_State *L) { return mark(L, JSON_ARRAY_MT, "array"); }
static int l_object(lua_State *L) { return mark(L, JSON_OBJECT_MT, "object"); }

static int l_is_array(lua_State *L) {
  if (!lua_istable(L, 1)) {
    lua_pushboolean(L, 0);
    return 1;
  }
  lua_Integer n;
  enum json_kind k = json_table_kind(L, 1, &n);
  lua_pushboolean(L, k == JSON_ARRAY);
  return 1;
}

int luaopen_azure_core_json(lua_State *L) {
  static const luaL_Reg fns[] = {
      {"encode", l_encode}, {"decode", l_decode},     {"array", l_array},
      {"object", l_object}, {"is_array", l_is_array}, {NULL, NULL},
  };
  json_init_metatables(L);
  luaL_newlib(L, fns);
  json_push_null(L);
  lua_setfield(L, -2, "null");
  return 1;
}
