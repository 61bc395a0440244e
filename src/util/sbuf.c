#include "util/sbuf.h"

#include <stdlib.h>

#include <lauxlib.h>

static int sbuf_gc(lua_State *L) {
  sbuf_free((sbuf *)lua_touserdata(L, 1));
  return 0;
}

sbuf *sbuf_new(lua_State *L) {
  sbuf *b = (sbuf *)lua_newuserdatauv(L, sizeof *b, 0);
  b->p = NULL;
  b->len = b->cap = 0;
  b->L = L;
  if (luaL_newmetatable(L, "azlua.sbuf")) {
    lua_pushcfunction(L, sbuf_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  return b;
}

char *sbuf_reserve(sbuf *b, size_t n) {
  if (b->cap - b->len >= n) return b->p + b->len;
  size_t cap = b->cap ? b->cap : 256;
  /* Doubling keeps building a 50 MB document linear. */
  while (cap - b->len < n) {
    if (cap > ((size_t)-1) / 2) luaL_error(b->L, "not enough memory");
    cap *= 2;
  }
  char *p = (char *)realloc(b->p, cap);
  if (p == NULL) luaL_error(b->L, "not enough memory");
  b->p = p;
  b->cap = cap;
  return b->p + b->len;
}

void sbuf_free(sbuf *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

void sbuf_push(sbuf *b) {
  lua_pushlstring(b->L, b->p ? b->p : "", b->len);
  sbuf_free(b);
}
