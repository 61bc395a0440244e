/* azure.core.http — the one HTTP transport of azlua.
 *
 * libcurl is loaded with dlopen on the first request (src/util/curl_dl.h), so start-up stays at Lua's
 * speed. Every request of the process runs on one curl multi handle (one connection pool: keep-alive,
 * connections reused across requests), with DNS and TLS sessions shared and easy handles pooled.
 * HTTP/1.1, TCP keepalive, TLS verification always on, no redirects followed, http/https only.
 *
 * http.request(req) -> res | nil, err
 *   Any HTTP response (any status; 1xx are skipped) is a `res`; a transport failure is `nil, err`.
 *   Misuse (bad argument types, missing url, a CR/LF in a header) raises.
 *   req.method   "GET" by default; sent as given. PUT, POST and PATCH always send a body (Content-Length: 0
 *                when there is none); HEAD reads no body.
 *   req.url      http(s) URL. Plain http:// only to loopback (127.0.0.0/8, ::1, localhost); anything else
 *                fails before connecting with err.kind "insecure". Loopback URLs never use a proxy;
 *                others use libcurl's https_proxy / http_proxy / no_proxy handling.
 *   req.headers  {["x-ms-date"]=v, ...}; a value may be a list for a repeated header; a number is sent as
 *                its string; "" sends an empty header. Names are sent exactly as given. azlua adds
 *                User-Agent when none is given and never sends Expect or a default Content-Type.
 *   req.body     string, or {file=path, offset=0, length=n} streamed from the file (length defaults to the
 *                rest of the file; never read whole into memory). To plain-http loopback (an emulator) and
 *                without req.output, a file body goes by sendfile(2) on azlua's own HTTP/1.1 exchange
 *                (src/util/sendfile_http.h): the same request on the wire, the same res and err, a fifth
 *                of the CPU. AZLUA_SENDFILE=0 sends it through libcurl like every other request.
 *   req.output   path: a 2xx body is streamed into this file (created/truncated when the request starts);
 *                or {file=path, offset=n, direct=bool}: written at offset n into an existing file, not
 *                truncated (ranged parallel downloads); direct: with O_DIRECT, bypassing the page cache,
 *                where the file system allows it and n is 4 KiB-aligned (src/util/direct_out.h). A non-2xx
 *                body is returned in res.body instead (first 1 MiB) so the caller can decode the error;
 *                the file is then left as it is.
 *   req.timeout  total seconds (float; none by default), req.connect_timeout (seconds, default 30),
 *   req.low_speed_limit (bytes/s) with req.low_speed_time (seconds): fail when slower for that long.
 *   req.ca_file  CA bundle; else $AZLUA_CA_FILE, $CURL_CA_BUNDLE, $SSL_CERT_FILE, else libcurl's default.
 *   req.max_body cap in bytes for a body returned as a string (default unlimited); over it: kind "other".
 *
 *   res.status, res.headers (lower-cased name -> last value), res.header_list (array of {name, value} as
 *   received), res.body (string; "" when streamed to a file), res.elapsed (seconds), res.reused (the
 *   connection was reused), res.bytes_sent / res.bytes_received (body bytes), res.http_version ("1.1"),
 *   res.resent (true when libcurl sent the whole request again by itself, on a fresh connection, because
 *   a reused one died before any answer: the first copy may have been acted on, so treat the answer as
 *   one to a replay; present only then).
 *
 *   err.kind     "connect" (also: a proxy refused the tunnel) | "dns" | "timeout" | "tls" | "reset"
 *                (send/recv error, partial body, empty reply) | "insecure" | "file" (body/output file) |
 *                "other"
 *   err.message  one line: "host[:port]: curl's message" (never the query string or a header value)
 *   err.curl_code (absent for insecure and file failures before the transfer), err.url (without query),
 *   err.sent     true when the whole request (headers and body) was handed to the connection before the
 *                failure: a non-idempotent request may have been acted on; false means it was not.
 *   err.http_status  the status when a final status line had arrived before the failure (a body cut
 *                off mid-way). Deliberately not `status`: an err never has .status, a res always has, so
 *                `if r.status` tells them apart everywhere (request_many included) and a cut-off 206 is
 *                never mistaken for a response.
 *   err.elapsed, err.reused, err.bytes_sent, err.bytes_received as in res.
 *
 * http.request_many(reqs [, {concurrency=8, progress=fn}]) -> out
 *   Runs every request on the multi handle with at most `concurrency` in flight (files of bodies and
 *   outputs are opened only while their request runs; memory is O(concurrency), not O(#reqs)). out[i] is
 *   reqs[i]'s res (has .status) or err (has .kind, no .status), in the order of reqs.
 *   progress(sent_total, received_total) (body bytes over all requests) is called at most ~10 times a
 *   second and once at the end. Misuse in any request raises before anything is sent.
 *
 * Ctrl-C (azlua_interrupted) stops waiting within 100 ms: transfers are aborted and cleaned up, and
 * "interrupted!" is raised (a Lua error, which the host prints as one line). The flag stays set until the
 * host's next top-level call, so a retry loop that catches the error is interrupted again at once.
 *
 * http.set_hook(fn | nil): fn(info) after each request with {method, url (without query), status | kind,
 *   elapsed, reused, bytes_sent, bytes_received}. An error in the hook propagates (transfers cleaned up).
 *   Neither the hook nor a progress callback may make requests (that raises).
 * http.stats() -> {connections_opened = n, requests = n, sendfile_requests = n, curl_loaded = bool,
 *   curl_library = path} for this process (curl_library: azlua-curl.so or libcurl.so.4, once a request
 *   loaded it; sendfile_requests: those of `requests` whose file body went by sendfile, see below).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "util/clock.h"
#include "util/curl_dl.h"
#include "util/curl_util.h"
#include "util/direct_out.h"
#include "util/interrupt.h"
#include "util/membuf.h"
#include "util/pwrite_all.h"
#include "util/sendfile_http.h"

#ifndef AZLUA_VERSION
#define AZLUA_VERSION "0"
#endif

#define IDLE_MAX 32                 /* easy handles kept for reuse */
#define MAX_CONNECTS 64L            /* connections kept alive in the pool */
#define DEFAULT_CONCURRENCY 8
#define ERROR_BODY_CAP (1u << 20)   /* non-2xx body kept in memory when the body goes to a file */
#define POLL_MS 100                 /* longest wait between checks of Ctrl-C */
#define PROGRESS_INTERVAL 0.1

/* ---- the process-wide pool ------------------------------------------------------------------------ */

static struct {
  int refs; /* open module instances (lua_States) */
  CURLM *multi;
  CURLSH *share;
  CURL *idle[IDLE_MAX];
  int nidle;
  int busy; /* a batch is running: a hook or progress callback may not start requests */
  lua_Integer requests, connections, sendfile_requests;
} pool;

static const char HOOK_KEY = 'h';
static const char POOL_KEY = 'p';

