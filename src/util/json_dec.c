/* JSON text → Lua values, strict RFC 8259, in one pass with no intermediate tree. */
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "util/raise.h"
#include "util/json_codec.h"
#include "util/sbuf.h"
#include "util/utf8.h"

typedef struct {
  lua_State *L;
  const char *start, *p, *end;
  int depth, max_depth;
  int array_mt; /* stack index of the array marker, set on every decoded array */
  sbuf *scratch; /* reused for strings with escapes */
  char decimal_point;
} decoder;

/* Positions are computed only when failing, so the fast path never counts lines. */
static void dec_fail(decoder *d, const char *at, const char *what) {
  size_t line = 1;
  const char *line_start = d->start;
  for (const char *q = d->start; q < at; q++) {
    if (*q == '\n') {
      line++;
      line_start = q + 1;
    }
  }
  azlua_raise(d->L, "json: %s at line %d column %d (byte %d)", what, (int)line, (int)(at - line_start + 1),
             (int)(at - d->start + 1));
}

static void dec_unexpected(decoder *d, const char *at) {
  char what[48];
  if (at >= d->end) {
    dec_fail(d, at, "unexpected end of input");
  }
  unsigned char c = (unsigned char)*at;
  if (c >= 0x20 && c < 0x7F)
    snprintf(what, sizeof what, "unexpected character '%c'", c);
  else
    snprintf(what, sizeof what, "unexpected byte 0x%02X", c);
  dec_fail(d, at, what);
}

static void skip_ws(decoder *d) {
  const char *p = d->p, *end = d->end;
  while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
  d->p = p;
}

static int hex4(const char *p, uint32_t *out) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (uint32_t)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (uint32_t)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (uint32_t)(c - 'A' + 10);
    else return 0;
  }
  *out = v;
  return 1;
}

/* p points at the backslash; appends the decoded character and returns what follows. */
static const char *dec_escape(decoder *d, const char *p, sbuf *b) {
  if (p + 1 >= d->end) dec_unexpected(d, d->end);
  char c = p[1];
  switch (c) {
    case '"': case '\\': case '/': sbuf_addc(b, c); return p + 2;
    case 'b': sbuf_addc(b, '\b'); return p + 2;
    case 'f': sbuf_addc(b, '\f'); return p + 2;
    case 'n': sbuf_addc(b, '\n'); return p + 2;
    case 'r': sbuf_addc(b, '\r'); return p + 2;
    case 't': sbuf_addc(b, '\t'); return p + 2;
    case 'u': break;
    default: dec_fail(d, p, "invalid escape in string");
  }
  uint32_t cp = 0, lo = 0; /* initialized: gcc -O3 cannot see that dec_fail never returns */
  if (d->end - p < 6 || !hex4(p + 2, &cp)) dec_fail(d, p, "invalid \\u escape");
  const char *next = p + 6;
  if (cp >= 0xDC00 && cp <= 0xDFFF) dec_fail(d, p, "lone low surrogate in \\u escape");
  if (cp >= 0xD800 && cp <= 0xDBFF) {
    /* UTF-16 pair: JSON's only way to write a code point above U+FFFF as an escape. */
    if (d->end - next < 6 || next[0] != '\\' || next[1] != 'u' || !hex4(next + 2, &lo) || lo < 0xDC00 ||
        lo > 0xDFFF)
      dec_fail(d, p, "lone high surrogate in \\u escape");
    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    next += 6;
  }
  char out[4];
  sbuf_add(b, out, utf8_encode(cp, out));
  return next;
}

static void dec_string(decoder *d) {
  const char *p = d->p + 1, *run = p;
  const unsigned char *end = (const unsigned char *)d->end;
  sbuf *b = NULL;
  for (;;) {
    if (p >= d->end) dec_fail(d, d->end, "unexpected end of input in string");
    unsigned char c = (unsigned char)*p;
    if (c == '"') break;
    if (c == '\\') {
      if (b == NULL) {
        b = d->scratch;
        b->len = 0;
      }
      sbuf_add(b, run, (size_t)(p - run));
      p = dec_escape(d, p, b);
      run = p;
    } else if (c >= 0x20 && c < 0x80) {
      p++;
    } else if (c < 0x20) {
      dec_fail(d, p, "control character in string");
    } else {
      size_t n = utf8_seq_len((const unsigned char *)p, end);
      if (n == 0) dec_fail(d, p, "invalid UTF-8 in string");
      p += n;
    }
  }
  if (b) {
    sbuf_add(b, run, (size_t)(p - run));
    lua_pushlstring(d->L, b->p, b->len);
  } else {
    lua_pushlstring(d->L, run, (size_t)(p - run));
  }
  d->p = p + 1;
}

static int isdig(const char *p, const char *end) { return p < end && *p >= '0' && *p <= '9'; }

