/* One plain-HTTP/1.1 exchange with a sendfile(2) body: see sendfile_http.h for why and when. */
#include "util/sendfile_http.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"

#define POOL_MAX 16
#define POOL_IDLE_S 4.0          /* Node (Azurite) closes idle keep-alive connections after 5 s */
#define HEAD_MAX (64 * 1024)     /* a longer response head is not an answer we understand */
#define LINE_MAX_CHUNK 4096      /* a chunk-size or trailer line */
#define RECV_CHUNK (64 * 1024)
#define COPY_CHUNK (256 * 1024)  /* the fallback where the file cannot be sendfile'd */

enum { ST_CONNECTING, ST_SENDING, ST_HEAD, ST_BODY, ST_DONE };
enum { CH_SIZE, CH_DATA, CH_DATA_END, CH_TRAILER };

/* ---- the keep-alive pool ---------------------------------------------------------------------------- */

static struct {
  int fd;
  char *key; /* host:port */
  double since;
} idle[POOL_MAX];
static int nidle;

/* Takes entry i out of the pool; returns its descriptor. */
static int pool_remove(int i) {
  int fd = idle[i].fd;
  free(idle[i].key);
  memmove(&idle[i], &idle[i + 1], (size_t)(nidle - i - 1) * sizeof idle[0]);
  nidle--;
  return fd;
}

static void pool_drop(int i) { close(pool_remove(i)); }

static void pool_put(const char *key, int fd) {
  if (nidle == POOL_MAX) pool_drop(0); /* the oldest */
  char *k = strdup(key);
  if (!k) {
    close(fd);
    return;
  }
  idle[nidle].fd = fd;
  idle[nidle].key = k;
  idle[nidle].since = monotonic_seconds();
  nidle++;
}

/* A kept connection to key that still looks alive, or -1. Readable while idle means the server closed
 * it (or sent something unasked): either way it cannot carry a request. */
static int pool_take(const char *key) {
  double now = monotonic_seconds();
  for (int i = nidle - 1; i >= 0; i--) {
    if (strcmp(idle[i].key, key) != 0) continue;
    struct pollfd p = {idle[i].fd, POLLIN, 0};
    if (now - idle[i].since > POOL_IDLE_S || poll(&p, 1, 0) != 0) {
      pool_drop(i);
      continue;
    }
    return pool_remove(i);
  }
  return -1;
}

void sfh_pool_close(void) {
  while (nidle > 0) pool_drop(nidle - 1);
}

int sfh_pool_size(void) { return nidle; }

/* ---- outcome ---------------------------------------------------------------------------------------- */

static void close_fd(sfh_t *t) {
  if (t->fd >= 0) close(t->fd);
  t->fd = -1;
}

__attribute__((format(printf, 3, 4))) static int fail(sfh_t *t, int error, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(t->message, sizeof t->message, fmt, ap);
  va_end(ap);
  t->error = error;
  t->state = ST_DONE;
  t->keep = 0;
  t->elapsed = monotonic_seconds() - t->t_start;
  close_fd(t);
  return 1;
}

static int done(sfh_t *t) {
  t->error = SFH_OK;
  t->state = ST_DONE;
  /* Reusable only when both sides finished cleanly and nothing unasked follows the answer. */
  t->keep = !t->conn_close && t->sent_all && t->in.n == 0;
  t->elapsed = monotonic_seconds() - t->t_start;
  return 1;
}

/* ---- connecting ------------------------------------------------------------------------------------- */

/* Tries the remaining addresses; 0 when one is connecting, -1 (errno set) when none is left. */
static int connect_next(sfh_t *t) {
  int err = ECONNREFUSED;
  while (t->ai_next) {
    struct addrinfo *a = t->ai_next;
    t->ai_next = a->ai_next;
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    t->t_attempt = monotonic_seconds();
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 || errno == EINPROGRESS) {
      t->fd = fd;
      t->state = ST_CONNECTING;
      return 0;
    }
    err = errno;
    close(fd);
  }
  errno = err;
  return -1;
}

static int connect_failed(sfh_t *t, int err) {
  return fail(t, SFH_E_CONNECT, "Failed to connect to %s port %s after %ld ms: %s", t->host, t->port,
              (long)((monotonic_seconds() - t->t_start) * 1000), strerror(err));
}

