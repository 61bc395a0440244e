/* azure.core.sys: the few operating-system calls Lua's standard library lacks and azlua needs.
 *
 *   sys.write_file_atomic(path, data [, mode=0600]) -> true | nil, err
 *       writes a temp file beside path (mode given at creation, never wider), fsyncs it and renames it
 *       over path: readers see the old file or the new one, never half of it. Secrets use 0600.
 *   sys.file_mode(path) -> integer permission bits | nil, err
 *   sys.isatty(fd)      -> boolean               (0 stdin, 1 stdout, 2 stderr)
 *   sys.term_width()    -> columns of stderr's terminal, or nil
 *   sys.mkdir_p(path [, mode=0755]) -> true | nil, err
 *   sys.preallocate(path, size) -> true | false (the file system cannot) | nil, err
 *       reserves size bytes of disk for an existing file without changing its length, so a download
 *       that cannot fit fails before it starts, and the file system allocates its extents once
 *       instead of page by page as the ranges arrive.
 *   sys.nproc()         -> online CPU count
 *   sys.getpid()        -> integer
 *   sys.spawn(argv [, {stdin=string}]) -> {status=exit code, stdout=string, stderr=string} | nil, err
 *       runs argv[1] found on PATH with argv[2..] as arguments, without a shell, so no argument is
 *       ever interpreted (used for `az account get-access-token`). */
#include <errno.h>
#include <fcntl.h>
#include <lauxlib.h>
#include <lua.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int fail(lua_State *L, const char *what, const char *path) {
  lua_pushnil(L);
  lua_pushfstring(L, "%s %s: %s", what, path, strerror(errno));
  return 2;
}

static int l_write_file_atomic(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  size_t len;
  const char *data = luaL_checklstring(L, 2, &len);
  mode_t mode = (mode_t)luaL_optinteger(L, 3, 0600);
  const char *tmp = lua_pushfstring(L, "%s.tmp.%d", path, (int)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return fail(L, "cannot create", tmp);
  if (fchmod(fd, mode) != 0) goto bad; /* umask may have narrowed it; never widen beyond mode */
  for (size_t off = 0; off < len;) {
    ssize_t n = write(fd, data + off, len - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      goto bad;
    }
    off += (size_t)n;
  }
  if (fsync(fd) != 0) goto bad;
  if (close(fd) != 0) {
    fd = -1;
    goto bad;
  }
  if (rename(tmp, path) != 0) {
    int e = errno;
    unlink(tmp);
    errno = e;
    return fail(L, "cannot rename into", path);
  }
  lua_pushboolean(L, 1);
  return 1;
bad: {
  int e = errno;
  if (fd >= 0) close(fd);
  unlink(tmp);
  errno = e;
  return fail(L, "cannot write", tmp);
}
}

static int l_file_mode(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  struct stat st;
  if (stat(path, &st) != 0) return fail(L, "cannot stat", path);
  lua_pushinteger(L, st.st_mode & 07777);
  return 1;
}

static int l_isatty(lua_State *L) {
  lua_pushboolean(L, isatty((int)luaL_checkinteger(L, 1)));
  return 1;
}

static int l_term_width(lua_State *L) {
  struct winsize ws;
  if (ioctl(2, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0) return 0;
  lua_pushinteger(L, ws.ws_col);
  return 1;
}

static int l_mkdir_p(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  mode_t mode = (mode_t)luaL_optinteger(L, 2, 0755);
  size_t len = strlen(path);
  char *buf = lua_newuserdatauv(L, len + 1, 0);
  memcpy(buf, path, len + 1);
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || *p == '\0') {
      char c = *p;
      *p = '\0';
      if (mkdir(buf, mode) != 0 && errno != EEXIST) return fail(L, "cannot create directory", buf);
      *p = c;
      if (c == '\0') break;
    }
  }
  lua_pushboolean(L, 1);
  return 1;
}

static int l_preallocate(lua_State *L) {
  const char *path = luaL_checkstring(L, 1);
  lua_Integer size = luaL_checkinteger(L, 2);
  luaL_argcheck(L, size >= 0, 2, "size must not be negative");
  if (size == 0) {
    lua_pushboolean(L, 1);
    return 1;
  }
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fail(L, "cannot open", path);
  int rc;
  do rc = fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)size); while (rc != 0 && errno == EINTR);
  int e = errno;
  close(fd);
  if (rc == 0) {
    lua_pushboolean(L, 1);
    return 1;
  }
  if (e == EOPNOTSUPP || e == ENOSYS || e == EINVAL) { /* tmpfs of old kernels, FUSE, NFS: write as we go */
    lua_pushboolean(L, 0);
    return 1;
  }
  errno = e;
  lua_pushnil(L);
  lua_pushfstring(L, "cannot reserve %I bytes for %s: %s", size, path, strerror(e));
  return 2;
}

static int l_nproc(lua_State *L) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  lua_pushinteger(L, n > 0 ? n : 1);
  return 1;
}

static int l_getpid(lua_State *L) {
  lua_pushinteger(L, getpid());
  return 1;
}