static int pool_ready(char *err, size_t errlen) {
  if (pool.multi) return 0;
  if (azlua_curl_load(NULL, err, errlen) != 0) return -1;
  pool.multi = azcurl.multi_init();
  pool.share = azcurl.share_init();
  if (!pool.multi || !pool.share) {
    if (pool.multi) azcurl.multi_cleanup(pool.multi);
    if (pool.share) azcurl.share_cleanup(pool.share);
    pool.multi = NULL;
    pool.share = NULL;
    snprintf(err, errlen, "azlua: cannot create the curl connection pool");
    return -1;
  }
  azcurl.multi_setopt(pool.multi, CURLMOPT_MAXCONNECTS, MAX_CONNECTS);
  azcurl.share_setopt(pool.share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  azcurl.share_setopt(pool.share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  return 0;
}

static void pool_destroy(void) {
  sfh_pool_close();
  if (!pool.multi) return;
  for (int i = 0; i < pool.nidle; i++) azcurl.easy_cleanup(pool.idle[i]);
  pool.nidle = 0;
  azcurl.multi_cleanup(pool.multi);
  azcurl.share_cleanup(pool.share);
  pool.multi = NULL;
  pool.share = NULL;
}

static CURL *easy_get(void) {
  if (pool.nidle > 0) return pool.idle[--pool.nidle];
  return azcurl.easy_init();
}

static void easy_put(CURL *e) {
  azcurl.easy_reset(e);
  if (pool.nidle < IDLE_MAX) {
    pool.idle[pool.nidle++] = e;
  } else {
    azcurl.easy_cleanup(e);
  }
}

/* ---- one transfer --------------------------------------------------------------------------------- */

enum { OWN_NONE, OWN_FILE_READ, OWN_FILE_WRITE, OWN_MAXBODY, OWN_NOMEM };
enum { X_FREE, X_READY, X_RUNNING };

/* A slot of a batch: holds one request from when it is read until its result is pushed. */
typedef struct {
  int state;
  int slot;            /* its index in the batch (where its body string is anchored) */
  lua_Integer index;   /* 1-based position of the request in reqs */
  CURL *easy;
  CURLU *cu;
  struct curl_slist *hdrs;
  char *safe_url; /* scheme://host[:port]/path: no userinfo, query or fragment */
  char *host;     /* host[:port] */
  char method[32];
  int loopback, plain_http, head, has_body;
  /* request body: a string anchored in the batch's user value, or a file range */
  const char *body;
  char *in_path;
  int in_fd;
  curl_off_t in_off, in_len, up_len, up_pos;
  int resent; /* curl rewound a fully sent body to send the request again on a fresh connection */
  /* response body: memory, or a file */
  char *out_path;
  int out_fd, out_truncate, out_direct;
  curl_off_t out_off, out_pos;
  direct_out_t dout; /* in use when output.direct asked for it and the file system allows it */
  sfh_t *sf;         /* the request runs on sendfile_http instead of libcurl (see sendfile_wanted) */
  membuf_t resp, head_buf;
  size_t max_body;
  long status; /* of the last status line seen */
  /* options */
  char *ca_file;
  long timeout_ms, connect_timeout_ms, low_speed_limit, low_speed_time;
  /* outcome */
  int own_err, own_errno;
  const char *pre_kind; /* failure before the transfer started: "insecure", "file", "other" */
  char pre_msg[256];
  CURLcode result;
  char errbuf[CURL_ERROR_SIZE];
} xfer_t;

typedef struct {
  int n;
  int owns_busy;
  xfer_t *x;
  struct curl_waitfd *wait; /* n entries: the sockets of sendfile transfers, for curl_multi_poll */
} batch_t;

static void xfer_close_files(xfer_t *x) {
  direct_out_close(&x->dout);
  if (x->in_fd >= 0) close(x->in_fd);
  if (x->out_fd >= 0) close(x->out_fd);
  x->in_fd = x->out_fd = -1;
}

/* Gives the easy handle back (removing it from the multi handle if it runs), frees everything and
 * leaves x as a free slot. */
static void xfer_reset(xfer_t *x) {
  if (x->easy) {
    if (x->state == X_RUNNING) azcurl.multi_remove_handle(pool.multi, x->easy);
    easy_put(x->easy);
    x->easy = NULL;
  }
  if (x->sf) {
    sfh_free(x->sf);
    free(x->sf);
    x->sf = NULL;
  }
  xfer_close_files(x);
  if (x->hdrs) azcurl.slist_free_all(x->hdrs);
  if (x->cu) azcurl.url_cleanup(x->cu);
  x->hdrs = NULL;
  x->cu = NULL;
  free(x->safe_url);
  free(x->host);
  free(x->in_path);
  free(x->out_path);
  free(x->ca_file);
  x->safe_url = x->host = x->in_path = x->out_path = x->ca_file = NULL;
  membuf_free(&x->resp);
  membuf_free(&x->head_buf);
  int slot = x->slot;
  memset(x, 0, sizeof *x);
  x->slot = slot;
  x->state = X_FREE;
  x->in_fd = x->out_fd = -1;
  direct_out_init(&x->dout);
}

static void batch_free(batch_t *b) {
  if (b->x) {
    for (int i = 0; i < b->n; i++) xfer_reset(&b->x[i]);
    free(b->x);
    free(b->wait);
    b->x = NULL;
    b->wait = NULL;
    b->n = 0;
  }
  if (b->owns_busy) {
    pool.busy = 0;
    b->owns_busy = 0;
  }
}

static int batch_close(lua_State *L) {
  batch_t *b = (batch_t *)lua_touserdata(L, 1);
  if (b) batch_free(b);
  return 0;
}

/* Frees the batch, then raises. For errors raised from C while the host's Ctrl-C hook may be pending:
 * that hook would fire on the call of __close and skip it. */
static int batch_fail(lua_State *L, batch_t *b, const char *msg) {
  batch_free(b);
  return luaL_error(L, "%s", msg);
}

/* ---- curl callbacks (never touch Lua) -------------------------------------------------------------- */

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud) {
  xfer_t *x = ud;
  size_t n = size * nmemb;
  if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) { /* a new response (after a 1xx, or the first) */
    x->head_buf.n = 0;
    const char *sp = memchr(p, ' ', n);
    long st = 0;
    if (sp) {
      for (const char *q = sp + 1; q < p + n && *q >= '0' && *q <= '9' && st < 1000; q++) st = st * 10 + (*q - '0');
    }
    x->status = st;
  }
  if (membuf_add(&x->head_buf, p, n) != 0) {
    x->own_err = OWN_NOMEM;
    return 0;
  }
  return n;
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud) {
  xfer_t *x = ud;
  size_t n = size * nmemb;
  if (x->out_fd >= 0 && x->status >= 200 && x->status < 300) {
    int rc = x->dout.buf ? direct_out_write(&x->dout, p, n)
                         : pwrite_all(x->out_fd, p, n, (off_t)(x->out_off + x->out_pos));
    if (rc != 0) {
      x->own_err = OWN_FILE_WRITE;
      x->own_errno = errno;
      return 0;
    }
    x->out_pos += (curl_off_t)n;
    return n;
  }
  size_t cap = x->out_fd >= 0 ? ERROR_BODY_CAP : x->max_body;
  if (cap && x->resp.n + n > cap) {
    if (x->out_fd >= 0) return n; /* an error body: keep its beginning */
    x->own_err = OWN_MAXBODY;
    return 0;
  }
  if (membuf_add(&x->resp, p, n) != 0) {
    x->own_err = OWN_NOMEM;
    return 0;
  }
  return n;
}

static size_t on_read(char *buf, size_t size, size_t nmemb, void *ud) {
  xfer_t *x = ud;
  curl_off_t want = (curl_off_t)(size * nmemb), left = x->up_len - x->up_pos;
  if (want > left) want = left;
  if (want <= 0) return 0;
  if (x->body) {
    memcpy(buf, x->body + x->up_pos, (size_t)want);
  } else {
    ssize_t r;
    do {
      r = pread(x->in_fd, buf, (size_t)want, (off_t)(x->in_off + x->up_pos));
    } while (r < 0 && errno == EINTR);
    if (r <= 0) { /* an error, or the file shrank */
      x->own_err = OWN_FILE_READ;
      x->own_errno = r < 0 ? errno : EIO;
      return CURL_READFUNC_ABORT;
    }
    want = r;
  }
  x->up_pos += want;
  return (size_t)want;
}

