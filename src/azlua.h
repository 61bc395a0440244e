/* azlua embedding API: open every azlua module in a lua_State of your own.
 *
 *   lua_State *L = luaL_newstate();
 *   luaL_openlibs(L);
 *   azlua_openlibs(L);          // require "azure", "azure.core.json", ... now work
 *
 * Nothing is loaded until it is required: azlua_openlibs only registers loaders. */
#ifndef AZLUA_H
#define AZLUA_H

#include <lua.h>

#define AZLUA_VERSION_STRING "0.1.0"

/* Registers the C modules (azure.core.*) in package.preload and a searcher for the Lua modules
 * compiled into the library. A module file found on AZLUA_PATH or package.path wins over the
 * built-in copy, so users can edit a module in place. Returns 0. */
int azlua_openlibs(lua_State *L);

#endif
