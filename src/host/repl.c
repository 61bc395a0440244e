/* The interactive loop: libedit line editing, persistent history, multi-line chunks, Tab
 * completion (azure.complete), and the Azure session of azure.repl (Lua): lazily built clients,
 * a banner, results printed for people, `lasterror`, and "?name" help. azure.repl loads only
 * here, so scripts and -e never pay for it. */
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
static int repl_ref = LUA_NOREF; /* the azure.repl module, once started */
static int use_color = 0;

/* Colours only on a terminal, and never with NO_COLOR (any non-empty value) or TERM=dumb. */
static int color_wanted(void) {
  const char *nc = getenv("NO_COLOR");
  const char *term = getenv("TERM");
  if (nc && *nc) return 0;
  if (term && strcmp(term, "dumb") == 0) return 0;
  return isatty(1) && isatty(2);
}

/* Pushes azure.repl's field `name` (a function), or returns 0 with nothing pushed. */
static int push_repl_fn(lua_State *L, const char *name) {
  if (repl_ref == LUA_NOREF) return 0;
  lua_rawgeti(L, LUA_REGISTRYINDEX, repl_ref);
  lua_getfield(L, -1, name);
  lua_remove(L, -2);
  if (lua_isfunction(L, -1)) return 1;
  lua_pop(L, 1);
  return 0;
}

static void print_error(const char *msg) {
  if (use_color) fprintf(stderr, "\033[31m%s\033[0m\n", msg);
  else fprintf(stderr, "%s\n", msg);
  fflush(stderr);
}

/* Loads azure.repl, installs the session globals and prints the banner. A failure here (a bad
 * config file, say) is reported and the REPL goes on as plain Lua. */
static void repl_start(lua_State *L) {
  int top = lua_gettop(L);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "azure.repl");
  if (host_docall(L, 1, 1) != LUA_OK || !lua_istable(L, -1)) {
    if (lua_isstring(L, -1)) print_error(lua_tostring(L, -1));
    lua_settop(L, top);
    return;
  }
  lua_getfield(L, -1, "start");
  lua_createtable(L, 0, 2);
  lua_pushboolean(L, host_debug);
  lua_setfield(L, -2, "debug");
  lua_pushboolean(L, use_color);
  lua_setfield(L, -2, "color");
  if (host_docall(L, 1, 1) != LUA_OK) {
    print_error(lua_isstring(L, -1) ? lua_tostring(L, -1) : "azure.repl: start failed");
  } else if (lua_isstring(L, -1)) {
    if (use_color) printf("\033[2m%s\033[0m\n", lua_tostring(L, -1));
    else printf("%s\n", lua_tostring(L, -1));
  }
  lua_settop(L, top + 1);
  repl_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_settop(L, top);
  fflush(stdout);
}

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

/* Prints every value on the stack above base: azure.repl.show (tables of resources, trees),
 * else azure.pretty, else tostring. */
static void print_results(lua_State *L, int base) {
  int n = lua_gettop(L) - base;
  if (n <= 0) return;
  if (!push_repl_fn(L, "show")) {
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
  }
  lua_insert(L, base + 1);
  int status = host_docall(L, n, 0);
  if (status != LUA_OK) {
    print_error(lua_isstring(L, -1) ? lua_tostring(L, -1) : "(error printing the result)");
  }
  lua_settop(L, base);
  fflush(stdout);
}

/* Runs the chunk on top of the stack through azure.repl.call (which keeps `lasterror`). */
static int run_chunk(lua_State *L) {
  if (push_repl_fn(L, "call")) {
    lua_insert(L, -2);
    return host_docall(L, 1, LUA_MULTRET);
  }
  return host_docall(L, 0, LUA_MULTRET);
}

/* "?name" → help("name"), by azure.repl.rewrite; returns a malloc'd line or NULL (unchanged). */
static char *rewrite_help(lua_State *L, const char *line) {
  const char *p = line;
  while (*p == ' ' || *p == '\t') p++;
  if (*p != '?' || !push_repl_fn(L, "rewrite")) return NULL;
  lua_pushstring(L, line);
  char *out = NULL;
  if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_isstring(L, -1)) out = strdup(lua_tostring(L, -1));
  lua_pop(L, 1);
  return out;
}

void host_repl(lua_State *L) {
  int interactive = isatty(0);
  replL = L;
  rl_catch_signals = 0;
  rl_attempted_completion_function = complete;
  rl_basic_word_break_characters = " \t\n\"\\'`@$><=;|&{(,+-*/%^~#[]";
  rl_getc_function = getc_interruptible;
  if (interactive) history_setup();
  use_color = color_wanted();
  printf("azlua %s (%s)  Ctrl-D exits, Ctrl-C cancels the line\n", AZLUA_VERSION_STRING, LUA_RELEASE);
  fflush(stdout);
  repl_start(L);
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
    char *asked = rewrite_help(L, line);
    const char *retline = asked ? lua_pushstring(L, asked) : lua_pushfstring(L, "return %s", line);
    free(asked);
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
      status = run_chunk(L);
      if (status == LUA_OK) print_results(L, base);
    }
    if (status != LUA_OK) {
      const char *msg = lua_tostring(L, -1);
      print_error(msg ? msg : "(error object is not a string)");
      lua_settop(L, base);
    }
  }
  if (interactive) history_save();
  free_candidates();
  if (repl_ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, repl_ref);
  repl_ref = LUA_NOREF;
  fputs("\n", stdout);
  fflush(stdout);
}
