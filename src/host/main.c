/* azlua: the script runner, in the shape of Lua's own lua.c.
 *
 *   azlua [options] [script [args]]
 *
 * Everything happens inside one protected call (pmain) so that no error escapes as a crash,
 * and every error reaches the user as one line: "azlua: <message>". */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "azlua.h"
#include "host.h"
#include "util/interrupt.h"

static const char *progname = "azlua";
int host_debug = 0;
static lua_State *globalL = NULL;

static void usage(FILE *out) {
  fprintf(out,
          "usage: %s [options] [script [args]]\n"
          "Runs Lua 5.4 scripts with the azure modules built in; with no script, opens the REPL.\n"
          "Options:\n"
          "  -e stat        execute string 'stat'\n"
          "  -l mod         require library 'mod' into global 'mod'\n"
          "  -i             enter interactive mode after running the script\n"
          "  -d, --debug    print a traceback with errors (also AZLUA_DEBUG=1)\n"
          "  -v, --version  show version information\n"
          "  -h, --help     show this help\n"
          "  --             stop handling options\n"
          "  -              run stdin as the script and stop handling options\n"
          "Environment: AZLUA_INIT (code or @file run first), AZLUA_PATH (dirs whose modules override\n"
          "the built-in ones), AZLUA_LOG=http|debug, AZURE_CLOUD, AZURE_* credentials.\n",
          progname);
}

/* Ctrl-C while Lua runs: a hook raises an error at the next instruction (as lua.c does). */
static void lstop(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted!");
}

static void laction(int sig) {
  signal(sig, SIG_DFL); /* a second Ctrl-C kills the process */
  azlua_interrupted = 1;
  if (globalL) lua_sethook(globalL, lstop, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

/* Error handler: turns any error value into a message, with a traceback when debugging. */
static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
      msg = lua_tostring(L, -1);
    } else {
      msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
  }
  if (host_debug) {
    luaL_traceback(L, L, msg, 1);
  } else {
    lua_pushstring(L, msg);
  }
  return 1;
}

int host_docall(lua_State *L, int narg, int nres) {
  int base = lua_gettop(L) - narg;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  globalL = L;
  azlua_interrupt_clear();
  signal(SIGINT, laction);
  int status = lua_pcall(L, narg, nres, base);
  signal(SIGINT, SIG_DFL);
  lua_remove(L, base);
  return status;
}

void host_report(lua_State *L, int status) {
  if (status == LUA_OK) return;
  const char *msg = lua_tostring(L, -1);
  if (msg == NULL) msg = "(error object is not a string)";
  fprintf(stderr, "%s: %s\n", progname, msg);
  fflush(stderr);
  lua_pop(L, 1);
}

static int dochunk(lua_State *L, int status) {
  if (status == LUA_OK) status = host_docall(L, 0, 0);
  host_report(L, status);
  return status;
}

static int dostring(lua_State *L, const char *s, const char *name) {
  return dochunk(L, luaL_loadbuffer(L, s, strlen(s), name));
}

static int dolibrary(lua_State *L, const char *name) {
  lua_getglobal(L, "require");
  lua_pushstring(L, name);
  int status = host_docall(L, 1, 1);
  if (status == LUA_OK) {
    const char *dot = strrchr(name, '.');
    lua_setglobal(L, dot ? dot + 1 : name); /* "-l azure.arm" sets global "arm" */
  }
  host_report(L, status);
  return status;
}

