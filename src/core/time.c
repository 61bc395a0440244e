/* azure.core.time: clocks, sleep and the RFC 1123 / ISO 8601 formats of util/datetime.c.
 *
 *   time.now() -> float epoch seconds            time.monotonic() -> float seconds
 *   time.rfc1123([t]) -> "Mon, 01 Jan 2024 00:00:00 GMT"
 *   time.iso8601([t [, {fraction=true|digits}]]) -> "2026-11-24T11:00:00Z"
 *   time.parse_rfc1123(s), time.parse_iso8601(s) -> epoch, or nil, "invalid ... date"
 *   time.sleep(seconds)                          raises "interrupted!" on Ctrl-C
 */
#include <errno.h>
#include <math.h>
#include <time.h>

#include <lauxlib.h>

#include "util/clock.h"
#include "util/datetime.h"
#include "util/interrupt.h"

static int l_now(lua_State *L) {
  lua_pushnumber(L, clock_seconds(CLOCK_REALTIME));
  return 1;
}

static int l_monotonic(lua_State *L) {
  lua_pushnumber(L, clock_seconds(CLOCK_MONOTONIC));
  return 1;
}

/* Optional time argument: whole seconds and the nanoseconds below them (now when absent). */
static void opt_time(lua_State *L, int arg, int64_t *secs, long *nanos) {
  if (lua_isnoneornil(L, arg)) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    *secs = (int64_t)ts.tv_sec;
    *nanos = ts.tv_nsec;
    return;
  }
  if (lua_isinteger(L, arg)) {
    *secs = (int64_t)lua_tointeger(L, arg);
    *nanos = 0;
    return;
  }
  double t = luaL_checknumber(L, arg);
  /* Years 0..9999: what both formats can spell with four digits. */
  luaL_argcheck(L, isfinite(t) && t >= -62167219200.0 && t < 253402300800.0, arg, "time out of range");
  double f = floor(t);
  *secs = (int64_t)f;
  *nanos = (long)((t - f) * 1e9);
}

static void check_range(lua_State *L, int arg, int64_t secs) {
  luaL_argcheck(L, secs >= -62167219200LL && secs < 253402300800LL, arg, "time out of range");
}

static int l_rfc1123(lua_State *L) {
  int64_t secs;
  long nanos;
  opt_time(L, 1, &secs, &nanos);
  check_range(L, 1, secs);
  char buf[64];
  lua_pushlstring(L, buf, dt_format_rfc1123(secs, buf, sizeof buf));
  return 1;
}

static int l_iso8601(lua_State *L) {
  int64_t secs;
  long nanos;
  opt_time(L, 1, &secs, &nanos);
  int digits = 0;
  if (!lua_isnoneornil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    int t = lua_getfield(L, 2, "fraction");
    if (t == LUA_TBOOLEAN) digits = lua_toboolean(L, -1) ? 6 : 0;
    else if (t == LUA_TNUMBER) digits = (int)lua_tointeger(L, -1);
    else if (t != LUA_TNIL) return luaL_argerror(L, 2, "fraction must be a boolean or 1..9");
    luaL_argcheck(L, digits >= 0 && digits <= 9, 2, "fraction must be a boolean or 1..9");
  }
  if (digits > 0) {
    /* Round to the digits shown; a carry moves into the seconds. */
    long unit = 1;
    for (int i = digits; i < 9; i++) unit *= 10;
    nanos = (nanos + unit / 2) / unit * unit;
    if (nanos >= 1000000000L) {
      nanos -= 1000000000L;
      secs++;
    }
  }
  check_range(L, 1, secs);
  char buf[64];
  lua_pushlstring(L, buf, dt_format_iso8601(secs, nanos, digits, buf, sizeof buf));
  return 1;
}

static int l_parse_rfc1123(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  int64_t t;
  if (dt_parse_rfc1123(s, len, &t) != 0) {
    luaL_pushfail(L);
    lua_pushliteral(L, "invalid RFC 1123 date");
    return 2;
  }
  lua_pushinteger(L, (lua_Integer)t);
  return 1;
}

static int l_parse_iso8601(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  int64_t t;
  long nanos;
  int frac;
  if (dt_parse_iso8601(s, len, &t, &nanos, &frac) != 0) {
    luaL_pushfail(L);
    lua_pushliteral(L, "invalid ISO 8601 date");
    return 2;
  }
  if (frac) lua_pushnumber(L, (double)t + (double)nanos / 1e9);
  else lua_pushinteger(L, (lua_Integer)t);
  return 1;
}

/* Sleeps in slices so that Ctrl-C is seen within 50 ms even if the signal lands between the flag
 * check and the system call. */
static int l_sleep(lua_State *L) {
  double secs = luaL_checknumber(L, 1);
  luaL_argcheck(L, isfinite(secs) && secs >= 0, 1, "seconds must be a non-negative number");
  double deadline = clock_seconds(CLOCK_MONOTONIC) + secs;
  for (;;) {
    if (azlua_interrupted) return luaL_error(L, "interrupted!");
    double left = deadline - clock_seconds(CLOCK_MONOTONIC);
    if (left <= 0) break;
    if (left > 0.05) left = 0.05;
    struct timespec ts = {(time_t)left, (long)((left - floor(left)) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !azlua_interrupted) {
    }
  }
  return 0;
}

int luaopen_azure_core_time(lua_State *L) {
  static const luaL_Reg fns[] = {
      {"now", l_now},
      {"monotonic", l_monotonic},
      {"rfc1123", l_rfc1123},
      {"iso8601", l_iso8601},
      {"parse_rfc1123", l_parse_rfc1123},
      {"parse_iso8601", l_parse_iso8601},
      {"sleep", l_sleep},
      {NULL, NULL},
  };
  luaL_newlib(L, fns);
  return 1;
}
