/* Shared between the host's runner (main.c) and its REPL (repl.c). */
#ifndef AZLUA_HOST_H
#define AZLUA_HOST_H

#include <lua.h>

/* Runs the function on the stack (with narg arguments above it) under the error handler,
 * with Ctrl-C turned into a Lua error while it runs. Returns a lua_pcall status. */
int host_docall(lua_State *L, int narg, int nres);

/* Prints a failed call's message ("azlua: ...") to stderr and pops it. */
void host_report(lua_State *L, int status);

/* 1 when tracebacks were asked for (AZLUA_DEBUG=1 or -d). */
extern int host_debug;

/* The interactive loop; returns when the user ends it (Ctrl-D). */
void host_repl(lua_State *L);

#endif
