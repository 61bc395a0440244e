#include "util/crypto_pki.h"
#include "util/raise.h"

#include <string.h>

#include <lauxlib.h>
#include "util/crypto_dl.h" /* OpenSSL through a table: libcrypto is loaded on first use */

/* Only OpenSSL's reason reaches the message: never the PEM text, which may be a private key. */
int crypto_fail(lua_State *L, const char *what) {
  unsigned long e = ERR_get_error(); /* the first entry is the root cause, later ones wrap it */
  const char *lib = e ? ERR_lib_error_string(e) : NULL, *reason = e ? ERR_reason_error_string(e) : NULL;
  ERR_clear_error();
  if (!reason) return azlua_raise(L, "crypto: %s", what);
  return azlua_raise(L, "crypto: %s: %s%s%s", what, lib ? lib : "", lib ? ": " : "", reason);
}

/* An encrypted key must fail, not prompt on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u) {
  (void)buf, (void)size, (void)rwflag, (void)u;
  return -1;
}

static EVP_PKEY *read_private_key(const char *pem, size_t len) {
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  EVP_PKEY *k = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
  BIO_free(bio);
  return k;
}

static X509 *read_cert(const char *pem, size_t len) {
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  X509 *x = bio ? PEM_read_bio_X509(bio, NULL, no_passphrase, NULL) : NULL;
  BIO_free(bio);
  return x;
}

/* A public key PEM, or the key of a certificate PEM. */
static EVP_PKEY *read_public_key(const char *pem, size_t len) {
  BIO *bio = BIO_new_mem_buf(pem, (int)len);
  EVP_PKEY *k = bio ? PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL) : NULL;
  BIO_free(bio);
  if (k) return k;
  X509 *x = read_cert(pem, len);
  if (!x) return NULL;
  ERR_clear_error(); /* the failed PUBKEY attempt left an error behind */
  k = X509_get_pubkey(x);
  X509_free(x);
  return k;
}

/* PS256 as JWT (RFC 7518 §3.5) defines it: MGF1 with SHA-256 and a salt as long as the hash. */
static int set_padding(EVP_PKEY_CTX *pctx, int pss) {
  if (!pss) return 1;
  return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
}

static int sign(lua_State *L, int pss) {
  size_t klen, dlen;
  const char *pem = luaL_checklstring(L, 1, &klen);
  const char *data = luaL_checklstring(L, 2, &dlen);
  EVP_PKEY *pkey = read_private_key(pem, klen);
  if (!pkey) return crypto_fail(L, "cannot read private key (PEM, unencrypted)");
  if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
    EVP_PKEY_free(pkey);
    return azlua_raise(L, "crypto: private key is not an RSA key");
  }
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX *pctx = NULL;
  unsigned char *sig = NULL;
  size_t siglen = 0;
  int ok = ctx && EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, pkey) == 1 && set_padding(pctx, pss) &&
           EVP_DigestSign(ctx, NULL, &siglen, (const unsigned char *)data, dlen) == 1 &&
           (sig = OPENSSL_malloc(siglen)) != NULL &&
           EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)data, dlen) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pkey);
  if (!ok) {
    OPENSSL_free(sig);
    return crypto_fail(L, "signing failed");
  }
  lua_pushlstring(L, (const char *)sig, siglen);
  OPENSSL_free(sig);
  return 1;
}

static int verify(lua_State *L, int pss) {
  size_t klen, dlen, slen;
  const char *pem = luaL_checklstring(L, 1, &klen);
  const char *data = luaL_checklstring(L, 2, &dlen);
  const char *sig = luaL_checklstring(L, 3, &slen);
  EVP_PKEY *pkey = read_public_key(pem, klen);
  if (!pkey) return crypto_fail(L, "cannot read public key or certificate");
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX *pctx = NULL;
  int setup = ctx && EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, pkey) == 1 && set_padding(pctx, pss);
  int good = setup && EVP_DigestVerify(ctx, (const unsigned char *)sig, slen, (const unsigned char *)data, dlen) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pkey);
  if (!setup) return crypto_fail(L, "cannot verify");
  ERR_clear_error(); /* a bad signature is an answer, not an error */
  lua_pushboolean(L, good);
  return 1;
}

static int l_sign_rs256(lua_State *L) { return sign(L, 0); }
static int l_sign_ps256(lua_State *L) { return sign(L, 1); }
static int l_verify_rs256(lua_State *L) { return verify(L, 0); }
static int l_verify_ps256(lua_State *L) { return verify(L, 1); }

static int l_cert_thumbprint(lua_State *L) {
  size_t len;
  const char *pem = luaL_checklstring(L, 1, &len);
  static const char *const algs[] = {"sha1", "sha256", NULL};
  int alg = luaL_checkoption(L, 2, "sha1", algs);
  X509 *x = read_cert(pem, len);
  if (!x) return crypto_fail(L, "cannot read certificate");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  int ok = X509_digest(x, alg == 0 ? EVP_sha1() : EVP_sha256(), md, &n) == 1;
  X509_free(x);
  if (!ok) return crypto_fail(L, "cannot digest certificate");
  lua_pushlstring(L, (const char *)md, n);
  return 1;
}

static int l_pem_cert_der(lua_State *L) {
  size_t len;
  const char *pem = luaL_checklstring(L, 1, &len);
  X509 *x = read_cert(pem, len);
  if (!x) return crypto_fail(L, "cannot read certificate");
  unsigned char *der = NULL;
  int n = i2d_X509(x, &der);
  X509_free(x);
  if (n < 0) return crypto_fail(L, "cannot encode certificate");
  lua_pushlstring(L, (const char *)der, (size_t)n);
  OPENSSL_free(der);
  return 1;
}

void crypto_pki_register(lua_State *L) {
  static const luaL_Reg fns[] = {
      {"sign_rs256", l_sign_rs256},         {"sign_ps256", l_sign_ps256},   {"verify_rs256", l_verify_rs256},
      {"verify_ps256", l_verify_ps256},     {"cert_thumbprint", l_cert_thumbprint},
      {"pem_cert_der", l_pem_cert_der},     {NULL, NULL},
  };
  luaL_setfuncs(L, fns, 0);
}
