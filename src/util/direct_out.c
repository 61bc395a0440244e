/* O_DIRECT response bodies: see direct_out.h. */
#include "util/direct_out.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/pwrite_all.h"

void direct_out_init(direct_out_t *d) {
  d->fd = -1;
  d->plain = -1;
  d->buf = NULL;
  d->n = 0;
  d->at = 0;
}

int direct_out_open(direct_out_t *d, const char *path, off_t offset, int plain) {
  direct_out_init(d);
  if (offset % DIRECT_OUT_ALIGN != 0) {
    errno = EINVAL;
    return -1;
  }
  void *buf = NULL;
  int e = posix_memalign(&buf, DIRECT_OUT_ALIGN, DIRECT_OUT_CHUNK);
  if (e != 0) {
    errno = e;
    return -1;
  }
  int fd = open(path, O_WRONLY | O_CLOEXEC | O_DIRECT);
  if (fd < 0) {
    e = errno;
    free(buf);
    errno = e;
    return -1;
  }
  d->fd = fd;
  d->plain = plain;
  d->buf = buf;
  d->at = offset;
  return 0;
}

/* Writes buf[0..len) at d->at: directly when that is aligned, else (or when the file system refuses
 * O_DIRECT after all) through the plain descriptor. */
static int write_staged(direct_out_t *d, size_t len) {
  if (d->fd >= 0 && len % DIRECT_OUT_ALIGN == 0) {
    if (pwrite_all(d->fd, d->buf, len, d->at) == 0) return 0;
    if (errno != EINVAL) return -1;
    close(d->fd); /* opened, but refused: write as usual from here on */
    d->fd = -1;
  }
  return pwrite_all(d->plain, d->buf, len, d->at);
}

int direct_out_write(direct_out_t *d, const char *p, size_t n) {
  while (n > 0) {
    size_t room = DIRECT_OUT_CHUNK - d->n, k = n < room ? n : room;
    memcpy(d->buf + d->n, p, k);
    d->n += k;
    p += k;
    n -= k;
    if (d->n == DIRECT_OUT_CHUNK) {
      if (write_staged(d, d->n) != 0) return -1;
      d->at += (off_t)d->n;
      d->n = 0;
    }
  }
  return 0;
}

int direct_out_flush(direct_out_t *d) {
  if (d->buf == NULL || d->n == 0) return 0;
  size_t aligned = d->n - d->n % DIRECT_OUT_ALIGN;
  if (aligned > 0) {
    if (write_staged(d, aligned) != 0) return -1;
    memmove(d->buf, d->buf + aligned, d->n - aligned);
    d->at += (off_t)aligned;
    d->n -= aligned;
  }
  if (d->n > 0) {
    if (pwrite_all(d->plain, d->buf, d->n, d->at) != 0) return -1;
    d->at += (off_t)d->n;
    d->n = 0;
  }
  return 0;
}

void direct_out_close(direct_out_t *d) {
  if (d->fd >= 0) close(d->fd);
  free(d->buf);
  direct_out_init(d);
}