/* Starts (or restarts, fresh=1: never on a kept connection) the request from its first byte. */
static int begin_attempt(sfh_t *t, int fresh) {
  close_fd(t);
  t->head_sent = 0;
  t->body_sent = t->body_received = 0;
  t->sent_all = t->got_any = t->conn_close = t->until_eof = t->chunked = 0;
  t->status = 0;
  t->clen = t->chunk_left = -1;
  t->in.n = t->resp_head.n = t->body.n = 0;
  t->t_window = monotonic_seconds();
  t->window_bytes = 0;
  t->fd = fresh ? -1 : pool_take(t->key);
  if (t->fd >= 0) {
    t->reused = 1;
    t->state = ST_SENDING;
    return 0;
  }
  t->reused = 0;
  if (!t->ai) {
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int rc = getaddrinfo(t->host, t->port, &hints, &t->ai);
    if (rc != 0) return fail(t, SFH_E_RESOLVE, "Could not resolve host: %s (%s)", t->host, gai_strerror(rc));
  }
  t->ai_next = t->ai;
  if (connect_next(t) != 0) return connect_failed(t, errno);
  return 0;
}

static int step_connect(sfh_t *t) {
  struct pollfd p = {t->fd, POLLOUT, 0};
  if (poll(&p, 1, 0) == 0) return 0;
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) {
    close_fd(t);
    if (connect_next(t) != 0) return connect_failed(t, err);
    return 1;
  }
  t->connections_opened++;
  t->state = ST_SENDING;
  return 1;
}

/* ---- sending ---------------------------------------------------------------------------------------- */

/* sendfile raises SIGPIPE on a socket the peer closed (it has no MSG_NOSIGNAL): block it around the
 * call and take back the one this call raised, so neither a host nor an embedder is killed. Not only
 * on EPIPE: a sendfile that sent part of its bytes before the peer's reset returns that count, with
 * the signal already raised. */