/* curl rewinds the body when it resends a request (a dead kept-alive connection, for example). */
static int on_seek(void *ud, curl_off_t offset, int origin) {
  xfer_t *x = ud;
  if (origin != SEEK_SET) return CURL_SEEKFUNC_CANTSEEK;
  if (offset < 0 || offset > x->up_len) return CURL_SEEKFUNC_FAIL;
  /* The whole body went out once: the server may have acted on it before the connection died, so
   * the caller must treat the answer as one to a replay (res.resent). */
  if (x->up_len > 0 && x->up_pos >= x->up_len) x->resent = 1;
  x->up_pos = offset;
  return CURL_SEEKFUNC_OK;
}

/* ---- reading a request table --------------------------------------------------------------------- */

static const char *env_first(const char *const *names) {
  for (; *names; names++) {
    const char *v = getenv(*names);
    if (v && *v) return v;
  }
  return NULL;
}

static char *xstrdup(lua_State *L, const char *s) {
  char *d = strdup(s);
  if (!d) luaL_error(L, "not enough memory");
  return d;
}

/* Field `name` of the table at `idx` pushed; returns its type. Wrong type (not nil and not `want`)
 * raises "<where>.<name> must be ...". */
static int opt_field(lua_State *L, int idx, const char *name, int want, const char *where, const char *what) {
  int t = lua_getfield(L, idx, name);
  if (t != LUA_TNIL && t != want) luaL_error(L, "%s.%s must be %s", where, name, what);
  return t;
}

static double opt_seconds(lua_State *L, int idx, const char *name, const char *where) {
  double v = -1;
  if (opt_field(L, idx, name, LUA_TNUMBER, where, "a number of seconds") == LUA_TNUMBER) {
    v = lua_tonumber(L, -1);
    if (!(v >= 0 && v < 1e9)) luaL_error(L, "%s.%s must be a number of seconds", where, name);
  }
  lua_pop(L, 1);
  return v;
}

static lua_Integer opt_int(lua_State *L, int idx, const char *name, const char *where, lua_Integer def) {
  lua_Integer v = def;
  if (opt_field(L, idx, name, LUA_TNUMBER, where, "a non-negative integer") == LUA_TNUMBER) {
    int isint;
    v = lua_tointegerx(L, -1, &isint);
    if (!isint || v < 0) luaL_error(L, "%s.%s must be a non-negative integer", where, name);
  }
  lua_pop(L, 1);
  return v;
}

static void check_header_text(lua_State *L, const char *s, size_t n, const char *where, const char *name) {
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
      luaL_error(L, "%s.headers[\"%s\"] contains a line break or NUL", where, name);
  }
}

static void add_header(lua_State *L, xfer_t *x, const char *name, size_t nlen, int vidx, const char *where) {
  size_t vlen;
  int t = lua_type(L, vidx);
  if (t != LUA_TSTRING && t != LUA_TNUMBER) luaL_error(L, "%s.headers[\"%s\"] must be a string, number or list", where, name);
  const char *v = lua_tolstring(L, vidx, &vlen); /* converts a number in place: vidx is our copy */
  check_header_text(L, v, vlen, where, name);
  while (vlen > 0 && (*v == ' ' || *v == '\t')) v++, vlen--;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addlstring(&b, name, nlen);
  if (vlen == 0) {
    luaL_addchar(&b, ';'); /* curl's spelling of "Name:" with an empty value */
  } else {
    luaL_addstring(&b, ": ");
    luaL_addlstring(&b, v, vlen);
  }
  luaL_pushresult(&b);
  struct curl_slist *s = azcurl.slist_append(x->hdrs, lua_tostring(L, -1));
  lua_pop(L, 1);
  if (!s) luaL_error(L, "not enough memory");
  x->hdrs = s;
}