static void dec_number(decoder *d) {
  const char *s = d->p, *p = s, *end = d->end;
  int neg = 0, integral = 1;
  if (*p == '-') {
    neg = 1;
    p++;
  }
  if (p < end && *p == '0') p++;
  else if (isdig(p, end)) while (isdig(p, end)) p++;
  else dec_unexpected(d, p);
  if (p < end && *p == '.') {
    integral = 0;
    if (!isdig(++p, end)) dec_unexpected(d, p);
    while (isdig(p, end)) p++;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    integral = 0;
    p++;
    if (p < end && (*p == '+' || *p == '-')) p++;
    if (!isdig(p, end)) dec_unexpected(d, p);
    while (isdig(p, end)) p++;
  }
  d->p = p;
  if (integral) {
    /* Exact 64-bit integers; only a value beyond int64 falls back to a float, as in Lua. */
    uint64_t v = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    int fits = 1;
    for (const char *q = s + neg; q < p; q++) {
      unsigned digit = (unsigned)(*q - '0');
      if (v > (limit - digit) / 10) {
        fits = 0;
        break;
      }
      v = v * 10 + digit;
    }
    if (fits) {
      lua_pushinteger(d->L, neg ? (lua_Integer)(0 - v) : (lua_Integer)v);
      return;
    }
  }
  char small[64], *buf = small;
  size_t n = (size_t)(p - s);
  if (n >= sizeof small) {
    buf = (char *)lua_newuserdatauv(d->L, n + 1, 0);
  }
  memcpy(buf, s, n);
  buf[n] = '\0';
  if (d->decimal_point != '.') {
    char *dot = strchr(buf, '.');
    if (dot) *dot = d->decimal_point;
  }
  double x = strtod(buf, NULL);
  if (buf != small) lua_pop(d->L, 1);
  lua_pushnumber(d->L, x);
}

static void dec_literal(decoder *d, const char *word, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (d->p + i >= d->end || d->p[i] != word[i]) dec_unexpected(d, d->p + i);
  }
  d->p += n;
}

static void dec_value(decoder *d);

static void dec_enter(decoder *d) {
  if (++d->depth > d->max_depth) {
    char what[64];
    snprintf(what, sizeof what, "nesting deeper than %d levels", d->max_depth);
    dec_fail(d, d->p, what);
  }
  luaL_checkstack(d->L, 4, "json: nesting too deep");
}

static void dec_array(decoder *d) {
  lua_State *L = d->L;
  dec_enter(d);
  d->p++;
  lua_createtable(L, 0, 0);
  lua_pushvalue(L, d->array_mt);
  lua_setmetatable(L, -2);
  skip_ws(d);
  if (d->p < d->end && *d->p == ']') {
    d->p++;
    d->depth--;
    return;
  }
  for (lua_Integer i = 1;; i++) {
    dec_value(d);
    lua_rawseti(L, -2, i);
    skip_ws(d);
    if (d->p < d->end && *d->p == ',') {
      d->p++;
    } else if (d->p < d->end && *d->p == ']') {
      d->p++;
      break;
    } else {
      dec_unexpected(d, d->p);
    }
  }
  d->depth--;
}

static void dec_object(decoder *d) {
  lua_State *L = d->L;
  dec_enter(d);
  d->p++;
  lua_createtable(L, 0, 0);
  skip_ws(d);
  if (d->p < d->end && *d->p == '}') {
    d->p++;
    d->depth--;
    return;
  }
  for (;;) {
    skip_ws(d);
    if (d->p >= d->end || *d->p != '"') dec_unexpected(d, d->p);
    dec_string(d);
    skip_ws(d);
    if (d->p >= d->end || *d->p != ':') dec_unexpected(d, d->p);
    d->p++;
    dec_value(d);
    lua_rawset(L, -3);
    skip_ws(d);
    if (d->p < d->end && *d->p == ',') {
      d->p++;
    } else if (d->p < d->end && *d->p == '}') {
      d->p++;
      break;
    } else {
      dec_unexpected(d, d->p);
    }
  }
  d->depth--;
}

static void dec_value(decoder *d) {
  skip_ws(d);
  if (d->p >= d->end) dec_unexpected(d, d->p);
  switch (*d->p) {
    case '{': dec_object(d); break;
    case '[': dec_array(d); break;
    case '"': dec_string(d); break;
    case 't': dec_literal(d, "true", 4); lua_pushboolean(d->L, 1); break;
    case 'f': dec_literal(d, "false", 5); lua_pushboolean(d->L, 0); break;
    case 'n': dec_literal(d, "null", 4); json_push_null(d->L); break;
    default:
      if (*d->p == '-' || (*d->p >= '0' && *d->p <= '9')) dec_number(d);
      else dec_unexpected(d, d->p);
  }
}

void json_decode(lua_State *L, const char *s, size_t len, int max_depth) {
  decoder d;
  d.L = L;
  d.start = d.p = s;
  d.end = s + len;
  d.depth = 0;
  d.max_depth = max_depth > 0 ? max_depth : JSON_DEFAULT_DEPTH;
  d.decimal_point = localeconv()->decimal_point[0];
  luaL_checkstack(L, 8, "json: out of stack");
  json_init_metatables(L);
  luaL_getmetatable(L, JSON_ARRAY_MT);
  d.array_mt = lua_gettop(L);
  d.scratch = sbuf_new(L);
  /* A UTF-8 byte order mark is tolerated (RFC 8259 §8.1 allows ignoring it). */
  if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) d.p += 3;
  dec_value(&d);
  skip_ws(&d);
  if (d.p < d.end) dec_unexpected(&d, d.p);
  sbuf_free(d.scratch);
  lua_replace(L, d.array_mt);
  lua_pop(L, 1);
}
