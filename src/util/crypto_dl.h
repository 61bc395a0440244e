/* libcrypto (OpenSSL 3), loaded with dlopen when azure.core.crypto is first required.
 *
 * Linked, libcrypto costs ~0.7 ms of every start-up (a 4.7 MB library's relocations), which alone
 * would put `azlua -e ''` past twice Lua's own start-up. So azlua never links it: the crypto module
 * calls azlua_crypto_load() when it opens, and the code that uses OpenSSL includes this header, which
 * turns each OpenSSL function it names into a call through the table `azssl`. The OpenSSL headers
 * still give the types and prototypes (the table's slots take their types with __typeof__), so a
 * signature mistake is a compile error, not a crash. A new OpenSSL function used anywhere must be added
 * to AZLUA_CRYPTO_FUNCS; the link fails (undefined reference) until it is. */
#ifndef AZLUA_CRYPTO_DL_H
#define AZLUA_CRYPTO_DL_H

#include <stddef.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#define AZLUA_CRYPTO_FUNCS(X)                                                                             \
  X(BIO_free) X(BIO_new_mem_buf) X(CRYPTO_free) X(CRYPTO_malloc)                                          \
  X(ERR_clear_error) X(ERR_get_error) X(ERR_lib_error_string) X(ERR_reason_error_string)                  \
  X(EVP_Digest) X(EVP_DigestFinal_ex) X(EVP_DigestInit_ex) X(EVP_DigestSign) X(EVP_DigestSignInit)        \
  X(EVP_DigestUpdate) X(EVP_DigestVerify) X(EVP_DigestVerifyInit) X(EVP_MD_CTX_free) X(EVP_MD_CTX_new)    \
  X(EVP_PKEY_CTX_set_rsa_padding) X(EVP_PKEY_CTX_set_rsa_pss_saltlen) X(EVP_PKEY_free)                    \
  X(EVP_PKEY_get_base_id) X(EVP_md5) X(EVP_sha1) X(EVP_sha256) X(PEM_read_bio_PUBKEY)                     \
  X(PEM_read_bio_PrivateKey) X(PEM_read_bio_X509) X(RAND_bytes) X(X509_digest) X(X509_free)               \
  X(X509_get_pubkey) X(i2d_X509) X(EVP_MD_get_size) X(HMAC)

struct azlua_crypto {
#define AZLUA_CRYPTO_SLOT(name) __typeof__(name) *name;
  AZLUA_CRYPTO_FUNCS(AZLUA_CRYPTO_SLOT)
#undef AZLUA_CRYPTO_SLOT
};

extern struct azlua_crypto azssl;

/* Loads libcrypto.so.3 once and resolves every slot. Returns 0 when loaded (also on later calls),
 * else -1 with a one-line message in err ("libcrypto.so.3 not found: apt-get install libssl3"). */
int azlua_crypto_load(char *err, size_t errlen);

#ifndef AZLUA_CRYPTO_DL_IMPL
/* From here on, OpenSSL's names call through the table. */
#define BIO_free azssl.BIO_free
#define BIO_new_mem_buf azssl.BIO_new_mem_buf
#define CRYPTO_free azssl.CRYPTO_free
#define CRYPTO_malloc azssl.CRYPTO_malloc
#define ERR_clear_error azssl.ERR_clear_error
#define ERR_get_error azssl.ERR_get_error
#define ERR_lib_error_string azssl.ERR_lib_error_string
#define ERR_reason_error_string azssl.ERR_reason_error_string
#define EVP_Digest azssl.EVP_Digest
#define EVP_DigestFinal_ex azssl.EVP_DigestFinal_ex
#define EVP_DigestInit_ex azssl.EVP_DigestInit_ex
#define EVP_DigestSign azssl.EVP_DigestSign
#define EVP_DigestSignInit azssl.EVP_DigestSignInit
#define EVP_DigestUpdate azssl.EVP_DigestUpdate
#define EVP_DigestVerify azssl.EVP_DigestVerify
#define EVP_DigestVerifyInit azssl.EVP_DigestVerifyInit
#define EVP_MD_CTX_free azssl.EVP_MD_CTX_free
#define EVP_MD_CTX_new azssl.EVP_MD_CTX_new
#define EVP_PKEY_CTX_set_rsa_padding azssl.EVP_PKEY_CTX_set_rsa_padding
#define EVP_PKEY_CTX_set_rsa_pss_saltlen azssl.EVP_PKEY_CTX_set_rsa_pss_saltlen
#define EVP_PKEY_free azssl.EVP_PKEY_free
#define EVP_PKEY_get_base_id azssl.EVP_PKEY_get_base_id
#define EVP_md5 azssl.EVP_md5
#define EVP_sha1 azssl.EVP_sha1
#define EVP_sha256 azssl.EVP_sha256
#define PEM_read_bio_PUBKEY azssl.PEM_read_bio_PUBKEY
#define PEM_read_bio_PrivateKey azssl.PEM_read_bio_PrivateKey
#define PEM_read_bio_X509 azssl.PEM_read_bio_X509
#define RAND_bytes azssl.RAND_bytes
#define X509_digest azssl.X509_digest
#define X509_free azssl.X509_free
#define X509_get_pubkey azssl.X509_get_pubkey
#define i2d_X509 azssl.i2d_X509
#define EVP_MD_get_size azssl.EVP_MD_get_size
#define HMAC azssl.HMAC
#endif

#endif
