/* One plain-HTTP/1.1 exchange whose request body is a file range sent with sendfile(2).
 *
 * Why: libcurl reads an upload body through a callback into its own buffer and writes that to the
 * socket, so every byte is copied twice by the CPU (file -> buffer -> socket). sendfile hands the
 * file's page-cache pages to TCP instead; for a 1 GiB upload to a local emulator that is most of the
 * client's CPU time. It only helps without TLS (with TLS every byte is encrypted in user space anyway),
 * and plain http is allowed only to loopback, so http.c uses this for file bodies to loopback (Azurite,
 * the local emulator) and libcurl for everything else. AZLUA_SENDFILE=0 turns it off.
 *
 * Non-blocking, driven by the caller's poll loop: sfh_start, then sfh_step whenever the socket from
 * sfh_wait is ready (or at least every 100 ms, for timeouts) until it returns 1. Idle connections are
 * kept per host:port (keep-alive) in a small process-wide pool; a kept connection that turns out dead
 * before any answer is replaced by a fresh one once, and the request sent again (sfh.resent when the
 * whole body had gone out the first time, as for libcurl).
 */
#ifndef AZLUA_SENDFILE_HTTP_H
#define AZLUA_SENDFILE_HTTP_H

#include <netdb.h>
#include <sys/types.h>

#include "util/membuf.h"

/* Failures, each named for the libcurl result it stands for (http.c reports those codes). */
enum {
  SFH_OK = 0,
  SFH_E_CONNECT,   /* CURLE_COULDNT_CONNECT */
  SFH_E_RESOLVE,   /* CURLE_COULDNT_RESOLVE_HOST */
  SFH_E_TIMEOUT,   /* CURLE_OPERATION_TIMEDOUT */
  SFH_E_SEND,      /* CURLE_SEND_ERROR */
  SFH_E_RECV,      /* CURLE_RECV_ERROR */
  SFH_E_NOTHING,   /* CURLE_GOT_NOTHING: closed before any answer */
  SFH_E_PARTIAL,   /* CURLE_PARTIAL_FILE: closed mid-body */
  SFH_E_BAD_REPLY, /* CURLE_WEIRD_SERVER_REPLY */
  SFH_E_FILE,      /* the body file could not be read, or shrank (errno in file_errno) */
  SFH_E_MAXBODY,   /* the answer's body is larger than max_body */
  SFH_E_NOMEM
};

typedef struct sfh {
  /* Set by the caller before sfh_start. head and host/port are copied; in_fd stays the caller's. */
  int in_fd;
  off_t in_off, in_len;
  size_t max_body;                 /* 0: unlimited */
  long connect_timeout_ms;         /* per connection attempt; <= 0: 30 s */
  long timeout_ms;                 /* whole exchange; <= 0: none */
  long low_speed_limit, low_speed_time; /* bytes/s for that many seconds, both > 0 to apply */

  /* Outcome, valid once sfh_step returned 1. */
  int error;                       /* SFH_OK or SFH_E_* */
  int file_errno;
  char message[256];               /* one line, curl's wording; never the request line or headers */
  long status;                     /* final status, or the last status line seen before a failure */
  membuf_t resp_head;              /* the final answer's status line and header lines, CRLF-separated */
  membuf_t body;                   /* the final answer's body */
  off_t body_sent;                 /* request body bytes handed to the socket (current attempt) */
  off_t body_received;
  int sent_all;                    /* the whole request went out */
  int reused;                      /* the exchange ran on a kept-alive connection */
  int resent;
  int connections_opened;
  double elapsed;                  /* seconds */

  /* Private. */
  char *head;
  size_t head_len, head_sent;
  char *host, *port, *key;
  struct addrinfo *ai, *ai_next;
  int fd, state, tried_fresh, got_any, keep, copy_mode;
  membuf_t in;
  long long clen, chunk_left;      /* -1: unknown */
  int chunked, chunk_phase, until_eof, conn_close;
  double t_start, t_attempt, t_window;
  off_t window_bytes;
} sfh_t;

/* Prepares t (after the caller set the fields above) and starts connecting. host as in a URL ("[::1]"
 * allowed), port as digits. Never fails by itself: a failure shows in the first sfh_step. */
void sfh_start(sfh_t *t, const char *host, const char *port, const char *head, size_t head_len);

/* Makes whatever progress the socket allows without blocking. 1 when finished (t->error tells how). */
int sfh_step(sfh_t *t);

/* The socket to wait on and the poll(2) events wanted (POLLIN/POLLOUT); fd -1 while there is none. */
void sfh_wait(const sfh_t *t, int *fd, short *events);

/* Frees t's resources; a finished, clean keep-alive connection goes back to the pool. */
void sfh_free(sfh_t *t);

/* Closes every kept connection (the process-wide pool). */
void sfh_pool_close(void);

/* Connections in the pool, for tests. */
int sfh_pool_size(void);

#endif
