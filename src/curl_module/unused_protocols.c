/* The half of libcurl's dependencies that azlua never reaches, answered without loading them.
 *
 * azlua-curl.so is Debian's libcurl (its static archive, unmodified) linked against only what HTTP and
 * HTTPS need: OpenSSL, nghttp2, zlib, brotli, zstd, libidn2 and libpsl. Debian's libcurl.so.4 also pulls
 * in libssh2, OpenLDAP, librtmp and GSS-API, and through them GnuTLS, Kerberos and SASL: ~20 more
 * libraries whose loading took ~4 ms of every azlua run that made a request (a third of a pool list).
 *
 * Their code is unreachable here: every handle is limited to http and https (CURLOPT_PROTOCOLS_STR),
 * SOCKS5 proxies to plain authentication (CURLOPT_SOCKS5_AUTH), and no request enables Negotiate. The
 * module is linked with lazy binding, so their functions need no definition until called, and are never
 * called. What curl does call on every run, from curl_global_init, curl_global_cleanup and
 * curl_version_info, is defined below to report "not available"; plus GSS-API's one data symbol, which
 * the loader must resolve up front. If the module cannot be loaded (say LD_BIND_NOW is set), azlua falls
 * back to libcurl.so.4 (src/util/curl_dl.c). */
#include <stddef.h>

/* GSS-API: an OID pointer curl passes to gss_import_name, which it never calls. */
const void *GSS_C_NT_HOSTBASED_SERVICE = NULL;

/* libssh2: curl initialises and finalises it, and names its version in curl_version(). */
int libssh2_init(int flags) {
  (void)flags;
  return 0;
}
void libssh2_exit(void) {}
const char *libssh2_version(int required) {
  (void)required;
  return "not-linked";
}

/* OpenLDAP: curl_version_info asks for the LDAP API's vendor; -1 is LDAP_OPT_ERROR, so it asks no more. */
int ldap_get_option(void *ld, int option, void *out) {
  (void)ld;
  (void)option;
  (void)out;
  return -1;
}
void ldap_memfree(void *p) { (void)p; }
void ber_memvfree(void **v) { (void)v; }
