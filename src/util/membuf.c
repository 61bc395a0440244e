#include "util/membuf.h"

#include <stdlib.h>
#include <string.h>

int membuf_add(membuf_t *b, const char *p, size_t n) {
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->n + n + 1) cap *= 2;
    char *q = realloc(b->p, cap);
    if (!q) return -1;
    b->p = q;
    b->cap = cap;
  }
  if (n) memcpy(b->p + b->n, p, n);
  b->n += n;
  b->p[b->n] = '\0';
  return 0;
}

void membuf_consume(membuf_t *b, size_t n) {
  if (n >= b->n) {
    b->n = 0;
  } else {
    memmove(b->p, b->p + n, b->n - n);
    b->n -= n;
  }
  if (b->p) b->p[b->n] = '\0';
}

void membuf_free(membuf_t *b) {
  free(b->p);
  b->p = NULL;
  b->n = b->cap = 0;
}
