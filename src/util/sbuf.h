/* A growable byte buffer owned by a Lua userdata, for builders that recurse and push values while
 * they write (luaL_Buffer needs its box on top of the stack, so it cannot serve there). Because the
 * memory belongs to a userdata with __gc, a Lua error raised midway frees it: no leak on error. */
#ifndef AZLUA_SBUF_H
#define AZLUA_SBUF_H

#include <stddef.h>
#include <string.h>

#include <lua.h>

typedef struct sbuf {
  char *p;
  size_t len, cap;
  lua_State *L; /* for raising "not enough memory" */
} sbuf;

/* Pushes the owning userdata and returns the buffer inside it (empty, no memory yet). */
sbuf *sbuf_new(lua_State *L);
/* Makes room for n more bytes and returns where they go; raises a memory error on failure. */
char *sbuf_reserve(sbuf *b, size_t n);
void sbuf_free(sbuf *b);
/* Pushes the contents as a Lua string and releases the memory at once (large results should not
 * wait for the collector). */
void sbuf_push(sbuf *b);

static inline void sbuf_add(sbuf *b, const void *s, size_t n) {
  if (b->cap - b->len < n) sbuf_reserve(b, n);
  if (n) memcpy(b->p + b->len, s, n);
  b->len += n;
}

static inline void sbuf_addc(sbuf *b, char c) {
  if (b->len == b->cap) sbuf_reserve(b, 1);
  b->p[b->len++] = c;
}

static inline void sbuf_adds(sbuf *b, const char *s) { sbuf_add(b, s, strlen(s)); }

#endif