static void read_headers(lua_State *L, int req, xfer_t *x, const char *where) {
  int have_ct = 0, have_expect = 0, have_ua = 0;
  if (opt_field(L, req, "headers", LUA_TTABLE, where, "a table") == LUA_TTABLE) {
    int h = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, h)) {
      if (lua_type(L, -2) != LUA_TSTRING) luaL_error(L, "%s.headers: names must be strings", where);
      size_t nlen;
      const char *name = lua_tolstring(L, -2, &nlen);
      if (!azlua_http_is_token(name, nlen)) luaL_error(L, "%s.headers: invalid header name \"%s\"", where, name);
      if (strcasecmp(name, "content-type") == 0) have_ct = 1;
      if (strcasecmp(name, "expect") == 0) have_expect = 1;
      if (strcasecmp(name, "user-agent") == 0) have_ua = 1;
      if (lua_type(L, -1) == LUA_TTABLE) {
        lua_Integer n = (lua_Integer)luaL_len(L, -1);
        for (lua_Integer i = 1; i <= n; i++) {
          lua_geti(L, -1, i);
          add_header(L, x, name, nlen, lua_gettop(L), where);
          lua_pop(L, 1);
        }
      } else {
        lua_pushvalue(L, -1);
        add_header(L, x, name, nlen, lua_gettop(L), where);
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
  /* curl's defaults that Azure does not want: a form Content-Type on bodies, Expect: 100-continue. */
  const char *extra[3] = {have_ct ? NULL : "Content-Type:", have_expect ? NULL : "Expect:",
                          have_ua ? NULL : "User-Agent: azlua/" AZLUA_VERSION};
  for (int i = 0; i < 3; i++) {
    if (!extra[i]) continue;
    struct curl_slist *s = azcurl.slist_append(x->hdrs, extra[i]);
    if (!s) luaL_error(L, "not enough memory");
    x->hdrs = s;
  }
}

static void set_pre_failure(xfer_t *x, const char *kind, const char *msg) {
  if (x->pre_kind) return;
  x->pre_kind = kind;
  snprintf(x->pre_msg, sizeof x->pre_msg, "%s", msg);
}

/* Parses the URL into x->cu and fills safe_url, host, loopback; a refused URL becomes a pre-failure. */
static void read_url(lua_State *L, int req, xfer_t *x, const char *where) {
  if (lua_getfield(L, req, "url") != LUA_TSTRING) luaL_error(L, "%s.url must be a string", where);
  const char *url = lua_tostring(L, -1);
  x->cu = azcurl.url();
  if (!x->cu) luaL_error(L, "not enough memory");
  CURLUcode uc = azcurl.url_set(x->cu, CURLUPART_URL, url, 0);
  if (uc != CURLUE_OK) luaL_error(L, "%s.url is not a valid URL", where);
  lua_pop(L, 1);
  char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
  azcurl.url_get(x->cu, CURLUPART_SCHEME, &scheme, 0);
  azcurl.url_get(x->cu, CURLUPART_HOST, &host, 0);
  azcurl.url_get(x->cu, CURLUPART_PORT, &port, 0);
  azcurl.url_get(x->cu, CURLUPART_PATH, &path, 0);
  int https = scheme && strcmp(scheme, "https") == 0, http = scheme && strcmp(scheme, "http") == 0;
  size_t need = (scheme ? strlen(scheme) : 0) + (host ? strlen(host) : 0) + (port ? strlen(port) : 0) +
                (path ? strlen(path) : 0) + 8;
  x->host = malloc(need);
  x->safe_url = malloc(need);
  if (x->host && x->safe_url) {
    snprintf(x->host, need, "%s%s%s", host ? host : "", port ? ":" : "", port ? port : "");
    snprintf(x->safe_url, need, "%s://%s%s", scheme ? scheme : "", x->host, path ? path : "/");
  }
  x->loopback = azlua_host_is_loopback(host);
  x->plain_http = http;
  azcurl.free(scheme);
  azcurl.free(host);
  azcurl.free(port);
  azcurl.free(path);
  if (!x->host || !x->safe_url) luaL_error(L, "not enough memory");
  if (!http && !https) luaL_error(L, "%s.url must be an http or https URL", where);
  if (http && !x->loopback) {
    char msg[200];
    snprintf(msg, sizeof msg, "refusing plain http to %.150s: use https", x->host);
    set_pre_failure(x, "insecure", msg);
  }
}

static void read_body(lua_State *L, int req, xfer_t *x, int anchors, const char *where) {
  int t = lua_getfield(L, req, "body");
  if (t == LUA_TSTRING) {
    size_t n;
    x->body = lua_tolstring(L, -1, &n);
    x->up_len = (curl_off_t)n;
    x->has_body = 1;
    lua_rawseti(L, anchors, x->slot + 1); /* keeps the string alive while the slot holds it */
    return;
  }
  if (t == LUA_TTABLE) {
    int b = lua_gettop(L);
    if (lua_getfield(L, b, "file") != LUA_TSTRING) luaL_error(L, "%s.body.file must be a path", where);
    x->in_path = xstrdup(L, lua_tostring(L, -1));
    lua_pop(L, 1);
    x->in_off = (curl_off_t)opt_int(L, b, "offset", where, 0);
    x->in_len = (curl_off_t)opt_int(L, b, "length", where, -1);
    x->has_body = 1;
  } else if (t != LUA_TNIL) {
    luaL_error(L, "%s.body must be a string or {file=, offset=, length=}", where);
  }
  lua_pop(L, 1);
}

static void read_output(lua_State *L, int req, xfer_t *x, const char *where) {
  int t = lua_getfield(L, req, "output");
  if (t == LUA_TSTRING) {
    x->out_path = xstrdup(L, lua_tostring(L, -1));
    x->out_truncate = 1;
  } else if (t == LUA_TTABLE) {
    int o = lua_gettop(L);
    if (lua_getfield(L, o, "file") != LUA_TSTRING) luaL_error(L, "%s.output.file must be a path", where);
    x->out_path = xstrdup(L, lua_tostring(L, -1));
    lua_pop(L, 1);
    x->out_off = (curl_off_t)opt_int(L, o, "offset", where, 0);
    lua_getfield(L, o, "direct");
    x->out_direct = lua_toboolean(L, -1);
    lua_pop(L, 1);
  } else if (t != LUA_TNIL) {
    luaL_error(L, "%s.output must be a path or {file=, offset=, direct=}", where);
  }
  lua_pop(L, 1);
}

static long ms_of(double s) { return s < 0 ? -1 : (long)(s * 1000.0 + 0.5); }

static void read_request(lua_State *L, int req, xfer_t *x, int anchors, const char *where) {
  if (lua_type(L, req) != LUA_TTABLE) luaL_error(L, "%s must be a table", where);
  luaL_checkstack(L, 16, "http: request too deeply nested");
  const char *m = "GET";
  size_t mlen = 3;
  if (opt_field(L, req, "method", LUA_TSTRING, where, "a string") == LUA_TSTRING) m = lua_tolstring(L, -1, &mlen);
  if (mlen >= sizeof x->method || !azlua_http_is_token(m, mlen)) luaL_error(L, "%s.method is not a valid method", where);
  memcpy(x->method, m, mlen + 1);
  lua_pop(L, 1);
  read_url(L, req, x, where);
  read_headers(L, req, x, where);
  read_body(L, req, x, anchors, where);
  read_output(L, req, x, where);
  x->head = strcmp(x->method, "HEAD") == 0;
  if (x->head && x->has_body) luaL_error(L, "%s.body: a HEAD request has no body", where);
  if (!x->has_body && (!strcmp(x->method, "PUT") || !strcmp(x->method, "POST") || !strcmp(x->method, "PATCH")))
    x->has_body = 1; /* an empty body: Content-Length: 0 */
  x->timeout_ms = ms_of(opt_seconds(L, req, "timeout", where));
  x->connect_timeout_ms = ms_of(opt_seconds(L, req, "connect_timeout", where));
  double lst = opt_seconds(L, req, "low_speed_time", where);
  x->low_speed_time = lst < 0 ? -1 : (long)(lst + 0.999);
  x->low_speed_limit = (long)opt_int(L, req, "low_speed_limit", where, -1);
  x->max_body = (size_t)opt_int(L, req, "max_body", where, 0);
  if (opt_field(L, req, "ca_file", LUA_TSTRING, where, "a path") == LUA_TSTRING) {
    x->ca_file = xstrdup(L, lua_tostring(L, -1));
  } else {
    static const char *const vars[] = {"AZLUA_CA_FILE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", NULL};
    const char *v = env_first(vars);
    if (v) x->ca_file = xstrdup(L, v);
  }
  lua_pop(L, 1);
}

/* ---- starting and finishing --------------------------------------------------------------------- */

static void file_failure(xfer_t *x, const char *what, const char *path, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "cannot %s %.180s: %s", what, path, strerror(err));
  set_pre_failure(x, "file", msg);
}

static int open_files(xfer_t *x) {
  if (x->in_path) {
    struct stat st;
    x->in_fd = open(x->in_path, O_RDONLY | O_CLOEXEC);
    if (x->in_fd < 0 || fstat(x->in_fd, &st) != 0) {
      file_failure(x, "read", x->in_path, errno);
      return -1;
    }
    curl_off_t size = (curl_off_t)st.st_size;
    if (x->in_len < 0) x->in_len = size > x->in_off ? size - x->in_off : 0;
    if (x->in_off > size || x->in_len > size - x->in_off) {
      file_failure(x, "read", x->in_path, ERANGE);
      snprintf(x->pre_msg, sizeof x->pre_msg, "body file %.180s is shorter than offset + length", x->in_path);
      return -1;
    }
    x->up_len = x->in_len;
  }
  if (x->out_path) {
    int flags = O_WRONLY | O_CLOEXEC | (x->out_truncate ? O_CREAT | O_TRUNC : 0);
    x->out_fd = open(x->out_path, flags, 0666);
    if (x->out_fd < 0) {
      file_failure(x, "write", x->out_path, errno);
      return -1;
    }
    /* Not possible here (alignment, file system): the ordinary descriptor does it all. */
    if (x->out_direct) (void)direct_out_open(&x->dout, x->out_path, (off_t)x->out_off, x->out_fd);
  }
  return 0;
}

#define SETL(o, v) (rc = rc ? rc : azcurl.easy_setopt(e, (o), (long)(v)))
#define SETP(o, v) (rc = rc ? rc : azcurl.easy_setopt(e, (o), (v)))
#define SETO(o, v) (rc = rc ? rc : azcurl.easy_setopt(e, (o), (curl_off_t)(v)))

