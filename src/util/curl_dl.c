/* libcurl loaded on demand: see curl_dl.h. */
#include "util/curl_dl.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

struct azlua_curl azcurl;
static int loaded = 0;
static char loaded_from[PATH_MAX];

int azlua_curl_loaded(void) { return loaded; }
const char *azlua_curl_library(void) { return loaded ? loaded_from : NULL; }

/* azlua-curl.so beside the running executable (src/curl_module/), or "" when there is none. */
static void module_beside_exe(char *out, size_t outlen) {
  out[0] = '\0';
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return;
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (!slash) return;
  slash[1] = '\0';
  if ((size_t)snprintf(out, outlen, "%sazlua-curl.so", exe) >= outlen || access(out, R_OK) != 0) out[0] = '\0';
}

int azlua_curl_load(const char *soname, char *err, size_t errlen) {
  if (loaded) return 0;
  /* Which libcurl: the caller's, else AZLUA_LIBCURL, else azlua's own module, else the system's.
   * RTLD_LAZY: the module leaves the functions of protocols it never uses unbound (see there). */
  char module[PATH_MAX];
  void *lib = NULL;
  const char *from_env = NULL;
  if (soname == NULL) soname = from_env = getenv("AZLUA_LIBCURL");
  if (soname == NULL || *soname == '\0') {
    from_env = NULL;
    soname = "libcurl.so.4";
    module_beside_exe(module, sizeof module);
    if (module[0] && (lib = dlopen(module, RTLD_LAZY | RTLD_LOCAL)) != NULL) soname = module;
  }
  if (lib == NULL) lib = dlopen(soname, RTLD_LAZY | RTLD_LOCAL);
  if (lib == NULL) {
    if (from_env)
      snprintf(err, errlen, "azlua: AZLUA_LIBCURL=%s cannot be loaded: unset it to use azlua's own", soname);
    else
      snprintf(err, errlen, "azlua: %s not found: apt-get install libcurl4", soname);
    return -1;
  }
  struct azlua_curl t;
  memset(&t, 0, sizeof t);
  /* name in the library -> slot in the table (function and object pointers share a representation on
   * every platform dlsym works on; the copy through memcpy keeps -Wpedantic quiet). */
  static const struct {
    const char *name;
    size_t offset;
  } syms[] = {
#define SYM(field, name) {name, offsetof(struct azlua_curl, field)}
      SYM(global_init, "curl_global_init"),
      SYM(global_cleanup, "curl_global_cleanup"),
      SYM(version_info, "curl_version_info"),
      SYM(easy_init, "curl_easy_init"),
      SYM(easy_cleanup, "curl_easy_cleanup"),
      SYM(easy_reset, "curl_easy_reset"),
      SYM(easy_setopt, "curl_easy_setopt"),
      SYM(easy_getinfo, "curl_easy_getinfo"),
      SYM(easy_strerror, "curl_easy_strerror"),
      SYM(multi_init, "curl_multi_init"),
      SYM(multi_cleanup, "curl_multi_cleanup"),
      SYM(multi_setopt, "curl_multi_setopt"),
      SYM(multi_add_handle, "curl_multi_add_handle"),
      SYM(multi_remove_handle, "curl_multi_remove_handle"),
      SYM(multi_perform, "curl_multi_perform"),
      SYM(multi_poll, "curl_multi_poll"),
      SYM(multi_info_read, "curl_multi_info_read"),
      SYM(multi_strerror, "curl_multi_strerror"),
      SYM(share_init, "curl_share_init"),
      SYM(share_setopt, "curl_share_setopt"),
      SYM(share_cleanup, "curl_share_cleanup"),
      SYM(slist_append, "curl_slist_append"),
      SYM(slist_free_all, "curl_slist_free_all"),
      SYM(url, "curl_url"),
      SYM(url_cleanup, "curl_url_cleanup"),
      SYM(url_set, "curl_url_set"),
      SYM(url_get, "curl_url_get"),
      SYM(free, "curl_free"),
#undef SYM
  };
  for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
    void *p = dlsym(lib, syms[i].name);
    if (p == NULL) {
      snprintf(err, errlen, "azlua: %s lacks %s (libcurl 7.66 or newer is needed)", soname, syms[i].name);
      dlclose(lib);
      return -1;
    }
    memcpy((char *)&t + syms[i].offset, &p, sizeof p);
  }
  if (t.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    snprintf(err, errlen, "azlua: curl_global_init failed");
    dlclose(lib);
    return -1;
  }
  /* The library stays loaded for the life of the process: OpenSSL registers exit handlers. */
  azcurl = t;
  size_t n = strlen(soname);
  if (n >= sizeof loaded_from) n = sizeof loaded_from - 1;
  memcpy(loaded_from, soname, n);
  loaded_from[n] = '\0';
  loaded = 1;
  return 0;
}
