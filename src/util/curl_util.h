/* Small pure helpers of azure.core.http that need no libcurl at run time (unit-tested alone). */
#ifndef AZLUA_CURL_UTIL_H
#define AZLUA_CURL_UTIL_H

#include <curl/curl.h>

/* 1 when `host` (as a URL carries it: "localhost", "127.0.0.1", "[::1]") names this machine's loopback:
 * "localhost", 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104. Plain http is allowed only to these. */
int azlua_host_is_loopback(const char *host);

/* The err.kind of a curl result: "connect", "dns", "timeout", "tls", "reset", "file", "interrupted" or
 * "other". */
const char *azlua_curl_error_kind(CURLcode code);

/* 1 when `s` (length n) is a valid HTTP token (method or header name): visible ASCII without separators. */
int azlua_http_is_token(const char *s, size_t n);

#endif
