/* Lua values → JSON text, written straight into one growing buffer. */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "util/raise.h"
#include "util/json_codec.h"
#include "util/sbuf.h"
#include "util/utf8.h"

static const char json_null_anchor = 0;

void json_push_null(lua_State *L) { lua_pushlightuserdata(L, (void *)&json_null_anchor); }

int json_is_null(lua_State *L, int idx) {
  return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == (void *)&json_null_anchor;
}

void json_init_metatables(lua_State *L) {
  if (luaL_newmetatable(L, JSON_ARRAY_MT)) {
    lua_pushliteral(L, "array");
    lua_setfield(L, -2, "__jsontype");
  }
  if (luaL_newmetatable(L, JSON_OBJECT_MT)) {
    lua_pushliteral(L, "object");
    lua_setfield(L, -2, "__jsontype");
  }
  lua_pop(L, 2);
}

typedef struct {
  lua_State *L;
  sbuf *b;
  int indent, sort_keys, depth, max_depth;
  char decimal_point;
} encoder;

/* Marks come from a metatable's __jsontype, so ours and a user's class are treated alike. */
static enum json_kind marked_kind(lua_State *L, int idx, int *marked) {
  *marked = 0;
  if (!lua_getmetatable(L, idx)) return JSON_EMPTY;
  lua_pushliteral(L, "__jsontype");
  lua_rawget(L, -2);
  enum json_kind k = JSON_EMPTY;
  const char *s = lua_tostring(L, -1);
  if (s && strcmp(s, "array") == 0) k = JSON_ARRAY, *marked = 1;
  else if (s && strcmp(s, "object") == 0) k = JSON_OBJECT, *marked = 1;
  lua_pop(L, 2);
  return k;
}

enum json_kind json_table_kind(lua_State *L, int idx, lua_Integer *n) {
  int marked;
  idx = lua_absindex(L, idx);
  enum json_kind k = marked_kind(L, idx, &marked);
  *n = 0;
  if (marked) {
    if (k == JSON_ARRAY) *n = (lua_Integer)lua_rawlen(L, idx);
    return k;
  }
  lua_Integer count = 0, max = 0, strings = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    count++;
    if (lua_type(L, -1) == LUA_TSTRING) {
      strings++;
    } else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1) {
      if (lua_tointeger(L, -1) > max) max = lua_tointeger(L, -1);
    } else {
      azlua_raise(L, "json: cannot encode a table key of type %s", luaL_typename(L, -1));
    }
  }
  if (count == 0) return JSON_EMPTY;
  if (strings == count) return JSON_OBJECT;
  if (strings > 0) azlua_raise(L, "json: cannot encode a table with both array and object keys");
  if (max != count)
    azlua_raise(L, "json: cannot encode a sparse array (%d entries, largest index %d; use json.null for gaps)",
               (int)count, (int)max);
  *n = max;
  return JSON_ARRAY;
}

static void enc_newline(encoder *e, int level) {
  if (!e->indent) return;
  size_t n = (size_t)level * (size_t)e->indent;
  char *p = sbuf_reserve(e->b, n + 1);
  p[0] = '\n';
  memset(p + 1, ' ', n);
  e->b->len += n + 1;
}

static void enc_string(encoder *e, const char *s, size_t len) {
  static const char hexd[] = "0123456789abcdef";
  const unsigned char *p = (const unsigned char *)s, *end = p + len, *run = p;
  sbuf *b = e->b;
  sbuf_addc(b, '"');
  while (p < end) {
    unsigned char c = *p;
    if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
      p++;
      continue;
    }
    if (c >= 0x80) {
      /* Valid UTF-8 is copied as is; anything else would make text no JSON reader accepts. */
      size_t n = utf8_seq_len(p, end);
      if (n == 0) azlua_raise(e->L, "json: cannot encode invalid UTF-8 (byte %d of a string)", (int)(p - (const unsigned char *)s + 1));
      p += n;
      continue;
    }
    sbuf_add(b, run, (size_t)(p - run));
    char esc[6] = {'\\', 0, 0, 0, 0, 0};
    size_t n = 2;
    switch (c) {
      case '"': esc[1] = '"'; break;
      case '\\': esc[1] = '\\'; break;
      case '\b': esc[1] = 'b'; break;
      case '\f': esc[1] = 'f'; break;
      case '\n': esc[1] = 'n'; break;
      case '\r': esc[1] = 'r'; break;
      case '\t': esc[1] = 't'; break;
      default:
        esc[1] = 'u', esc[2] = '0', esc[3] = '0', esc[4] = hexd[c >> 4], esc[5] = hexd[c & 15];
        n = 6;
    }
    sbuf_add(b, esc, n);
    run = ++p;
  }
  sbuf_add(b, run, (size_t)(p - run));
  sbuf_addc(b, '"');
}

static void enc_integer(encoder *e, lua_Integer v) {
  char tmp[24];
  int i = (int)sizeof tmp;
  unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
  do {
    tmp[--i] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) tmp[--i] = '-';
  sbuf_add(e->b, tmp + i, sizeof tmp - (size_t)i);
}

/* The shortest of %.15g..%.17g that reads back as the same double, so 0.1 stays "0.1". */
static void enc_float(encoder *e, double x) {
  if (!isfinite(x)) azlua_raise(e->L, "json: cannot encode NaN or infinity");
  char buf[40];
  int n = 0;
  for (int prec = 15; prec <= 17; prec++) {
    n = snprintf(buf, sizeof buf, "%.*g", prec, x);
    if (strtod(buf, NULL) == x) break;
  }
  int plain = 1;
  for (int i = 0; i < n; i++) {
    if (buf[i] == e->decimal_point) buf[i] = '.';
    if (buf[i] == '.' || buf[i] == 'e') plain = 0;
  }
  /* "1.0", not "1": a float stays a float through decode. */
  if (plain) n += snprintf(buf + n, sizeof buf - (size_t)n, ".0");
  sbuf_add(e->b, buf, (size_t)n);
}

