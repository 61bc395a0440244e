/* util/sendfile_http.c: the exchange against a server played by the test itself on a loopback socket,
 * which writes its answers in awkward pieces (one byte at a time, split CRLFs) between the client's
 * steps. Checks what arrives on the wire and how every kind of answer is read. */
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/lua_fixture.h"
#include "util/sendfile_http.h"

typedef struct {
  int listener, conn, file;
  char port[16];
  char *data; /* the file's bytes */
  size_t size;
  sfh_t t;
} rig_t;

static void rig_open(rig_t *r, size_t size) {
  memset(r, 0, sizeof *r);
  r->conn = -1;
  r->listener = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(r->listener, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  ck_assert_int_eq(bind(r->listener, (struct sockaddr *)&a, sizeof a), 0);
  ck_assert_int_eq(listen(r->listener, 4), 0);
  socklen_t len = sizeof a;
  getsockname(r->listener, (struct sockaddr *)&a, &len);
  snprintf(r->port, sizeof r->port, "%d", ntohs(a.sin_port));
  char path[] = "/tmp/sendfile_http.XXXXXX";
  r->file = mkstemp(path);
  ck_assert_int_ge(r->file, 0);
  unlink(path);
  r->size = size;
  r->data = malloc(size + 1);
  for (size_t i = 0; i < size; i++) r->data[i] = (char)('a' + (i * 7) % 26);
  ck_assert_int_eq(write(r->file, r->data, size), (ssize_t)size);
}

static void rig_close(rig_t *r) {
  sfh_free(&r->t);
  sfh_pool_close();
  if (r->conn >= 0) close(r->conn);
  close(r->listener);
  close(r->file);
  free(r->data);
}

/* Starts a PUT of the file range [off, off + len). */
static void start(rig_t *r, off_t off, off_t len) {
  char head[256];
  int n = snprintf(head, sizeof head, "PUT /x?comp=block HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nContent-Length: %lld\r\n\r\n",
                   r->port, (long long)len);
  r->t.in_fd = r->file;
  r->t.in_off = off;
  r->t.in_len = len;
  r->t.timeout_ms = 10000;
  sfh_start(&r->t, "127.0.0.1", r->port, head, (size_t)n);
}

/* Steps the client until it has nothing to do right now; 1 when finished. */
static int pump(rig_t *r) {
  for (int i = 0; i < 100; i++) {
    if (sfh_step(&r->t)) return 1;
    int fd;
    short ev;
    sfh_wait(&r->t, &fd, &ev);
    struct pollfd p = {fd, ev, 0};
    if (poll(&p, 1, 5) == 0) return 0;
  }
  return 0;
}

/* The server side: accepts (if needed) and reads one whole request; returns the bytes after the head. */
static char *serve_read(rig_t *r, size_t *body_len) {
  if (r->conn < 0) {
    pump(r);
    r->conn = accept(r->listener, NULL, NULL);
    ck_assert_int_ge(r->conn, 0);
  }
  size_t cap = r->size + 4096, n = 0;
  char *buf = malloc(cap);
  for (;;) {
    pump(r);
    struct pollfd p = {r->conn, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) break;
    ssize_t k = recv(r->conn, buf + n, cap - n, MSG_DONTWAIT);
    if (k <= 0) break;
    n += (size_t)k;
  }
  char *end = memmem(buf, n, "\r\n\r\n", 4);
  ck_assert_ptr_nonnull(end);
  *body_len = n - (size_t)(end + 4 - buf);
  memmove(buf, end + 4, *body_len);
  return buf;
}

/* Writes s one byte at a time, stepping the client after each; then runs the client to its end. */
static int answer_bytewise(rig_t *r, const char *s) {
  for (size_t i = 0; s[i]; i++) {
    ck_assert_int_eq(send(r->conn, s + i, 1, MSG_NOSIGNAL), 1);
    pump(r);
  }
  return pump(r);
}

START_TEST(body_on_the_wire_and_a_chunked_answer_byte_by_byte) {
  rig_t r;
  rig_open(&r, 3 * 1024 * 1024 + 17);
  start(&r, 1000, 2 * 1024 * 1024 + 5);
  size_t got;
  char *body = serve_read(&r, &got);
  ck_assert_uint_eq(got, 2 * 1024 * 1024 + 5);
  ck_assert(memcmp(body, r.data + 1000, got) == 0);
  free(body);
  ck_assert_int_eq(answer_bytewise(&r, "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"
                                         "5;x=y\r\nhello\r\nA\r\n, world!!!\r\n0\r\nTrailer: t\r\n\r\n"), 1);
  ck_assert_int_eq(r.t.error, SFH_OK);
  ck_assert_int_eq(r.t.status, 201);
  ck_assert_str_eq(r.t.body.p, "hello, world!!!");
  ck_assert_ptr_nonnull(strstr(r.t.resp_head.p, "X-A: 1\r\n"));
  ck_assert_int_eq(r.t.sent_all, 1);
  ck_assert_int_eq(r.t.body_sent, 2 * 1024 * 1024 + 5);
  sfh_free(&r.t);
  ck_assert_int_eq(sfh_pool_size(), 1); /* a clean keep-alive connection is kept */
  rig_close(&r);
}
END_TEST

START_TEST(interim_answer_then_final_with_length) {
  rig_t r;
  rig_open(&r, 100);
  start(&r, 0, 100);
  size_t got;
  free(serve_read(&r, &got));
  ck_assert_int_eq(answer_bytewise(&r, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"), 1);
  ck_assert_int_eq(r.t.error, SFH_OK);
  ck_assert_int_eq(r.t.status, 200);
  ck_assert_str_eq(r.t.body.p, "abc");
  ck_assert_ptr_null(strstr(r.t.resp_head.p, "100 Continue"));
  rig_close(&r);
}
END_TEST

START_TEST(connection_close_and_until_eof_are_not_kept) {
  rig_t r;
  rig_open(&r, 10);
  start(&r, 0, 10);
  size_t got;
  free(serve_read(&r, &got));
  ck_assert_int_eq(answer_bytewise(&r, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"), 1);
  ck_assert_int_eq(r.t.error, SFH_OK);
  sfh_free(&r.t);
  ck_assert_int_eq(sfh_pool_size(), 0);
  close(r.conn);
  r.conn = -1;
  /* no length: the body ends with the connection */
  start(&r, 0, 10);
  free(serve_read(&r, &got));
  ck_assert_int_eq(answer_bytewise(&r, "HTTP/1.1 200 OK\r\n\r\nuntil the end"), 0);
  shutdown(r.conn, SHUT_WR);
  ck_assert_int_eq(pump(&r), 1);
  ck_assert_int_eq(r.t.error, SFH_OK);
  ck_assert_str_eq(r.t.body.p, "until the end");
  sfh_free(&r.t);
  ck_assert_int_eq(sfh_pool_size(), 0);
  rig_close(&r);
}
END_TEST

START_TEST(bad_answers_are_errors) {
  const char *bad[] = {"HTTP/2 200 OK\r\n\r\n", "ICY 200 OK\r\n\r\n",
                       "HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n",
                       "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    rig_t r;
    rig_open(&r, 10);
    start(&r, 0, 10);
    size_t got;
    free(serve_read(&r, &got));
    ck_assert_int_eq(answer_bytewise(&r, bad[i]), 1);
    ck_assert_msg(r.t.error == SFH_E_BAD_REPLY, "answer %zu: error %d", i, r.t.error);
    ck_assert_ptr_null(strchr(r.t.message, '\n'));
    rig_close(&r);
  }
}
END_TEST

START_TEST(closed_mid_body_is_partial) {
  rig_t r;
  rig_open(&r, 10);
  start(&r, 0, 10);
  size_t got;
  free(serve_read(&r, &got));
  answer_bytewise(&r, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this");
  close(r.conn);
  r.conn = -1;
  ck_assert_int_eq(pump(&r), 1);
  ck_assert_int_eq(r.t.error, SFH_E_PARTIAL);
  ck_assert_int_eq(r.t.status, 200);
  ck_assert_str_eq(r.t.message, "transfer closed with 91 bytes remaining to read");
  rig_close(&r);
}
END_TEST

START_TEST(a_file_shorter_than_its_length_is_a_file_error) {
  rig_t r;
  rig_open(&r, 10);
  start(&r, 0, 50);
  for (int i = 0; i < 20 && !pump(&r); i++) {
    if (r.conn < 0) r.conn = accept(r.listener, NULL, NULL);
  }
  ck_assert_int_eq(r.t.error, SFH_E_FILE);
  ck_assert_int_eq(r.t.sent_all, 0);
  rig_close(&r);
}
END_TEST

/* /proc files cannot be sendfile'd (EINVAL) but can be read: the body goes through a buffer instead. */
START_TEST(a_file_sendfile_refuses_goes_through_a_buffer) {
  rig_t r;
  rig_open(&r, 10);
  int proc = open("/proc/self/status", O_RDONLY);
  ck_assert_int_ge(proc, 0);
  char want[40]; /* "Name:\t<name>\nUmask:\t0022\n...": the same on every read */
  ck_assert_int_eq(pread(proc, want, sizeof want, 0), (ssize_t)sizeof want);
  close(r.file);
  r.file = proc;
  start(&r, 0, sizeof want);
  size_t got;
  char *body = serve_read(&r, &got);
  ck_assert_uint_eq(got, sizeof want);
  ck_assert(memcmp(body, want, sizeof want) == 0);
  free(body);
  ck_assert_int_eq(answer_bytewise(&r, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"), 1);
  ck_assert_int_eq(r.t.error, SFH_OK);
  ck_assert_int_eq(r.t.status, 201);
  rig_close(&r);
}
END_TEST

int main(void) {
  Suite *s = suite_create("sendfile_http");
  TCase *tc = tcase_create("core");
  tcase_set_timeout(tc, 60);
  tcase_add_test(tc, body_on_the_wire_and_a_chunked_answer_byte_by_byte);
  tcase_add_test(tc, interim_answer_then_final_with_length);
  tcase_add_test(tc, connection_close_and_until_eof_are_not_kept);
  tcase_add_test(tc, bad_answers_are_errors);
  tcase_add_test(tc, closed_mid_body_is_partial);
  tcase_add_test(tc, a_file_shorter_than_its_length_is_a_file_error);
  tcase_add_test(tc, a_file_sendfile_refuses_goes_through_a_buffer);
  suite_add_tcase(s, tc);
  return lf_run_suite(s);
}
