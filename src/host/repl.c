/* The interactive loop: libedit line editing, persistent history, multi-line chunks, and results
 * printed by the Lua pretty-printer (azure.pretty), loaded on the first result only. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <editline/readline.h>
#include <lauxlib.h>

#include "azlua.h"
#include "host.h"

#define EOFMARK "<eof>"
#define MARKLEN (sizeof(EOFMARK) / sizeof(char) - 1)

static volatile sig_atomic_t interrupted = 0;
static lua_State *replL = NULL;

/* Tab completion asks azure.complete (Lua) for the candidates; libedit shows them. */
static char **candidates = NULL;
static size_t ncandidates = 0, next_candidate = 0;

static void free_candidates(void) {
  for (size_t i = 0; i < ncandidates; i++) free(candidates[i]);
  free(candidates);
  candidates = NULL;
  ncandidates = next_candidate = 0;
}

static char *candidate_generator(const char *text, int state) {
  (void)text;
  if (state == 0) next_candidate = 0;
  if (next_candidate >= ncandidates) return NULL;
  return strdup(candidates[next_candidate++]);
}

static char **complete(const char *text, int start, int end) {
  lua_State *L = replL;
  rl_attempted_completion_over = 1; /* never fall back to file names */
  free_candidates();
  int top = lua_gettop(L);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "azure.complete");
  if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1)) {
    lua_settop(L, top);
    return NULL;
  }
  lua_getfield(L, -1, "complete");
  lua_pushstring(L, rl_line_buffer);
  lua_pushinteger(L, start);
  lua_pushinteger(L, end);
  if (lua_pcall(L, 3, 1, 0) != LUA_OK || !lua_istable(L, -1)) {
    lua_settop(L, top);
    return NULL;
  }
  size_t n = (size_t)luaL_len(L, -1);
  candidates = calloc(n ? n : 1, sizeof(char *));
  for (size_t i = 0; candidates && i < n; i++) {
    lua_geti(L, -1, (lua_Integer)i + 1);
    const char *c = lua_tostring(L, -1);
    if (c) candidates[ncandidates++] = strdup(c);
    lua_pop(L, 1);
  }
  lua_settop(L, top);
  if (ncandidates == 0) return NULL;
  rl_completion_append_character = '\0';
  return rl_completion_matches(text, candidate_generator);
}
static char history_path[4096];

static void on_sigint_while_reading(int sig) {
  (void)sig;
  interrupted = 1;
}

/* Reads one byte for libedit; Ctrl-C (EINTR with our flag) ends the line as if at EOF, and the
 * caller tells the two apart by the flag. */
static int getc_interruptible(FILE *f) {
  unsigned char c;
  for (;;) {
    ssize_t n = read(fileno(f), &c, 1);
    if (n == 1) return c;
    if (n == 0) return EOF;
    if (errno == EINTR) {
      if (interrupted) return EOF;
      continue;
    }
    return EOF;
  }
}

static void history_setup(void) {
  const char *env = getenv("AZLUA_HISTORY");
  const char *home = getenv("HOME");
  if (env && *env) snprintf(history_path, sizeof history_path, "%s", env);
  else if (home && *home) snprintf(history_path, sizeof history_path, "%s/.azlua_history", home);
  else history_path[0] = '\0';
  using_history();
  stifle_history(1000);
  if (history_path[0]) read_history(history_path);
}

/* History can hold secrets typed at the prompt: the file is created 0600 and kept so. */
static void history_save(void) {
  if (!history_path[0]) return;
  int fd = open(history_path, O_WRONLY | O_CREAT, 0600);
  if (fd >= 0) close(fd);
  chmod(history_path, 0600);
  write_history(history_path);
  chmod(history_path, 0600);
}

/* Returns a malloc'd line or NULL at EOF; *cancelled is set when Ctrl-C ended the line. */
static char *read_line(lua_State *L, int firstline, int *cancelled) {
  lua_getglobal(L, firstline ? "_PROMPT" : "_PROMPT2");
  const char *prompt = lua_tostring(L, -1);
  if (prompt == NULL) prompt = firstline ? "> " : ">> ";
  char *copy = strdup(prompt);
  lua_pop(L, 1);

  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint_while_reading; /* no SA_RESTART: read() must return EINTR */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old);
  interrupted = 0;
  char *line = readline(copy);
  sigaction(SIGINT, &old, NULL);
  free(copy);
  *cancelled = interrupted;
  if (interrupted) {
    free(line);
    line = NULL;
  }
  return line;
}

