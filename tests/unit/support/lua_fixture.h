/* For unit tests that drive azlua modules through a Lua state of their own, as an embedder would. */
#ifndef AZLUA_TEST_LUA_FIXTURE_H
#define AZLUA_TEST_LUA_FIXTURE_H

#include <check.h>
#include <lua.h>

/* A new state with Lua's libraries and every azlua module registered. */
lua_State *lf_state(void);

/* Runs `code` as a chunk and returns tostring() of its first result, or "ERR: <message>" when it
 * raises. The string stays valid until the next lf_eval on the same state. */
const char *lf_eval(lua_State *L, const char *code);

/* Runs every test of the suite and returns the process exit status. */
int lf_run_suite(Suite *s);

#endif