struct growbuf {
  char *data;
  size_t len, cap;
};

static int growbuf_add(struct growbuf *b, const char *p, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 4096;
    while (cap < b->len + n) cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) return -1;
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
  return 0;
}

/* Reads both pipes to the end while feeding stdin, so a chatty child never blocks on a full pipe. */
static void pump(int in_fd, const char *in, size_t in_len, int out_fd, int err_fd, struct growbuf *out,
                 struct growbuf *err) {
  size_t in_off = 0;
  struct pollfd fds[3];
  char chunk[16384];
  for (;;) {
    int n = 0, idx_in = -1, idx_out = -1, idx_err = -1;
    if (in_fd >= 0) { fds[n].fd = in_fd; fds[n].events = POLLOUT; idx_in = n++; }
    if (out_fd >= 0) { fds[n].fd = out_fd; fds[n].events = POLLIN; idx_out = n++; }
    if (err_fd >= 0) { fds[n].fd = err_fd; fds[n].events = POLLIN; idx_err = n++; }
    if (n == 0) break;
    if (poll(fds, (nfds_t)n, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (idx_in >= 0 && fds[idx_in].revents) {
      ssize_t w = (fds[idx_in].revents & POLLOUT) ? write(in_fd, in + in_off, in_len - in_off) : -1;
      if (w > 0) in_off += (size_t)w;
      if (w < 0 || in_off >= in_len) { close(in_fd); in_fd = -1; }
    }
    if (idx_out >= 0 && fds[idx_out].revents) {
      ssize_t r = read(out_fd, chunk, sizeof chunk);
      if (r > 0) growbuf_add(out, chunk, (size_t)r);
      else if (r == 0 || errno != EINTR) { close(out_fd); out_fd = -1; }
    }
    if (idx_err >= 0 && fds[idx_err].revents) {
      ssize_t r = read(err_fd, chunk, sizeof chunk);
      if (r > 0) growbuf_add(err, chunk, (size_t)r);
      else if (r == 0 || errno != EINTR) { close(err_fd); err_fd = -1; }
    }
  }
  if (in_fd >= 0) close(in_fd);
}

static int l_spawn(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  int argc = (int)luaL_len(L, 1);
  luaL_argcheck(L, argc >= 1, 1, "argv must name a program");
  size_t in_len = 0;
  const char *in = NULL;
  if (lua_istable(L, 2)) {
    lua_getfield(L, 2, "stdin");
    in = lua_tolstring(L, -1, &in_len);
    lua_replace(L, 2); /* keeps the string alive */
  }
  char **argv = lua_newuserdatauv(L, sizeof(char *) * (size_t)(argc + 1), 0);
  for (int i = 1; i <= argc; i++) {
    lua_geti(L, 1, i);
    argv[i - 1] = (char *)luaL_checkstring(L, -1);
    lua_pop(L, 1); /* the strings stay alive in the argv table */
  }
  argv[argc] = NULL;

  int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
  if (pipe2(pin, O_CLOEXEC) != 0 || pipe2(pout, O_CLOEXEC) != 0 || pipe2(perr, O_CLOEXEC) != 0) {
    int e = errno;
    for (int i = 0; i < 2; i++) {
      if (pin[i] >= 0) close(pin[i]);
      if (pout[i] >= 0) close(pout[i]);
      if (perr[i] >= 0) close(perr[i]);
    }
    errno = e;
    return fail(L, "cannot run", argv[0]);
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
  posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
  posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(pin[0]);
  close(pout[1]);
  close(perr[1]);
  if (rc != 0) {
    close(pin[1]);
    close(pout[0]);
    close(perr[0]);
    errno = rc;
    return fail(L, "cannot run", argv[0]);
  }
  if (!in) {
    close(pin[1]); /* the child sees EOF on stdin */
    pin[1] = -1;
  }
  /* A child that exits without reading stdin must not kill us with SIGPIPE. */
  void (*old)(int) = signal(SIGPIPE, SIG_IGN);
  struct growbuf out = {0}, err = {0};
  pump(pin[1], in, in_len, pout[0], perr[0], &out, &err);
  signal(SIGPIPE, old);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  lua_createtable(L, 0, 3);
  lua_pushlstring(L, out.data ? out.data : "", out.len);
  lua_setfield(L, -2, "stdout");
  lua_pushlstring(L, err.data ? err.data : "", err.len);
  lua_setfield(L, -2, "stderr");
  free(out.data);
  free(err.data);
  lua_pushinteger(L, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  lua_setfield(L, -2, "status");
  return 1;
}

static const luaL_Reg funcs[] = {
  {"write_file_atomic", l_write_file_atomic},
  {"file_mode", l_file_mode},
  {"isatty", l_isatty},
  {"term_width", l_term_width},
  {"mkdir_p", l_mkdir_p},
  {"preallocate", l_preallocate},
  {"nproc", l_nproc},
  {"getpid", l_getpid},
  {"spawn", l_spawn},
  {NULL, NULL},
};

int luaopen_azure_core_sys(lua_State *L) {
  luaL_newlib(L, funcs);
  return 1;
}
