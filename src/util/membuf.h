/* A growable byte buffer, always NUL-terminated after its n bytes once anything was added. */
#ifndef AZLUA_MEMBUF_H
#define AZLUA_MEMBUF_H

#include <stddef.h>

typedef struct {
  char *p;
  size_t n, cap;
} membuf_t;

/* Appends n bytes; 0, or -1 when out of memory (the buffer is then unchanged). */
int membuf_add(membuf_t *b, const char *p, size_t n);
/* Drops the first n bytes (n <= b->n). */
void membuf_consume(membuf_t *b, size_t n);
void membuf_free(membuf_t *b);

#endif
