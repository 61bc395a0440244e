/* azure.core.crypto: digests, HMAC, base64, randomness (OpenSSL 3 libcrypto); keys and certificates
 * are in util/crypto_pki.c. Digests return raw bytes; crypto.hex makes them readable.
 *
 *   sha256(s), md5(s), hmac_sha256(key, s) -> raw      hex(s) -> lowercase hex
 *   base64_encode(s), base64url_encode(s)             base64_decode(s), base64url_decode(s) -> s | nil, err
 *   random_bytes(n), uuid4()                          hasher("sha256"|"md5") -> h; h:update(s) -> h; h:digest()
 *   sha256_file(path), md5_file(path [, offset [, length]]) -> raw | nil, err
 *   sign_rs256(pem_key, data), sign_ps256(...) -> raw  verify_rs256(pem_pub_or_cert, data, sig) -> bool
 *   cert_thumbprint(pem_cert [, "sha1"|"sha256"]) -> raw   pem_cert_der(pem) -> DER
 * Errors: misuse raises; OpenSSL failures raise "crypto: <what>: <reason>".
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include "util/crypto_dl.h" /* OpenSSL through a table: libcrypto is loaded on first use */

#include "util/base64.h"
#include "util/crypto_pki.h"

#define HASHER_MT "azure.crypto.hasher"

static int digest(lua_State *L, const EVP_MD *md) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(s, len, out, &n, md, NULL) != 1) return crypto_fail(L, "digest failed");
  lua_pushlstring(L, (const char *)out, n);
  return 1;
}

static int l_sha256(lua_State *L) { return digest(L, EVP_sha256()); }
static int l_md5(lua_State *L) { return digest(L, EVP_md5()); }

static int l_hmac_sha256(lua_State *L) {
  size_t klen, len;
  const char *key = luaL_checklstring(L, 1, &klen);
  const char *s = luaL_checklstring(L, 2, &len);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!HMAC(EVP_sha256(), key, (int)klen, (const unsigned char *)s, len, out, &n))
    return crypto_fail(L, "HMAC failed");
  lua_pushlstring(L, (const char *)out, n);
  return 1;
}

static int l_hex(lua_State *L) {
  static const char digits[] = "0123456789abcdef";
  size_t len;
  const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &len);
  luaL_Buffer b;
  char *o = luaL_buffinitsize(L, &b, len * 2);
  for (size_t i = 0; i < len; i++) {
    o[2 * i] = digits[s[i] >> 4];
    o[2 * i + 1] = digits[s[i] & 15];
  }
  luaL_pushresultsize(&b, len * 2);
  return 1;
}

static int encode(lua_State *L, int url) {
  size_t len;
  const unsigned char *s = (const unsigned char *)luaL_checklstring(L, 1, &len);
  luaL_Buffer b;
  size_t n = b64_encoded_len(len, url);
  char *o = luaL_buffinitsize(L, &b, n);
  luaL_pushresultsize(&b, b64_encode(s, len, o, url));
  return 1;
}

static int decode(lua_State *L, int url) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  luaL_Buffer b;
  unsigned char *o = (unsigned char *)luaL_buffinitsize(L, &b, b64_decoded_max(len));
  size_t n = b64_decode(s, len, o, url);
  if (n == B64_INVALID) {
    luaL_pushfail(L);
    lua_pushstring(L, url ? "invalid base64url" : "invalid base64");
    return 2;
  }
  luaL_pushresultsize(&b, n);
  return 1;
}

static int l_base64_encode(lua_State *L) { return encode(L, 0); }
static int l_base64url_encode(lua_State *L) { return encode(L, 1); }
static int l_base64_decode(lua_State *L) { return decode(L, 0); }
static int l_base64url_decode(lua_State *L) { return decode(L, 1); }

static int l_random_bytes(lua_State *L) {
  lua_Integer n = luaL_checkinteger(L, 1);
  luaL_argcheck(L, n >= 0 && n <= (1 << 30), 1, "length out of range");
  luaL_Buffer b;
  unsigned char *o = (unsigned char *)luaL_buffinitsize(L, &b, (size_t)n);
  if (n > 0 && RAND_bytes(o, (int)n) != 1) return crypto_fail(L, "no random bytes");
  luaL_pushresultsize(&b, (size_t)n);
  return 1;
}

