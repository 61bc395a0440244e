#include "util/base64.h"

static const char std_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t b64_encoded_len(size_t n, int url) { return url ? n / 3 * 4 + (n % 3 ? n % 3 + 1 : 0) : (n + 2) / 3 * 4; }

size_t b64_encode(const unsigned char *in, size_t n, char *out, int url) {
  const char *a = url ? url_alphabet : std_alphabet;
  char *o = out;
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
    *o++ = a[v >> 18];
    *o++ = a[(v >> 12) & 63];
    *o++ = a[(v >> 6) & 63];
    *o++ = a[v & 63];
  }
  if (n - i == 1) {
    unsigned v = (unsigned)in[i] << 16;
    *o++ = a[v >> 18];
    *o++ = a[(v >> 12) & 63];
    if (!url) *o++ = '=', *o++ = '=';
  } else if (n - i == 2) {
    unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
    *o++ = a[v >> 18];
    *o++ = a[(v >> 12) & 63];
    *o++ = a[(v >> 6) & 63];
    if (!url) *o++ = '=';
  }
  return (size_t)(o - out);
}

static int value(unsigned char c, int url) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == (url ? '-' : '+')) return 62;
  if (c == (url ? '_' : '/')) return 63;
  return -1;
}

size_t b64_decode(const char *in, size_t n, unsigned char *out, int url) {
  size_t pad = 0;
  if (n > 0 && in[n - 1] == '=') pad = (n > 1 && in[n - 2] == '=') ? 2 : 1;
  /* Padding, where present, must complete the last quantum; plain base64 always has it. */
  if ((pad || !url) && n % 4 != 0) return B64_INVALID;
  size_t m = n - pad, tail = m % 4;
  if (tail == 1 || (pad && tail + pad != 4)) return B64_INVALID;
  unsigned char *o = out;
  size_t i = 0;
  for (; i + 4 <= m; i += 4) {
    int a = value((unsigned char)in[i], url), b = value((unsigned char)in[i + 1], url);
    int c = value((unsigned char)in[i + 2], url), d = value((unsigned char)in[i + 3], url);
    if ((a | b | c | d) < 0) return B64_INVALID;
    unsigned v = (unsigned)a << 18 | (unsigned)b << 12 | (unsigned)c << 6 | (unsigned)d;
    *o++ = (unsigned char)(v >> 16);
    *o++ = (unsigned char)(v >> 8);
    *o++ = (unsigned char)v;
  }
  if (tail) {
    int a = value((unsigned char)in[i], url), b = value((unsigned char)in[i + 1], url);
    int c = tail == 3 ? value((unsigned char)in[i + 2], url) : 0;
    if ((a | b | c) < 0) return B64_INVALID;
    unsigned v = (unsigned)a << 18 | (unsigned)b << 12 | (unsigned)c << 6;
    /* Bits below the last whole byte must be zero, so each byte string has one encoding. */
    if (tail == 2 ? (v & 0xFFFF) : (v & 0xFF)) return B64_INVALID;
    *o++ = (unsigned char)(v >> 16);
    if (tail == 3) *o++ = (unsigned char)(v >> 8);
  }
  return (size_t)(o - out);
}