static int incomplete(lua_State *L, int status) {
  if (status == LUA_ERRSYNTAX) {
    size_t lmsg;
    const char *msg = lua_tolstring(L, -1, &lmsg);
    if (lmsg >= MARKLEN && strcmp(msg + lmsg - MARKLEN, EOFMARK) == 0) {
      lua_pop(L, 1);
      return 1;
    }
  }
  return 0;
}

/* Prints every value on the stack above base with azure.pretty (falls back to tostring). */
static void print_results(lua_State *L, int base) {
  int n = lua_gettop(L) - base;
  if (n <= 0) return;
  lua_getglobal(L, "require");
  lua_pushliteral(L, "azure.pretty");
  if (lua_pcall(L, 1, 1, 0) != LUA_OK || !lua_istable(L, -1)) {
    lua_pop(L, 1);
    for (int i = 1; i <= n; i++) {
      fprintf(stdout, "%s%s", i > 1 ? "\t" : "", luaL_tolstring(L, base + i, NULL));
      lua_pop(L, 1);
    }
    fputc('\n', stdout);
    lua_settop(L, base);
    return;
  }
  lua_getfield(L, -1, "print");
  lua_remove(L, -2);
  lua_insert(L, base + 1);
  int status = host_docall(L, n, 0);
  host_report(L, status);
  lua_settop(L, base);
  fflush(stdout);
}

void host_repl(lua_State *L) {
  int interactive = isatty(0);
  replL = L;
  rl_catch_signals = 0;
  rl_attempted_completion_function = complete;
  rl_basic_word_break_characters = " \t\n\"\\'`@$><=;|&{(,+-*/%^~#[]";
  rl_getc_function = getc_interruptible;
  if (interactive) history_setup();
  printf("azlua %s (%s)  Ctrl-D exits, Ctrl-C cancels the line\n", AZLUA_VERSION_STRING, LUA_RELEASE);
  fflush(stdout);
  for (;;) {
    int cancelled = 0;
    char *line = read_line(L, 1, &cancelled);
    if (line == NULL) {
      if (cancelled) {
        fputs("\n", stdout);
        continue;
      }
      break;
    }
    int base = lua_gettop(L);
    /* An expression first ("return <line>"), then the line as a statement. */
    size_t len = strlen(line);
    luaL_Buffer b;
    char *chunk = NULL;
    const char *retline = lua_pushfstring(L, "return %s", line);
    int status = luaL_loadbuffer(L, retline, strlen(retline), "=stdin");
    lua_remove(L, -2);
    if (status != LUA_OK) {
      lua_pop(L, 1);
      chunk = line;
      line = NULL;
      for (;;) {
        status = luaL_loadbuffer(L, chunk, strlen(chunk), "=stdin");
        if (!incomplete(L, status)) break;
        char *more = read_line(L, 0, &cancelled);
        if (more == NULL) {
          status = -1; /* cancelled or EOF mid-chunk: drop it */
          break;
        }
        luaL_buffinit(L, &b);
        luaL_addstring(&b, chunk);
        luaL_addchar(&b, '\n');
        luaL_addstring(&b, more);
        luaL_pushresult(&b);
        free(chunk);
        free(more);
        chunk = strdup(lua_tostring(L, -1));
        lua_pop(L, 1);
      }
      if (status == -1) {
        fputs("\n", stdout);
        if (interactive) add_history(chunk);
        free(chunk);
        lua_settop(L, base);
        if (cancelled) continue;
        break;
      }
    }
    if (interactive) add_history(chunk ? chunk : line);
    if (interactive) history_save();
    free(chunk);
    free(line);
    (void)len;
    if (status == LUA_OK) {
      status = host_docall(L, 0, LUA_MULTRET);
      if (status == LUA_OK) print_results(L, base);
    }
    if (status != LUA_OK) {
      const char *msg = lua_tostring(L, -1);
      fprintf(stderr, "%s\n", msg ? msg : "(error object is not a string)");
      fflush(stderr);
      lua_settop(L, base);
    }
  }
  if (interactive) history_save();
  free_candidates();
  fputs("\n", stdout);
  fflush(stdout);
}