/* arg table as in lua: script at arg[0], its arguments at 1.., the interpreter and options below 0. */
static void createargtable(lua_State *L, char **argv, int argc, int script) {
  if (script == argc) script = 0;
  lua_createtable(L, argc - script, script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

static int pushargs(lua_State *L) {
  if (lua_getglobal(L, "arg") != LUA_TTABLE) luaL_error(L, "'arg' is not a table");
  int n = (int)luaL_len(L, -1);
  luaL_checkstack(L, n + 3, "too many arguments to script");
  int i;
  for (i = 1; i <= n; i++) lua_rawgeti(L, -i, i);
  lua_remove(L, -i);
  return n;
}

static int handle_script(lua_State *L, char **argv) {
  const char *fname = argv[0];
  if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0) fname = NULL; /* stdin */
  int status = luaL_loadfile(L, fname);
  if (status == LUA_OK) {
    int n = pushargs(L);
    status = host_docall(L, n, LUA_MULTRET);
  }
  host_report(L, status);
  return status;
}

#define has_error 1
#define has_i 2
#define has_v 4
#define has_e 8
#define has_h 16

/* Returns the index of the script in argv (or argc when none); sets *flags. -1 on a bad option. */
static int collectargs(char **argv, int argc, int *flags, int *bad) {
  *flags = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-') return i;
    if (strcmp(a, "--") == 0) return i + 1;
    if (strcmp(a, "-") == 0) return i;
    if (strcmp(a, "-i") == 0) *flags |= has_i | has_v;
    else if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) *flags |= has_v;
    else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) *flags |= has_h;
    else if (strcmp(a, "-d") == 0 || strcmp(a, "--debug") == 0) host_debug = 1;
    else if (strcmp(a, "-e") == 0 || strcmp(a, "-l") == 0) {
      *flags |= (a[1] == 'e') ? has_e : 0;
      if (i + 1 >= argc) { *bad = i; return -1; }
      i++;
    } else if ((a[1] == 'e' || a[1] == 'l') && a[2] != '\0') {
      *flags |= (a[1] == 'e') ? has_e : 0; /* -estat, -lmod */
    } else {
      *bad = i;
      return -1;
    }
  }
  return argc;
}

static int runargs(lua_State *L, char **argv, int n) {
  for (int i = 1; i < n; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || (a[1] != 'e' && a[1] != 'l')) continue;
    const char *extra = a[2] ? a + 2 : argv[++i];
    int status = (a[1] == 'e') ? dostring(L, extra, "=(command line)") : dolibrary(L, extra);
    if (status != LUA_OK) return 0;
  }
  return 1;
}

static int handle_init(lua_State *L) {
  const char *init = getenv("AZLUA_INIT");
  if (init == NULL) return LUA_OK;
  if (init[0] == '@') return dochunk(L, luaL_loadfile(L, init + 1));
  return dostring(L, init, "=AZLUA_INIT");
}

static void print_version(void) {
  printf("azlua %s (%s)\n", AZLUA_VERSION_STRING, LUA_RELEASE);
  fflush(stdout);
}

static int pmain(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = (char **)lua_touserdata(L, 2);
  int flags, bad = 0;
  int script = collectargs(argv, argc, &flags, &bad);
  if (getenv("AZLUA_DEBUG") && strcmp(getenv("AZLUA_DEBUG"), "0") != 0) host_debug = 1;
  if (script < 0) {
    fprintf(stderr, "%s: unrecognized option '%s' (try '%s --help')\n", progname, argv[bad], progname);
    return 0;
  }
  if (flags & has_h) {
    usage(stdout);
    lua_pushboolean(L, 1);
    return 1;
  }
  luaL_checkversion(L);
  luaL_openlibs(L);
  azlua_openlibs(L);
  createargtable(L, argv, argc, script);
  lua_gc(L, LUA_GCRESTART);
  lua_gc(L, LUA_GCGEN, 0, 0);
  if (flags & has_v && !(flags & has_i)) print_version();
  if (handle_init(L) != LUA_OK) return 0;
  if (!runargs(L, argv, script)) return 0;
  if (script < argc && handle_script(L, argv + script) != LUA_OK) return 0;
  if (flags & has_i) {
    host_repl(L);
  } else if (script == argc && !(flags & (has_e | has_v))) {
    if (isatty(0)) {
      host_repl(L);
    } else {
      if (dochunk(L, luaL_loadfile(L, NULL)) != LUA_OK) return 0; /* script from stdin */
    }
  }
  lua_pushboolean(L, 1);
  return 1;
}

int main(int argc, char **argv) {
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    fprintf(stderr, "%s: cannot create state: not enough memory\n", progname);
    return EXIT_FAILURE;
  }
  lua_gc(L, LUA_GCSTOP);
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  int status = lua_pcall(L, 2, 1, 0);
  int ok = lua_toboolean(L, -1);
  host_report(L, status);
  lua_close(L);
  fflush(stdout);
  return (ok && status == LUA_OK) ? EXIT_SUCCESS : EXIT_FAILURE;
}
