/* pwrite until every byte is written: retries EINTR and short writes; a write of 0 bytes is ENOSPC. */
#ifndef AZLUA_PWRITE_ALL_H
#define AZLUA_PWRITE_ALL_H

#include <stddef.h>
#include <sys/types.h>

/* 0, or -1 with errno. */
int pwrite_all(int fd, const char *p, size_t n, off_t at);

#endif
