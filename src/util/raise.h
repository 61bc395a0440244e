/* Data errors (bad JSON, bad XML, an OpenSSL failure) describe the data, not the Lua line that
 * passed it, so they are raised without luaL_error's "file:line:" prefix. Misuse of an API still
 * goes through luaL_argerror/luaL_error, whose position points at the mistake. */
#ifndef AZLUA_RAISE_H
#define AZLUA_RAISE_H

#include <lua.h>

int azlua_raise(lua_State *L, const char *fmt, ...);

#endif
