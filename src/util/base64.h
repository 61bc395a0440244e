/* Base64 (RFC 4648 §4) and base64url (§5), strict on decode: shared by the crypto module and the
 * C signing code (Shared Key keys and signatures are base64). */
#ifndef AZLUA_BASE64_H
#define AZLUA_BASE64_H

#include <stddef.h>

#define B64_INVALID ((size_t)-1)

/* Length of the encoding of n bytes: padded for base64, unpadded for base64url. */
size_t b64_encoded_len(size_t n, int url);
/* Writes b64_encoded_len(n, url) characters to out (no terminator); returns that length. */
size_t b64_encode(const unsigned char *in, size_t n, char *out, int url);

/* Upper bound of the decoded length. */
static inline size_t b64_decoded_max(size_t n) { return n / 4 * 3 + 3; }
/* Decodes into out; returns the byte count, or B64_INVALID for a character outside the alphabet,
 * misplaced or missing padding (base64url may omit it), or non-zero unused bits. */
size_t b64_decode(const char *in, size_t n, unsigned char *out, int url);

#endif