static CURLcode configure(xfer_t *x) {
  CURL *e = x->easy;
  CURLcode rc = CURLE_OK;
  SETP(CURLOPT_CURLU, x->cu);
  SETP(CURLOPT_PROTOCOLS_STR, "http,https");
  SETP(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  /* Plain SOCKS5 authentication only: GSS-API is not part of azlua-curl.so (src/curl_module/). */
  SETL(CURLOPT_SOCKS5_AUTH, CURLAUTH_BASIC);
  SETP(CURLOPT_PRIVATE, (void *)x);
  SETP(CURLOPT_SHARE, pool.share);
  SETP(CURLOPT_ERRORBUFFER, x->errbuf);
  SETL(CURLOPT_NOSIGNAL, 1);
  SETL(CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  SETL(CURLOPT_TCP_KEEPALIVE, 1);
  SETL(CURLOPT_TCP_KEEPIDLE, 60);
  SETL(CURLOPT_TCP_KEEPINTVL, 30);
  SETL(CURLOPT_SSL_VERIFYPEER, 1);
  SETL(CURLOPT_SSL_VERIFYHOST, 2);
  SETL(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1);
  SETL(CURLOPT_BUFFERSIZE, 128 * 1024);
  if (x->ca_file) SETP(CURLOPT_CAINFO, x->ca_file);
  if (x->loopback) SETP(CURLOPT_NOPROXY, "*");
  SETP(CURLOPT_HEADERFUNCTION, on_header);
  SETP(CURLOPT_HEADERDATA, (void *)x);
  SETP(CURLOPT_WRITEFUNCTION, on_write);
  SETP(CURLOPT_WRITEDATA, (void *)x);
  SETP(CURLOPT_HTTPHEADER, x->hdrs);
  SETL(CURLOPT_CONNECTTIMEOUT_MS, x->connect_timeout_ms >= 0 ? x->connect_timeout_ms : 30000);
  if (x->timeout_ms > 0) SETL(CURLOPT_TIMEOUT_MS, x->timeout_ms);
  if (x->low_speed_limit > 0 && x->low_speed_time > 0) {
    SETL(CURLOPT_LOW_SPEED_LIMIT, x->low_speed_limit);
    SETL(CURLOPT_LOW_SPEED_TIME, x->low_speed_time);
  }
  if (x->head) {
    SETL(CURLOPT_NOBODY, 1);
  } else if (x->has_body) {
    SETL(CURLOPT_POST, 1);
    SETO(CURLOPT_POSTFIELDSIZE_LARGE, x->up_len);
    SETP(CURLOPT_READFUNCTION, on_read);
    SETP(CURLOPT_READDATA, (void *)x);
    SETP(CURLOPT_SEEKFUNCTION, on_seek);
    SETP(CURLOPT_SEEKDATA, (void *)x);
    SETL(CURLOPT_UPLOAD_BUFFERSIZE, 256 * 1024);
    if (strcmp(x->method, "POST") != 0) SETP(CURLOPT_CUSTOMREQUEST, x->method);
  } else if (strcmp(x->method, "GET") != 0) {
    SETP(CURLOPT_CUSTOMREQUEST, x->method);
  }
  return rc;
}

/* A body from a file to plain-http loopback (an emulator) goes by sendfile(2) instead of through
 * libcurl's read buffer: see src/util/sendfile_http.h. AZLUA_SENDFILE=0 keeps everything on libcurl. */
static int sendfile_wanted(const xfer_t *x) {
  if (!x->plain_http || !x->loopback || !x->in_path || x->out_path || x->head || x->up_len <= 0) return 0;
  const char *v = getenv("AZLUA_SENDFILE");
  return !(v && strcmp(v, "0") == 0);
}

static int head_add(membuf_t *h, const char *s) { return membuf_add(h, s, strlen(s)); }

static int has_header(const struct curl_slist *l, const char *name) {
  size_t n = strlen(name);
  for (; l; l = l->next)
    if (strncasecmp(l->data, name, n) == 0 && (l->data[n] == ':' || l->data[n] == ';')) return 1;
  return 0;
}

/* The request head libcurl would send for x to host:port (as the URL spells the host; the port with
 * http's default): request line, Host, the request's headers (curl's "Name;" spelling is an empty value,
 * "Name:" a header libcurl would have left out), Accept, Content-Length. */
static int build_head(xfer_t *x, const char *host, const char *port, membuf_t *h) {
  char *path = NULL, *query = NULL;
  azcurl.url_get(x->cu, CURLUPART_PATH, &path, 0);
  azcurl.url_get(x->cu, CURLUPART_QUERY, &query, 0);
  char len[32];
  snprintf(len, sizeof len, "%lld", (long long)x->up_len);
  int rc = head_add(h, x->method) | head_add(h, " ") | head_add(h, path ? path : "/");
  if (query) rc |= head_add(h, "?") | head_add(h, query);
  rc |= head_add(h, " HTTP/1.1\r\n");
  azcurl.free(path);
  azcurl.free(query);
  if (!has_header(x->hdrs, "host")) { /* as libcurl: the port only when it is not http's 80 */
    rc |= head_add(h, "Host: ") | head_add(h, host);
    if (strcmp(port, "80") != 0) rc |= head_add(h, ":") | head_add(h, port);
    rc |= head_add(h, "\r\n");
  }
  for (const struct curl_slist *l = x->hdrs; l; l = l->next) {
    size_t n = strlen(l->data);
    const char *colon = strchr(l->data, ':');
    if (colon && colon[1] == '\0') continue;
    if (!colon && n > 0 && l->data[n - 1] == ';') {
      rc |= membuf_add(h, l->data, n - 1) | head_add(h, ":\r\n");
    } else {
      rc |= head_add(h, l->data) | head_add(h, "\r\n");
    }
  }
  if (!has_header(x->hdrs, "accept")) rc |= head_add(h, "Accept: */*\r\n");
  if (!has_header(x->hdrs, "content-length")) rc |= head_add(h, "Content-Length: ") | head_add(h, len) | head_add(h, "\r\n");
  rc |= head_add(h, "\r\n");
  return rc ? -1 : 0;
}

static int start_sendfile(xfer_t *x) {
  membuf_t head = {0};
  char *host = NULL, *port = NULL;
  x->sf = calloc(1, sizeof *x->sf);
  int rc = x->sf && azcurl.url_get(x->cu, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
                   azcurl.url_get(x->cu, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK
               ? build_head(x, host, port, &head)
               : -1;
  if (rc == 0) {
    sfh_t *t = x->sf;
    t->in_fd = x->in_fd;
    t->in_off = (off_t)x->in_off;
    t->in_len = (off_t)x->up_len;
    t->max_body = x->max_body;
    t->connect_timeout_ms = x->connect_timeout_ms;
    t->timeout_ms = x->timeout_ms;
    t->low_speed_limit = x->low_speed_limit;
    t->low_speed_time = x->low_speed_time;
    sfh_start(t, host, port, head.p, head.n);
    x->state = X_RUNNING;
    pool.requests++;
    pool.sendfile_requests++;
  } else {
    free(x->sf); /* never started: nothing of it to free but itself */
    x->sf = NULL;
    set_pre_failure(x, "other", "not enough memory");
  }
  membuf_free(&head);
  azcurl.free(host);
  azcurl.free(port);
  return rc;
}

/* The curl result a sendfile_http failure stands for, so err.curl_code and err.kind read the same. */
static CURLcode sfh_curl_code(int error) {
  switch (error) {
    case SFH_OK: return CURLE_OK;
    case SFH_E_CONNECT: return CURLE_COULDNT_CONNECT;
    case SFH_E_RESOLVE: return CURLE_COULDNT_RESOLVE_HOST;
    case SFH_E_TIMEOUT: return CURLE_OPERATION_TIMEDOUT;
    case SFH_E_SEND: return CURLE_SEND_ERROR;
    case SFH_E_RECV: return CURLE_RECV_ERROR;
    case SFH_E_NOTHING: return CURLE_GOT_NOTHING;
    case SFH_E_PARTIAL: return CURLE_PARTIAL_FILE;
    case SFH_E_FILE: return CURLE_READ_ERROR;
    case SFH_E_MAXBODY: return CURLE_WRITE_ERROR;
    case SFH_E_NOMEM: return CURLE_OUT_OF_MEMORY;
    default: return CURLE_WEIRD_SERVER_REPLY;
  }
}

/* Starts x on the multi handle; 0 when running, -1 when it failed at once (x->pre_kind set). */
static int xfer_start(xfer_t *x) {
  if (x->pre_kind) return -1;
  if (open_files(x) != 0) return -1;
  if (sendfile_wanted(x)) return start_sendfile(x);
  x->easy = easy_get();
  if (!x->easy) {
    set_pre_failure(x, "other", "cannot create a curl handle");
    return -1;
  }
  CURLcode rc = configure(x);
  if (rc != CURLE_OK) {
    char msg[200];
    snprintf(msg, sizeof msg, "%.100s: %s", x->host, azcurl.easy_strerror(rc));
    set_pre_failure(x, "other", msg);
    return -1;
  }
  if (azcurl.multi_add_handle(pool.multi, x->easy) != CURLM_OK) {
    set_pre_failure(x, "other", "cannot add a transfer to the curl multi handle");
    return -1;
  }
  x->state = X_RUNNING;
  pool.requests++;
  return 0;
}

static void set_str(lua_State *L, const char *k, const char *v) {
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}
static void set_num(lua_State *L, const char *k, lua_Number v) {
  lua_pushnumber(L, v);
  lua_setfield(L, -2, k);
}
static void set_int(lua_State *L, const char *k, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}
static void set_bool(lua_State *L, const char *k, int v) {
  lua_pushboolean(L, v);
  lua_setfield(L, -2, k);
}

static void push_lower(lua_State *L, const char *s, size_t n) {
  luaL_Buffer b;
  char *p = luaL_buffinitsize(L, &b, n);
  for (size_t i = 0; i < n; i++) p[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
  luaL_pushresultsize(&b, n);
}

/* Sets res.headers and res.header_list (table on top) from the raw header block of the final response. */
static void push_headers(lua_State *L, const membuf_t *h) {
  lua_newtable(L); /* headers */
  lua_newtable(L); /* header_list */
  lua_Integer count = 0;
  const char *p = h->p, *end = h->p ? h->p + h->n : NULL;
  while (p && p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *next = eol ? eol + 1 : end;
    const char *le = eol ? eol : end;
    if (le > p && le[-1] == '\r') le--;
    const char *colon = memchr(p, ':', (size_t)(le - p));
    if (colon && colon > p && !(p[0] == ' ' || p[0] == '\t') && memcmp(p, "HTTP/", 5) != 0) {
      const char *v = colon + 1, *ve = le;
      while (v < ve && (*v == ' ' || *v == '\t')) v++;
      while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
      lua_createtable(L, 2, 0);
      lua_pushlstring(L, p, (size_t)(colon - p));
      lua_rawseti(L, -2, 1);
      lua_pushlstring(L, v, (size_t)(ve - v));
      lua_rawseti(L, -2, 2);
      lua_rawseti(L, -2, ++count);
      push_lower(L, p, (size_t)(colon - p));
      lua_pushlstring(L, v, (size_t)(ve - v));
      lua_rawset(L, -4);
    }
    p = next;
  }
  lua_setfield(L, -3, "header_list");
  lua_setfield(L, -2, "headers");
}

static const char *version_name(long v) {
  switch (v) {
    case CURL_HTTP_VERSION_1_0: return "1.0";
    case CURL_HTTP_VERSION_1_1: return "1.1";
    case CURL_HTTP_VERSION_2_0: return "2";
    case CURL_HTTP_VERSION_3: return "3";
    default: return NULL;
  }
}

/* The one-line message of a failed transfer: "host: detail", without the query string. */
static void failure_message(xfer_t *x, char *out, size_t outlen) {
  char detail[CURL_ERROR_SIZE + 64];
  switch (x->own_err) {
    case OWN_FILE_READ:
      snprintf(detail, sizeof detail, "cannot read body file %.150s: %s", x->in_path, strerror(x->own_errno));
      break;
    case OWN_FILE_WRITE:
      snprintf(detail, sizeof detail, "cannot write %.150s: %s", x->out_path, strerror(x->own_errno));
      break;
    case OWN_MAXBODY:
      snprintf(detail, sizeof detail, "response body larger than max_body (%zu bytes)", x->max_body);
      break;
    case OWN_NOMEM:
      snprintf(detail, sizeof detail, "not enough memory for the response");
      break;
    default: {
      size_t n = strnlen(x->errbuf, sizeof x->errbuf);
      while (n > 0 && (x->errbuf[n - 1] == '\n' || x->errbuf[n - 1] == '\r')) n--;
      /* curl's detail names host and port; should it ever carry a query, fall back to the generic text */
      if (n == 0 || memchr(x->errbuf, '?', n)) {
        snprintf(detail, sizeof detail, "%s", azcurl.easy_strerror(x->result));
      } else {
        snprintf(detail, sizeof detail, "%.*s", (int)n, x->errbuf);
      }
    }
  }
  for (char *c = detail; *c; c++)
    if (*c == '\n' || *c == '\r') *c = ' ';
  snprintf(out, outlen, "%s: %s", x->host ? x->host : "?", detail);
}

/* Pushes res or err for a finished (or never started) transfer, frees it, returns 1 for res. Also calls
 * the hook. The transfer must no longer be on the multi handle. */
static int xfer_finish(lua_State *L, xfer_t *x, lua_Integer *sent_total, lua_Integer *recv_total) {
  long status = 0, nconn = 0, httpver = 0;
  curl_off_t total_us = 0, up = 0, down = 0;
  long reqsize = 0, proxy_status = 0;
  char *ip = NULL;
  int ok = 0, reused = 0;
  if (x->sf) {
    sfh_t *t = x->sf;
    status = t->error == SFH_OK ? t->status : 0;
    total_us = (curl_off_t)(t->elapsed * 1e6);
    nconn = t->connections_opened;
    up = (curl_off_t)t->body_sent;
    down = (curl_off_t)t->body_received;
    httpver = CURL_HTTP_VERSION_1_1;
    reqsize = (long)t->head_sent;
    pool.connections += nconn;
    reused = t->reused && nconn == 0;
    x->result = sfh_curl_code(t->error);
    x->own_err = t->error == SFH_E_FILE ? OWN_FILE_READ : t->error == SFH_E_MAXBODY ? OWN_MAXBODY
                 : t->error == SFH_E_NOMEM ? OWN_NOMEM : OWN_NONE;
    x->own_errno = t->file_errno;
    snprintf(x->errbuf, sizeof x->errbuf, "%s", t->message);
    x->status = t->status;
    x->up_pos = t->sent_all ? x->up_len : (curl_off_t)t->body_sent;
    x->resent = t->resent;
    /* the answer moves over; x->sf is freed by xfer_reset */
    membuf_free(&x->head_buf);
    membuf_free(&x->resp);
    x->head_buf = t->resp_head;
    x->resp = t->body;
    memset(&t->resp_head, 0, sizeof t->resp_head);
    memset(&t->body, 0, sizeof t->body);
    ok = !x->pre_kind && t->error == SFH_OK;
  } else if (x->easy) {
    CURL *e = x->easy;
    azcurl.easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    azcurl.easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &total_us);
    azcurl.easy_getinfo(e, CURLINFO_NUM_CONNECTS, &nconn);
    azcurl.easy_getinfo(e, CURLINFO_PRIMARY_IP, &ip);
    azcurl.easy_getinfo(e, CURLINFO_SIZE_UPLOAD_T, &up);
    azcurl.easy_getinfo(e, CURLINFO_SIZE_DOWNLOAD_T, &down);
    azcurl.easy_getinfo(e, CURLINFO_HTTP_VERSION, &httpver);
    azcurl.easy_getinfo(e, CURLINFO_REQUEST_SIZE, &reqsize);
    azcurl.easy_getinfo(e, CURLINFO_HTTP_CONNECTCODE, &proxy_status);
    pool.connections += nconn;
    ok = !x->pre_kind && x->result == CURLE_OK && x->own_err == OWN_NONE;
    reused = nconn == 0 && ip && *ip;
  }
  double elapsed = (double)total_us / 1e6;
  const char *kind = NULL;
  lua_createtable(L, 0, 12);
  if (ok) {
    set_int(L, "status", status);
    push_headers(L, &x->head_buf);
    if (x->resp.n) {
      lua_pushlstring(L, x->resp.p, x->resp.n);
    } else {
      lua_pushliteral(L, "");
    }
    lua_setfield(L, -2, "body");
    const char *vn = version_name(httpver);
    if (vn) set_str(L, "http_version", vn);
    if (x->resent) set_bool(L, "resent", 1);
  } else {
    char msg[512];
    if (x->pre_kind) {
      kind = x->pre_kind;
      snprintf(msg, sizeof msg, "%s", x->pre_msg);
    } else {
      kind = x->own_err == OWN_FILE_READ || x->own_err == OWN_FILE_WRITE ? "file"
             : x->own_err != OWN_NONE                                   ? "other"
                                                                        : azlua_curl_error_kind(x->result);
      if (proxy_status >= 300 && x->own_err == OWN_NONE) kind = "connect"; /* the proxy refused the tunnel */
      failure_message(x, msg, sizeof msg);
      set_int(L, "curl_code", (lua_Integer)x->result);
      if (x->status >= 200) set_int(L, "http_status", x->status); /* never "status": see above */
    }
    set_str(L, "kind", kind);
    set_str(L, "message", msg);
    int sent = (x->easy || x->sf) && reqsize > 0 && (!x->has_body || x->up_pos >= x->up_len);
    set_bool(L, "sent", sent);
  }
  set_str(L, "url", x->safe_url ? x->safe_url : "");
  set_num(L, "elapsed", elapsed);
  set_bool(L, "reused", reused);
  set_int(L, "bytes_sent", (lua_Integer)up);
  set_int(L, "bytes_received", (lua_Integer)down);
  if (sent_total) *sent_total += (lua_Integer)up;
  if (recv_total) *recv_total += (lua_Integer)down;
  char method[sizeof x->method];
  memcpy(method, x->method, sizeof method);
  xfer_reset(x);

  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &HOOK_KEY) == LUA_TFUNCTION) {
    int res = lua_gettop(L) - 1;
    lua_createtable(L, 0, 8);
    set_str(L, "method", method);
    lua_getfield(L, res, "url");
    lua_setfield(L, -2, "url");
    if (ok) {
      set_int(L, "status", status);
    } else {
      set_str(L, "kind", kind);
    }
    set_num(L, "elapsed", elapsed);
    set_bool(L, "reused", reused);
    set_int(L, "bytes_sent", (lua_Integer)up);
    set_int(L, "bytes_received", (lua_Integer)down);
    lua_call(L, 1, 0);
  } else {
    lua_pop(L, 1);
  }
  return ok;
}

/* ---- the loop ------------------------------------------------------------------------------------- */

/* Pushes a new batch of `slots` transfer slots: a to-be-closed userdata (whatever error unwinds the
 * stack, its transfers are removed from the multi handle and freed) whose user value anchors the body
 * strings of the requests in flight. */
static batch_t *batch_new(lua_State *L, int slots) {
  batch_t *b = (batch_t *)lua_newuserdatauv(L, sizeof(batch_t), 1);
  memset(b, 0, sizeof *b);
  if (luaL_newmetatable(L, "azure.core.http.batch")) {
    lua_pushcfunction(L, batch_close);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, batch_close);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  lua_toclose(L, -1);
  b->x = calloc((size_t)slots, sizeof(xfer_t));
  b->wait = calloc((size_t)slots, sizeof(struct curl_waitfd));
  if (!b->x || !b->wait) luaL_error(L, "not enough memory");
  b->n = slots;
  for (int i = 0; i < slots; i++) {
    b->x[i].slot = i;
    b->x[i].in_fd = b->x[i].out_fd = -1;
    direct_out_init(&b->x[i].dout);
  }
  lua_createtable(L, slots, 0);
  lua_setiuservalue(L, -2, 1);
  return b;
}

static void ensure_pool(lua_State *L) {
  char err[256];
  if (pool_ready(err, sizeof err) != 0) luaL_error(L, "%s", err);
}

/* The requests of a batch: the table at `reqs` itself (single) or its elements 1..n. */
typedef struct {
  int reqs, single, anchors;
  lua_Integer n;
} source_t;

/* Reads request i into the free slot x (raises on misuse). */
static void load_request(lua_State *L, const source_t *src, xfer_t *x, lua_Integer i) {
  char where[64];
  if (src->single) {
    snprintf(where, sizeof where, "http.request: req");
    lua_pushvalue(L, src->reqs);
  } else {
    snprintf(where, sizeof where, "http.request_many: reqs[%lld]", (long long)i);
    lua_geti(L, src->reqs, i);
  }
  read_request(L, lua_gettop(L), x, src->anchors, where);
  lua_pop(L, 1);
  x->index = i;
  x->state = X_READY;
}

/* A running transfer has ended (and is off the multi handle): its result goes to out[i] (out > 0) or
 * stays on the stack. Returns whether it is a res. */
static int end_running(lua_State *L, xfer_t *x, int out, lua_Integer *sent_done, lua_Integer *recv_done) {
  x->state = X_READY;
  lua_Integer idx = x->index;
  int ok = xfer_finish(L, x, sent_done, recv_done);
  if (out) lua_rawseti(L, out, idx);
  return ok;
}

/* Runs every request of src with at most b->n in flight. Each result goes to out[i] (out > 0) or, for a
 * single request, is left on the stack; returns whether the last result is a res. */
static int batch_run(lua_State *L, batch_t *b, const source_t *src, int progress, int out) {
  lua_Integer next = 1, done = 0;
  int active = 0, last_ok = 0;
  lua_Integer sent_done = 0, recv_done = 0;
  double last_progress = monotonic_seconds();
  if (pool.busy) luaL_error(L, "http: a request cannot be made from a hook or progress callback");
  pool.busy = 1;
  b->owns_busy = 1;
  while (done < src->n) {
    for (int s = 0; s < b->n && next <= src->n; s++) {
      xfer_t *x = &b->x[s];
      if (x->state != X_FREE) continue;
      load_request(L, src, x, next++);
      if (xfer_start(x) == 0) {
        active++;
        continue;
      }
      lua_Integer idx = x->index;
      last_ok = xfer_finish(L, x, &sent_done, &recv_done); /* frees the slot; may run the hook */
      if (out) lua_rawseti(L, out, idx);
      done++;
      s--; /* fill the same slot again */
    }
    if (active == 0) continue;
    int running = 0;
    CURLMcode mc = azcurl.multi_perform(pool.multi, &running);
    if (mc != CURLM_OK) batch_fail(L, b, azcurl.multi_strerror(mc));
    CURLMsg *msg;
    int left, finished = 0;
    while ((msg = azcurl.multi_info_read(pool.multi, &left)) != NULL) {
      if (msg->msg != CURLMSG_DONE) continue;
      char *priv = NULL;
      azcurl.easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
      xfer_t *x = (xfer_t *)(void *)priv;
      if (!x || x < b->x || x >= b->x + b->n || x->state != X_RUNNING) continue;
      x->result = msg->data.result;
      if (x->result == CURLE_OK && x->own_err == OWN_NONE && direct_out_flush(&x->dout) != 0) {
        x->own_err = OWN_FILE_WRITE;
        x->own_errno = errno;
      }
      azcurl.multi_remove_handle(pool.multi, x->easy);
      active--, done++, finished++;
      last_ok = end_running(L, x, out, &sent_done, &recv_done);
    }
    for (int s = 0; s < b->n; s++) { /* the sendfile transfers (not on the multi handle) */
      xfer_t *x = &b->x[s];
      if (x->state != X_RUNNING || !x->sf || !sfh_step(x->sf)) continue;
      active--, done++, finished++;
      last_ok = end_running(L, x, out, &sent_done, &recv_done);
    }
    if (azlua_interrupted) batch_fail(L, b, "interrupted!");
    if (progress && monotonic_seconds() - last_progress >= PROGRESS_INTERVAL) {
      lua_Integer su = sent_done, re = recv_done;
      for (int i = 0; i < b->n; i++) {
        if (b->x[i].state != X_RUNNING) continue;
        if (b->x[i].sf) {
          su += (lua_Integer)b->x[i].sf->body_sent;
          re += (lua_Integer)b->x[i].sf->body_received;
          continue;
        }
        curl_off_t up = 0, down = 0;
        azcurl.easy_getinfo(b->x[i].easy, CURLINFO_SIZE_UPLOAD_T, &up);
        azcurl.easy_getinfo(b->x[i].easy, CURLINFO_SIZE_DOWNLOAD_T, &down);
        su += (lua_Integer)up;
        re += (lua_Integer)down;
      }
      lua_pushvalue(L, progress);
      lua_pushinteger(L, su);
      lua_pushinteger(L, re);
      lua_call(L, 2, 0);
      last_progress = monotonic_seconds();
    }
    if (finished == 0 && active > 0) {
      unsigned nw = 0;
      for (int i = 0; i < b->n; i++) {
        int fd;
        short ev;
        if (b->x[i].state != X_RUNNING || !b->x[i].sf) continue;
        sfh_wait(b->x[i].sf, &fd, &ev);
        if (fd < 0) continue;
        b->wait[nw].fd = fd;
        b->wait[nw].events = (short)(((ev & POLLIN) ? CURL_WAIT_POLLIN : 0) | ((ev & POLLOUT) ? CURL_WAIT_POLLOUT : 0));
        b->wait[nw].revents = 0;
        nw++;
      }
      mc = azcurl.multi_poll(pool.multi, nw ? b->wait : NULL, nw, POLL_MS, NULL);
      if (mc != CURLM_OK) batch_fail(L, b, azcurl.multi_strerror(mc));
    }
  }
  if (progress) {
    lua_pushvalue(L, progress);
    lua_pushinteger(L, sent_done);
    lua_pushinteger(L, recv_done);
    lua_call(L, 2, 0);
  }
  pool.busy = 0;
  b->owns_busy = 0;
  return last_ok;
}

static int l_request(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  ensure_pool(L);
  batch_t *b = batch_new(L, 1); /* 2: batch (to-be-closed) */
  lua_getiuservalue(L, 2, 1);   /* 3: anchors */
  source_t src = {1, 1, 3, 1};
  int ok = batch_run(L, b, &src, 0, 0); /* 4: res or err */
  if (ok) return 1;
  lua_pushnil(L);
  lua_insert(L, -2);
  return 2;
}

static int l_request_many(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_Integer concurrency = DEFAULT_CONCURRENCY;
  lua_settop(L, 2);
  if (!lua_isnil(L, 2)) {
    luaL_checktype(L, 2, LUA_TTABLE);
    concurrency = opt_int(L, 2, "concurrency", "http.request_many: opts", DEFAULT_CONCURRENCY);
    if (concurrency < 1) luaL_error(L, "http.request_many: opts.concurrency must be at least 1");
    opt_field(L, 2, "progress", LUA_TFUNCTION, "http.request_many: opts", "a function");
  } else {
    lua_pushnil(L);
  }
  int progress = lua_isfunction(L, 3) ? 3 : 0; /* 3: progress function or nil */
  lua_Integer n = (lua_Integer)luaL_len(L, 1);
  lua_createtable(L, n > 0 && n < 1000000 ? (int)n : 0, 0); /* 4: out */
  if (n <= 0) return 1;
  if (concurrency > n) concurrency = n;
  if (concurrency > 1024) concurrency = 1024;
  ensure_pool(L);
  batch_t *b = batch_new(L, (int)concurrency); /* 5 */
  lua_getiuservalue(L, 5, 1);                  /* 6: anchors */
  source_t src = {1, 0, 6, n};
  /* Misuse anywhere raises before anything is sent: read every request once (into slot 0). */
  for (lua_Integer i = 1; i <= n; i++) {
    load_request(L, &src, &b->x[0], i);
    xfer_reset(&b->x[0]);
  }
  batch_run(L, b, &src, progress, 4);
  lua_pushvalue(L, 4);
  return 1;
}

static int l_set_hook(lua_State *L) {
  if (!lua_isnoneornil(L, 1)) luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_settop(L, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &HOOK_KEY);
  return 0;
}

static int l_stats(lua_State *L) {
  lua_createtable(L, 0, 4);
  set_int(L, "connections_opened", pool.connections);
  set_int(L, "requests", pool.requests);
  set_int(L, "sendfile_requests", pool.sendfile_requests);
  set_bool(L, "curl_loaded", azlua_curl_loaded());
  if (azlua_curl_loaded()) {
    lua_pushstring(L, azlua_curl_library());
    lua_setfield(L, -2, "curl_library");
  }
  return 1;
}

/* The pool lives as long as some lua_State has the module open. */
static int sentinel_gc(lua_State *L) {
  (void)L;
  if (--pool.refs == 0) pool_destroy();
  return 0;
}

int luaopen_azure_core_http(lua_State *L) {
  static const luaL_Reg fns[] = {{"request", l_request},
                                 {"request_many", l_request_many},
                                 {"set_hook", l_set_hook},
                                 {"stats", l_stats},
                                 {NULL, NULL}};
  luaL_newlib(L, fns);
  lua_newuserdatauv(L, 1, 0);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, sentinel_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  pool.refs++;
  lua_rawsetp(L, LUA_REGISTRYINDEX, &POOL_KEY); /* collected by lua_close (or a second luaopen) */
  return 1;
}