static void enc_value(encoder *e, int idx, int level);

static void enc_array(encoder *e, int idx, lua_Integer n, int level) {
  sbuf_addc(e->b, '[');
  for (lua_Integer i = 1; i <= n; i++) {
    if (i > 1) sbuf_addc(e->b, ',');
    enc_newline(e, level + 1);
    if (lua_rawgeti(e->L, idx, i) == LUA_TNIL)
      azlua_raise(e->L, "json: array has nil at index %d (use json.null)", (int)i);
    enc_value(e, lua_gettop(e->L), level + 1);
    lua_pop(e->L, 1);
  }
  if (n > 0) enc_newline(e, level);
  sbuf_addc(e->b, ']');
}

static void enc_member(encoder *e, int key, int *first, int level) {
  lua_State *L = e->L;
  if (lua_type(L, key) != LUA_TSTRING)
    azlua_raise(L, "json: object key must be a string, got %s", luaL_typename(L, key));
  if (!*first) sbuf_addc(e->b, ',');
  *first = 0;
  enc_newline(e, level + 1);
  size_t len;
  const char *k = lua_tolstring(L, key, &len);
  enc_string(e, k, len);
  if (e->indent) sbuf_add(e->b, ": ", 2);
  else sbuf_addc(e->b, ':');
  enc_value(e, key + 1, level + 1);
}

typedef struct {
  const char *s;
  size_t n;
} keyref;

static int keyref_cmp(const void *a, const void *b) {
  const keyref *x = (const keyref *)a, *y = (const keyref *)b;
  int c = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);
  return c ? c : (x->n > y->n) - (x->n < y->n);
}

/* Keys stay alive while the table holds them, so pointers to them are safe to sort. */
static void enc_object_sorted(encoder *e, int idx, int level, int *first) {
  lua_State *L = e->L;
  size_t count = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING)
      azlua_raise(L, "json: object key must be a string, got %s", luaL_typename(L, -1));
    count++;
  }
  keyref *keys = (keyref *)lua_newuserdatauv(L, count * sizeof *keys + 1, 0);
  size_t i = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    keys[i].s = lua_tolstring(L, -1, &keys[i].n);
    i++;
  }
  qsort(keys, count, sizeof *keys, keyref_cmp);
  for (i = 0; i < count; i++) {
    lua_pushlstring(L, keys[i].s, keys[i].n);
    lua_pushvalue(L, -1);
    lua_rawget(L, idx);
    enc_member(e, lua_gettop(L) - 1, first, level);
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
}

static void enc_object(encoder *e, int idx, int level) {
  lua_State *L = e->L;
  int first = 1;
  sbuf_addc(e->b, '{');
  if (e->sort_keys) {
    enc_object_sorted(e, idx, level, &first);
  } else {
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      enc_member(e, lua_gettop(L) - 1, &first, level);
      lua_pop(L, 1);
    }
  }
  if (!first) enc_newline(e, level);
  sbuf_addc(e->b, '}');
}

static void enc_table(encoder *e, int idx, int level) {
  if (++e->depth > e->max_depth)
    azlua_raise(e->L, "json: nesting deeper than %d levels (a table that contains itself?)", e->max_depth);
  luaL_checkstack(e->L, 6, "json: nesting too deep");
  lua_Integer n;
  switch (json_table_kind(e->L, idx, &n)) {
    case JSON_ARRAY: enc_array(e, idx, n, level); break;
    case JSON_OBJECT: enc_object(e, idx, level); break;
    case JSON_EMPTY: sbuf_add(e->b, "{}", 2); break;
  }
  e->depth--;
}

static void enc_value(encoder *e, int idx, int level) {
  lua_State *L = e->L;
  switch (lua_type(L, idx)) {
    case LUA_TNIL: sbuf_add(e->b, "null", 4); break;
    case LUA_TBOOLEAN:
      if (lua_toboolean(L, idx)) sbuf_add(e->b, "true", 4);
      else sbuf_add(e->b, "false", 5);
      break;
    case LUA_TNUMBER:
      if (lua_isinteger(L, idx)) enc_integer(e, lua_tointeger(L, idx));
      else enc_float(e, lua_tonumber(L, idx));
      break;
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, idx, &len);
      enc_string(e, s, len);
      break;
    }
    case LUA_TTABLE: enc_table(e, idx, level); break;
    case LUA_TLIGHTUSERDATA:
      if (json_is_null(L, idx)) {
        sbuf_add(e->b, "null", 4);
        break;
      }
      /* fall through */
    default: azlua_raise(L, "json: cannot encode a %s value", luaL_typename(L, idx));
  }
}

void json_encode(lua_State *L, int idx, const struct json_encode_opts *opts) {
  encoder e;
  idx = lua_absindex(L, idx);
  e.L = L;
  e.indent = opts ? opts->indent : 0;
  e.sort_keys = opts ? opts->sort_keys : 0;
  e.max_depth = (opts && opts->max_depth > 0) ? opts->max_depth : JSON_DEFAULT_DEPTH;
  e.depth = 0;
  e.decimal_point = localeconv()->decimal_point[0];
  e.b = sbuf_new(L);
  enc_value(&e, idx, 0);
  sbuf_push(e.b);
  lua_remove(L, -2);
}
