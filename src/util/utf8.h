/* Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. */
#ifndef AZLUA_UTF8_H
#define AZLUA_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Length of the well-formed multi-byte sequence at p (p[0] >= 0x80), or 0 when it is not one. */
size_t utf8_seq_len(const unsigned char *p, const unsigned char *end);

/* Writes code point cp (<= 0x10FFFF, not a surrogate) to out; returns the byte count (1..4). */
size_t utf8_encode(uint32_t cp, char out[4]);

#endif
