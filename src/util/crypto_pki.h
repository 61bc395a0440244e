/* The key and certificate half of azure.core.crypto (RS256/PS256, thumbprints), kept apart from
 * the hashing half so each file stays about one thing. */
#ifndef AZLUA_CRYPTO_PKI_H
#define AZLUA_CRYPTO_PKI_H

#include <lua.h>

/* Adds sign_rs256, sign_ps256, verify_rs256, verify_ps256, cert_thumbprint and pem_cert_der to the
 * table on top of the stack. */
void crypto_pki_register(lua_State *L);

/* Raises "crypto: <what>: <OpenSSL reason>" and clears OpenSSL's error queue. */
int crypto_fail(lua_State *L, const char *what);

#endif