static int l_uuid4(lua_State *L) {
  unsigned char r[16];
  if (RAND_bytes(r, sizeof r) != 1) return crypto_fail(L, "no random bytes");
  r[6] = (unsigned char)((r[6] & 0x0F) | 0x40); /* version 4 */
  r[8] = (unsigned char)((r[8] & 0x3F) | 0x80); /* RFC 4122 variant */
  char s[37];
  snprintf(s, sizeof s, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
           r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
  lua_pushlstring(L, s, 36);
  return 1;
}

/* ---- incremental digests: one userdata owning an EVP_MD_CTX ---- */

static const EVP_MD *md_by_name(lua_State *L, int arg) {
  static const char *const names[] = {"sha256", "md5", NULL};
  return luaL_checkoption(L, arg, NULL, names) == 0 ? EVP_sha256() : EVP_md5();
}

static EVP_MD_CTX **new_hasher(lua_State *L, const EVP_MD *md) {
  EVP_MD_CTX **h = (EVP_MD_CTX **)lua_newuserdatauv(L, sizeof *h, 0);
  *h = NULL;
  luaL_setmetatable(L, HASHER_MT);
  *h = EVP_MD_CTX_new();
  if (!*h || EVP_DigestInit_ex(*h, md, NULL) != 1) crypto_fail(L, "digest init failed");
  return h;
}

static EVP_MD_CTX *check_hasher(lua_State *L) {
  EVP_MD_CTX **h = (EVP_MD_CTX **)luaL_checkudata(L, 1, HASHER_MT);
  if (!*h) luaL_error(L, "crypto: hasher already finished");
  return *h;
}

static int l_hasher(lua_State *L) {
  new_hasher(L, md_by_name(L, 1));
  return 1;
}

static int l_hasher_update(lua_State *L) {
  EVP_MD_CTX *h = check_hasher(L);
  size_t len;
  const char *s = luaL_checklstring(L, 2, &len);
  if (EVP_DigestUpdate(h, s, len) != 1) return crypto_fail(L, "digest failed");
  lua_settop(L, 1);
  return 1;
}

static int l_hasher_digest(lua_State *L) {
  EVP_MD_CTX *h = check_hasher(L);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  int ok = EVP_DigestFinal_ex(h, out, &n) == 1;
  EVP_MD_CTX_free(h);
  *(EVP_MD_CTX **)lua_touserdata(L, 1) = NULL;
  if (!ok) return crypto_fail(L, "digest failed");
  lua_pushlstring(L, (const char *)out, n);
  return 1;
}

static int l_hasher_gc(lua_State *L) {
  EVP_MD_CTX **h = (EVP_MD_CTX **)lua_touserdata(L, 1);
  EVP_MD_CTX_free(*h);
  *h = NULL;
  return 0;
}

/* Streams [offset, offset+length) of a file (length < 0: to the end) through md, in 64 KiB reads. */
static int hash_file(lua_State *L, const EVP_MD *md) {
  const char *path = luaL_checkstring(L, 1);
  lua_Integer offset = luaL_optinteger(L, 2, 0), length = luaL_optinteger(L, 3, -1);
  luaL_argcheck(L, offset >= 0, 2, "offset must be >= 0");
  EVP_MD_CTX **h = new_hasher(L, md);
  FILE *f = fopen(path, "rb");
  if (!f || (offset && fseeko(f, (off_t)offset, SEEK_SET) != 0)) {
    int e = errno;
    if (f) fclose(f);
    luaL_pushfail(L);
    lua_pushfstring(L, "%s: %s", path, strerror(e));
    return 2;
  }
  char *buf = (char *)lua_newuserdatauv(L, 65536, 0); /* freed by the collector even on error */
  for (;;) {
    size_t want = 65536;
    if (length >= 0 && (lua_Integer)want > length) want = (size_t)length;
    if (want == 0) break;
    size_t got = fread(buf, 1, want, f);
    if (got > 0 && EVP_DigestUpdate(*h, buf, got) != 1) break;
    if (length >= 0) length -= (lua_Integer)got;
    if (got < want) break;
  }
  int failed = ferror(f), e = errno;
  fclose(f);
  if (failed) {
    luaL_pushfail(L);
    lua_pushfstring(L, "%s: %s", path, strerror(e));
    return 2;
  }
  lua_pop(L, 1);
  lua_replace(L, 1);
  lua_settop(L, 1);
  return l_hasher_digest(L);
}

static int l_sha256_file(lua_State *L) { return hash_file(L, EVP_sha256()); }
static int l_md5_file(lua_State *L) { return hash_file(L, EVP_md5()); }

int luaopen_azure_core_crypto(lua_State *L) {
  char err[160];
  if (azlua_crypto_load(err, sizeof err) != 0) return luaL_error(L, "%s", err);
  static const luaL_Reg fns[] = {
      {"sha256", l_sha256},
      {"md5", l_md5},
      {"hmac_sha256", l_hmac_sha256},
      {"hex", l_hex},
      {"base64_encode", l_base64_encode},
      {"base64_decode", l_base64_decode},
      {"base64url_encode", l_base64url_encode},
      {"base64url_decode", l_base64url_decode},
      {"random_bytes", l_random_bytes},
      {"uuid4", l_uuid4},
      {"hasher", l_hasher},
      {"sha256_file", l_sha256_file},
      {"md5_file", l_md5_file},
      {NULL, NULL},
  };
  static const luaL_Reg hasher_methods[] = {
      {"update", l_hasher_update}, {"digest", l_hasher_digest}, {NULL, NULL}};
  if (luaL_newmetatable(L, HASHER_MT)) {
    luaL_newlib(L, hasher_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_hasher_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  luaL_newlib(L, fns);
  crypto_pki_register(L);
  return 1;
}
