/* libcrypto loaded on demand: see crypto_dl.h. */
#define AZLUA_CRYPTO_DL_IMPL
#include "util/crypto_dl.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

struct azlua_crypto azssl;
static int loaded = 0;

int azlua_crypto_load(char *err, size_t errlen) {
  if (loaded) return 0;
  void *lib = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
  if (lib == NULL) {
    snprintf(err, errlen, "libcrypto.so.3 not found: apt-get install libssl3");
    return -1;
  }
  struct azlua_crypto t;
  memset(&t, 0, sizeof t);
  /* Function and object pointers share a representation wherever dlsym works; memcpy keeps the
   * conversion out of the compiler's sight. */
#define AZLUA_CRYPTO_RESOLVE(name)                                                                 \
  {                                                                                                \
    void *sym = dlsym(lib, #name);                                                                 \
    if (sym == NULL) {                                                                             \
      snprintf(err, errlen, "libcrypto.so.3 lacks %s: azlua needs OpenSSL 3", #name);              \
      dlclose(lib);                                                                                \
      return -1;                                                                                   \
    }                                                                                              \
    memcpy(&t.name, &sym, sizeof sym);                                                             \
  }
  AZLUA_CRYPTO_FUNCS(AZLUA_CRYPTO_RESOLVE)
#undef AZLUA_CRYPTO_RESOLVE
  azssl = t;
  loaded = 1;
  return 0;
}
