/* Writing a response body to a file with O_DIRECT: the bytes go from one small reused buffer to the
 * disk instead of into freshly allocated page-cache pages.
 *
 * Why: a large download through the page cache costs the kernel a page allocation and a copy per 4 KiB,
 * which on a VM whose free memory goes back to the host (free page reporting) is most of the download's
 * CPU, and it evicts whatever else was cached. With O_DIRECT the file is not cached afterwards, so it is
 * opt-in (blob download {direct = true}): for outputs you will not read back at once.
 *
 * Data is staged in an aligned DIRECT_OUT_CHUNK buffer and written a chunk at a time at aligned offsets;
 * the unaligned tail goes through the ordinary descriptor at the end. Where the file system refuses
 * O_DIRECT (tmpfs, some FUSE), the writer says so at open or falls back to the ordinary descriptor at the
 * first refused write, and the caller writes as usual. */
#ifndef AZLUA_DIRECT_OUT_H
#define AZLUA_DIRECT_OUT_H

#include <stddef.h>
#include <sys/types.h>

#define DIRECT_OUT_ALIGN 4096
#define DIRECT_OUT_CHUNK (1024 * 1024)

typedef struct {
  int fd;      /* the O_DIRECT descriptor, -1 when not in use */
  int plain;   /* the caller's ordinary descriptor on the same file (not owned) */
  char *buf;   /* DIRECT_OUT_CHUNK bytes, DIRECT_OUT_ALIGN-aligned */
  size_t n;    /* bytes staged in buf */
  off_t at;    /* file offset of buf[0] */
} direct_out_t;

/* Sets d to "not in use"; safe to close. */
void direct_out_init(direct_out_t *d);

/* Opens path for O_DIRECT writes starting at offset (a multiple of DIRECT_OUT_ALIGN). 0 when in use;
 * -1 when O_DIRECT is not possible here (d stays unused, errno says why): write through plain instead. */
int direct_out_open(direct_out_t *d, const char *path, off_t offset, int plain);

/* Appends n bytes. 0, or -1 with errno on a write error. */
int direct_out_write(direct_out_t *d, const char *p, size_t n);

/* Writes what is staged (the aligned part directly, the rest through plain). 0, or -1 with errno. */
int direct_out_flush(direct_out_t *d);

/* Frees the buffer and closes the O_DIRECT descriptor (not plain); staged bytes are dropped. */
void direct_out_close(direct_out_t *d);

#endif