static ssize_t sendfile_quiet(int out, int in, off_t *off, size_t n) {
  sigset_t pipe_set, old, pending;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  sigpending(&pending);
  int was_pending = sigismember(&pending, SIGPIPE);
  ssize_t r = sendfile(out, in, off, n);
  int e = errno;
  if (!was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE)) {
    struct timespec zero = {0, 0};
    sigtimedwait(&pipe_set, NULL, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = e;
  return r;
}

/* The same bytes through a buffer, where the file system cannot sendfile. A short send re-reads the
 * unsent rest next time: this path is a fallback, not the fast one. */
static ssize_t copy_send(sfh_t *t, size_t n) {
  static char buf[COPY_CHUNK];
  if (n > sizeof buf) n = sizeof buf;
  ssize_t r;
  do {
    r = pread(t->in_fd, buf, n, t->in_off + t->body_sent);
  } while (r < 0 && errno == EINTR);
  if (r <= 0) {
    t->file_errno = r < 0 ? errno : EIO;
    errno = 0;
    return -2;
  }
  return send(t->fd, buf, (size_t)r, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static int is_socket_error(int e) {
  return e == EPIPE || e == ECONNRESET || e == ENOTCONN || e == ETIMEDOUT || e == ECONNABORTED ||
         e == EHOSTUNREACH || e == ENETUNREACH || e == ENETDOWN;
}

static int retry_fresh(sfh_t *t) {
  int was_sent = t->sent_all;
  t->tried_fresh = 1;
  begin_attempt(t, 1);
  if (was_sent) t->resent = 1;
  return 1;
}

/* The server has begun to answer before the whole request went out (an early 4xx, say): stop sending
 * and read the answer. The connection is not kept: the rest of the body would be read as the next
 * request. 1 when that is the case. */
static int read_early_answer(sfh_t *t) {
  char c;
  if (recv(t->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0) return 0;
  t->conn_close = 1;
  t->state = ST_HEAD;
  return 1;
}

static int send_failed(sfh_t *t, int err) {
  /* A kept connection the server had closed: once, on a fresh one. */
  if (t->reused && !t->got_any && !t->tried_fresh) return retry_fresh(t);
  /* The server may have answered (and closed) before reading the whole body. */
  if (read_early_answer(t)) return 1;
  return fail(t, SFH_E_SEND, "Send failure: %s", strerror(err));
}

static int step_send(sfh_t *t) {
  if (t->head_sent == t->head_len && t->body_sent == t->in_len) {
    t->sent_all = 1;
    t->state = ST_HEAD;
    return 1;
  }
  if (read_early_answer(t)) return 1;
  if (t->head_sent < t->head_len) {
    int more = t->in_len > 0 ? MSG_MORE : 0;
    ssize_t n = send(t->fd, t->head + t->head_sent, t->head_len - t->head_sent, MSG_NOSIGNAL | MSG_DONTWAIT | more);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      if (errno == EINTR) return 1;
      return send_failed(t, errno);
    }
    t->head_sent += (size_t)n;
    return 1;
  }
  if (t->body_sent < t->in_len) {
    off_t left = t->in_len - t->body_sent;
    size_t want = left > (off_t)1 << 30 ? (size_t)1 << 30 : (size_t)left;
    ssize_t n;
    if (t->copy_mode) {
      n = copy_send(t, want);
      if (n == -2) return fail(t, SFH_E_FILE, "cannot read the body file: %s", strerror(t->file_errno));
    } else {
      off_t off = t->in_off + t->body_sent;
      n = sendfile_quiet(t->fd, t->in_fd, &off, want);
    }
    if (n < 0) {
      int e = errno;
      if (e == EAGAIN || e == EWOULDBLOCK) return 0;
      if (e == EINTR) return 1;
      if (is_socket_error(e)) return send_failed(t, e);
      if (!t->copy_mode && (e == EINVAL || e == ENOSYS || e == EOPNOTSUPP)) {
        t->copy_mode = 1;
        return 1;
      }
      t->file_errno = e;
      return fail(t, SFH_E_FILE, "cannot read the body file: %s", strerror(e));
    }
    if (n == 0) {
      t->file_errno = EIO;
      return fail(t, SFH_E_FILE, "the body file is shorter than the request's length");
    }
    t->body_sent += n;
  }
  return 1;
}

/* ---- receiving -------------------------------------------------------------------------------------- */

static int add_body(sfh_t *t, size_t n) {
  if (t->max_body && t->body.n + n > t->max_body)
    return fail(t, SFH_E_MAXBODY, "response body larger than max_body (%zu bytes)", t->max_body);
  if (membuf_add(&t->body, t->in.p, n) != 0) return fail(t, SFH_E_NOMEM, "not enough memory for the response");
  t->body_received += (off_t)n;
  membuf_consume(&t->in, n);
  return 0;
}

/* Value of header line [p, e) when its name is `name` (case-insensitive), else NULL; *vlen its length. */
static const char *header_value(const char *p, const char *e, const char *name, size_t *vlen) {
  size_t nl = strlen(name);
  if ((size_t)(e - p) <= nl || p[nl] != ':' || strncasecmp(p, name, nl) != 0) return NULL;
  const char *v = p + nl + 1;
  while (v < e && (*v == ' ' || *v == '\t')) v++;
  while (e > v && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) e--;
  *vlen = (size_t)(e - v);
  return v;
}

static int contains_token(const char *v, size_t n, const char *tok) {
  size_t tl = strlen(tok);
  for (size_t i = 0; i + tl <= n; i++)
    if (strncasecmp(v + i, tok, tl) == 0) return 1;
  return 0;
}

/* Parses a complete head of hlen bytes at t->in.p. 1 when it was parsed (or failed: t->state says). */
static int parse_head(sfh_t *t, size_t hlen) {
  const char *p = t->in.p, *end = p + hlen;
  if (hlen < 12 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' || p[9] < '1' || p[9] > '5' || p[10] < '0' ||
      p[10] > '9' || p[11] < '0' || p[11] > '9')
    return fail(t, SFH_E_BAD_REPLY, "Unsupported HTTP response from the server");
  t->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
  if (t->status < 200) { /* 1xx: an interim answer; the final one follows */
    membuf_consume(&t->in, hlen);
    if (!t->sent_all) t->state = ST_SENDING;
    return 1;
  }
  int http10 = p[7] == '0';
  t->resp_head.n = 0;
  if (membuf_add(&t->resp_head, p, hlen) != 0) return fail(t, SFH_E_NOMEM, "not enough memory for the response");
  t->clen = -1;
  for (const char *l = memchr(p, '\n', hlen); l && l + 1 < end;) {
    const char *s = l + 1, *e = memchr(s, '\n', (size_t)(end - s));
    if (!e) break;
    size_t vlen;
    const char *v;
    if ((v = header_value(s, e, "content-length", &vlen))) {
      long long n = 0;
      if (vlen == 0 || vlen > 18) return fail(t, SFH_E_BAD_REPLY, "Invalid Content-Length in the response");
      for (size_t i = 0; i < vlen; i++) {
        if (v[i] < '0' || v[i] > '9') return fail(t, SFH_E_BAD_REPLY, "Invalid Content-Length in the response");
        n = n * 10 + (v[i] - '0');
      }
      if (t->clen >= 0 && t->clen != n) return fail(t, SFH_E_BAD_REPLY, "Conflicting Content-Length in the response");
      t->clen = n;
    } else if ((v = header_value(s, e, "transfer-encoding", &vlen))) {
      if (contains_token(v, vlen, "chunked")) t->chunked = 1;
    } else if ((v = header_value(s, e, "connection", &vlen))) {
      if (contains_token(v, vlen, "close")) t->conn_close = 1;
    }
    l = e;
  }
  membuf_consume(&t->in, hlen);
  if (http10) t->conn_close = 1;
  if (!t->sent_all) t->conn_close = 1; /* the rest of our body would be read as the next request */
  if (t->status == 204 || t->status == 304) {
    t->chunked = 0;
    t->clen = 0;
  }
  if (t->chunked) {
    t->chunk_phase = CH_SIZE;
  } else if (t->clen < 0) {
    t->until_eof = 1;
    t->conn_close = 1;
  }
  t->state = ST_BODY;
  return 1;
}

/* Consumes what t->in holds. 1 to go on reading (or finished: t->state says). */
static int parse(sfh_t *t) {
  for (;;) {
    if (t->state == ST_HEAD) {
      if (t->in.n == 0) return 1;
      char *e = memmem(t->in.p, t->in.n, "\r\n\r\n", 4);
      size_t hlen = e ? (size_t)(e - t->in.p) + 4 : 0;
      if (!e) {
        char *e2 = memmem(t->in.p, t->in.n, "\n\n", 2); /* bare LF, as some servers send */
        if (e2) hlen = (size_t)(e2 - t->in.p) + 2;
      }
      if (!hlen) {
        if (t->in.n > HEAD_MAX) return fail(t, SFH_E_BAD_REPLY, "The response head is too large");
        return 1;
      }
      parse_head(t, hlen);
      continue;
    }
    if (t->state != ST_BODY) return 1;
    if (!t->chunked) {
      if (t->until_eof) {
        if (t->in.n && add_body(t, t->in.n)) return 1;
        return 1;
      }
      size_t take = (size_t)(t->clen - t->body_received);
      if (take > t->in.n) take = t->in.n;
      if (take && add_body(t, take)) return 1;
      if (t->body_received == t->clen) return done(t);
      return 1;
    }
    if (t->chunk_phase == CH_DATA) {
      size_t take = t->in.n < (size_t)t->chunk_left ? t->in.n : (size_t)t->chunk_left;
      if (take && add_body(t, take)) return 1;
      t->chunk_left -= (long long)take;
      if (t->chunk_left > 0) return 1;
      t->chunk_phase = CH_DATA_END;
      continue;
    }
    if (t->in.n == 0) return 1;
    char *nl = memchr(t->in.p, '\n', t->in.n);
    if (!nl) {
      if (t->in.n > LINE_MAX_CHUNK) return fail(t, SFH_E_BAD_REPLY, "Malformed chunked encoding in the response");
      return 1;
    }
    size_t llen = (size_t)(nl - t->in.p);
    size_t content = llen > 0 && t->in.p[llen - 1] == '\r' ? llen - 1 : llen;
    if (t->chunk_phase == CH_DATA_END) {
      if (content != 0) return fail(t, SFH_E_BAD_REPLY, "Malformed chunked encoding in the response");
      t->chunk_phase = CH_SIZE;
    } else if (t->chunk_phase == CH_SIZE) {
      long long n = 0;
      size_t i = 0;
      for (; i < content && i < 15; i++) {
        char c = t->in.p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) break;
        n = n * 16 + d;
      }
      if (i == 0 || (i < content && t->in.p[i] != ';' && t->in.p[i] != ' ' && t->in.p[i] != '\t'))
        return fail(t, SFH_E_BAD_REPLY, "Malformed chunked encoding in the response");
      t->chunk_left = n;
      t->chunk_phase = n == 0 ? CH_TRAILER : CH_DATA;
    } else { /* CH_TRAILER: header lines, then an empty one */
      if (content == 0) {
        membuf_consume(&t->in, llen + 1);
        return done(t);
      }
    }
    membuf_consume(&t->in, llen + 1);
  }
}

static int closed_early(sfh_t *t) {
  if (t->state == ST_BODY && t->until_eof) return done(t);
  if (!t->got_any) {
    if (t->reused && !t->tried_fresh) return retry_fresh(t);
    return fail(t, SFH_E_NOTHING, "Empty reply from server");
  }
  if (t->state == ST_HEAD) return fail(t, SFH_E_RECV, "Connection closed in the middle of the response head");
  if (t->chunked) return fail(t, SFH_E_PARTIAL, "transfer closed with outstanding read data remaining");
  return fail(t, SFH_E_PARTIAL, "transfer closed with %lld bytes remaining to read",
              (long long)(t->clen - t->body_received));
}

static int step_recv(sfh_t *t) {
  char buf[RECV_CHUNK];
  ssize_t n = recv(t->fd, buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    if (errno == EINTR) return 1;
    if (!t->got_any && t->reused && !t->tried_fresh) return retry_fresh(t);
    return fail(t, SFH_E_RECV, "Recv failure: %s", strerror(errno));
  }
  if (n == 0) return closed_early(t);
  t->got_any = 1;
  if (membuf_add(&t->in, buf, (size_t)n) != 0) return fail(t, SFH_E_NOMEM, "not enough memory for the response");
  return parse(t);
}

/* ---- timeouts and the step -------------------------------------------------------------------------- */

static int timed_out(sfh_t *t) {
  double now = monotonic_seconds();
  long ms = (long)((now - t->t_start) * 1000);
  if (t->timeout_ms > 0 && ms >= t->timeout_ms)
    return fail(t, SFH_E_TIMEOUT, "Operation timed out after %ld milliseconds with %lld bytes received", ms,
                (long long)t->body_received);
  if (t->state == ST_CONNECTING) {
    long limit = t->connect_timeout_ms > 0 ? t->connect_timeout_ms : 30000;
    long waited = (long)((now - t->t_attempt) * 1000);
    if (waited >= limit) return fail(t, SFH_E_TIMEOUT, "Connection timed out after %ld milliseconds", waited);
    return 0;
  }
  if (t->low_speed_limit > 0 && t->low_speed_time > 0 && now - t->t_window >= (double)t->low_speed_time) {
    off_t moved = t->body_sent + t->body_received + (off_t)t->head_sent;
    double rate = (double)(moved - t->window_bytes) / (now - t->t_window);
    if (rate < (double)t->low_speed_limit)
      return fail(t, SFH_E_TIMEOUT, "Operation too slow. Less than %ld bytes/sec transferred the last %ld seconds",
                  t->low_speed_limit, t->low_speed_time);
    t->t_window = now;
    t->window_bytes = moved;
  }
  return 0;
}

int sfh_step(sfh_t *t) {
  for (;;) {
    if (t->state == ST_DONE) return 1;
    if (timed_out(t)) return 1;
    int progressed;
    switch (t->state) {
      case ST_CONNECTING: progressed = step_connect(t); break;
      case ST_SENDING: progressed = step_send(t); break;
      default: progressed = step_recv(t); break;
    }
    if (!progressed) return t->state == ST_DONE;
  }
}

void sfh_wait(const sfh_t *t, int *fd, short *events) {
  *fd = t->state == ST_DONE ? -1 : t->fd;
  *events = t->state == ST_CONNECTING ? POLLOUT : t->state == ST_SENDING ? (short)(POLLOUT | POLLIN) : POLLIN;
}

void sfh_start(sfh_t *t, const char *host, const char *port, const char *head, size_t head_len) {
  t->fd = -1;
  t->t_start = monotonic_seconds();
  t->error = SFH_OK;
  size_t hl = strlen(host);
  if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') t->host = strndup(host + 1, hl - 2);
  else t->host = strdup(host);
  t->port = strdup(port);
  t->head = strndup(head, head_len); /* a request head has no NUL (http.c refuses one in headers) */
  t->head_len = head_len;
  size_t kl = hl + strlen(port) + 2;
  t->key = malloc(kl);
  if (!t->host || !t->port || !t->head || !t->key) {
    fail(t, SFH_E_NOMEM, "not enough memory");
    return;
  }
  snprintf(t->key, kl, "%s:%s", host, port);
  begin_attempt(t, 0);
}

void sfh_free(sfh_t *t) {
  if (t->fd >= 0 && t->state == ST_DONE && t->error == SFH_OK && t->keep && t->key) {
    pool_put(t->key, t->fd);
    t->fd = -1;
  }
  close_fd(t);
  if (t->ai) freeaddrinfo(t->ai);
  free(t->head);
  free(t->host);
  free(t->port);
  free(t->key);
  membuf_free(&t->in);
  membuf_free(&t->resp_head);
  membuf_free(&t->body);
  memset(t, 0, sizeof *t);
  t->fd = -1;
}
