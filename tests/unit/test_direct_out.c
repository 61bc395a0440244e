/* util/direct_out.c: O_DIRECT response bodies land byte for byte where the ordinary path puts them. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support/lua_fixture.h"
#include "util/direct_out.h"

/* A file in dir ($TMPDIR or /tmp, a disk file system here; /dev/shm is tmpfs), n bytes of zeros. */
static char *temp_file(const char *dir, off_t n) {
  char *path = malloc(strlen(dir) + 32);
  ck_assert_ptr_nonnull(path);
  sprintf(path, "%s/direct_out.XXXXXX", dir);
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(ftruncate(fd, n), 0);
  close(fd);
  return path;
}

static unsigned char pattern(off_t i) { return (unsigned char)((i * 2654435761u) >> 13); }

/* Writes [offset, offset + len) of the pattern through a direct writer in uneven pieces, flushes,
 * and checks the file: the range holds the pattern, everything around it is still zero. */
static void write_and_check(const char *dir, off_t offset, size_t len, int expect_direct_open) {
  off_t size = offset + (off_t)len + 5000;
  char *path = temp_file(dir, size);
  int plain = open(path, O_WRONLY);
  ck_assert_int_ge(plain, 0);
  direct_out_t d;
  direct_out_init(&d);
  int rc = direct_out_open(&d, path, offset, plain);
  if (expect_direct_open >= 0) ck_assert_int_eq(rc == 0, expect_direct_open);
  unsigned char *src = malloc(len);
  for (size_t i = 0; i < len; i++) src[i] = pattern(offset + (off_t)i);
  size_t pieces[] = {1, 16384, 4095, 777777, 16384, 3, 1 << 20};
  size_t done = 0;
  for (int k = 0; done < len; k = (k + 1) % 7) {
    size_t n = pieces[k] < len - done ? pieces[k] : len - done;
    if (rc == 0) {
      ck_assert_int_eq(direct_out_write(&d, (const char *)src + done, n), 0);
    } else {
      ck_assert_int_eq(pwrite(plain, src + done, n, offset + (off_t)done), (ssize_t)n);
    }
    done += n;
  }
  if (rc == 0) ck_assert_int_eq(direct_out_flush(&d), 0);
  direct_out_close(&d);
  ck_assert_int_eq(d.fd, -1);
  ck_assert_ptr_null(d.buf);
  close(plain);

  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  unsigned char *got = malloc((size_t)size);
  ck_assert_int_eq(fread(got, 1, (size_t)size, f), (size_t)size);
  fclose(f);
  for (off_t i = 0; i < size; i++) {
    unsigned char want = i >= offset && i < offset + (off_t)len ? pattern(i) : 0;
    if (got[i] != want) ck_abort_msg("%s: byte %lld is %u, want %u", dir, (long long)i, got[i], want);
  }
  free(got);
  free(src);
  unlink(path);
  free(path);
}

/* 1 when dir's file system opens files with O_DIRECT (the writer must agree), else 0. */
static int direct_possible(const char *dir) {
  char *path = temp_file(dir, 0);
  int fd = open(path, O_WRONLY | O_DIRECT);
  if (fd >= 0) close(fd);
  unlink(path);
  free(path);
  return fd >= 0;
}

static const char *tmp_dir(void) {
  const char *d = getenv("TMPDIR");
  return d && *d ? d : "/tmp";
}

START_TEST(disk_ranges_with_unaligned_tails) {
  const char *dir = tmp_dir();
  int can = direct_possible(dir);
  write_and_check(dir, 0, 3 * 1024 * 1024 + 1234, can);
  write_and_check(dir, 8 * 1024 * 1024, 5000, can);
  write_and_check(dir, 4096, DIRECT_OUT_CHUNK, can); /* exactly one chunk: nothing left for the tail */
  write_and_check(dir, 0, 100, can);                 /* all tail */
}
END_TEST

START_TEST(unaligned_offset_is_refused) {
  char *path = temp_file(tmp_dir(), 10000);
  direct_out_t d;
  ck_assert_int_eq(direct_out_open(&d, path, 1000, -1), -1);
  ck_assert_int_eq(d.fd, -1);
  ck_assert_ptr_null(d.buf);
  direct_out_close(&d); /* harmless on an unused writer */
  unlink(path);
  free(path);
}
END_TEST

START_TEST(tmpfs_gives_the_same_bytes) {
  /* tmpfs may refuse O_DIRECT at open (older kernels) or take it: either way the bytes are right. */
  struct stat st;
  if (stat("/dev/shm", &st) != 0) return;
  write_and_check("/dev/shm", 4096 * 3, 2 * 1024 * 1024 + 17, -1);
}
END_TEST

int main(void) {
  Suite *s = suite_create("direct_out");
  TCase *tc = tcase_create("direct_out");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, disk_ranges_with_unaligned_tails);
  tcase_add_test(tc, unaligned_offset_is_refused);
  tcase_add_test(tc, tmpfs_gives_the_same_bytes);
  suite_add_tcase(s, tc);
  return lf_run_suite(s);
}
