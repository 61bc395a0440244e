/* libcurl, loaded with dlopen on first use.
 *
 * Linking libcurl costs ~7 ms of start-up (Debian's drags in ~32 shared libraries), so azlua never links
 * it: azlua_curl_load() dlopens it when the first request is made and fills the table `azcurl` with the
 * few functions azure.core.http uses. It prefers azlua-curl.so beside the executable (the same libcurl
 * with ~12 libraries, src/curl_module/), then libcurl.so.4; AZLUA_LIBCURL names another. Only curl's
 * headers are used at build time, for types and constants. Call through the table: azcurl.easy_init(). */
#ifndef AZLUA_CURL_DL_H
#define AZLUA_CURL_DL_H

#include <stddef.h>

#include <curl/curl.h>

struct azlua_curl {
  CURLcode (*global_init)(long flags);
  void (*global_cleanup)(void);
  curl_version_info_data *(*version_info)(CURLversion);

  CURL *(*easy_init)(void);
  void (*easy_cleanup)(CURL *);
  void (*easy_reset)(CURL *);
  CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
  CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
  const char *(*easy_strerror)(CURLcode);

  CURLM *(*multi_init)(void);
  CURLMcode (*multi_cleanup)(CURLM *);
  CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
  CURLMcode (*multi_add_handle)(CURLM *, CURL *);
  CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
  CURLMcode (*multi_perform)(CURLM *, int *running);
  CURLMcode (*multi_poll)(CURLM *, struct curl_waitfd *, unsigned int, int timeout_ms, int *numfds);
  CURLMsg *(*multi_info_read)(CURLM *, int *left);
  const char *(*multi_strerror)(CURLMcode);

  CURLSH *(*share_init)(void);
  CURLSHcode (*share_setopt)(CURLSH *, CURLSHoption, ...);
  CURLSHcode (*share_cleanup)(CURLSH *);

  struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
  void (*slist_free_all)(struct curl_slist *);

  CURLU *(*url)(void);
  void (*url_cleanup)(CURLU *);
  CURLUcode (*url_set)(CURLU *, CURLUPart, const char *, unsigned int);
  CURLUcode (*url_get)(const CURLU *, CURLUPart, char **, unsigned int);
  void (*free)(void *);
};

extern struct azlua_curl azcurl;

/* Loads `soname` (NULL: "libcurl.so.4") once and resolves every function of `azcurl`, then runs
 * curl_global_init. Returns 0 when loaded (also on later calls), else -1 with a one-line message in
 * err (e.g. "azlua: libcurl.so.4 not found: apt-get install libcurl4"). Not thread-safe. */
int azlua_curl_load(const char *soname, char *err, size_t errlen);

/* 1 when azlua_curl_load has succeeded in this process. */
int azlua_curl_loaded(void);

/* The file or soname libcurl was loaded from, or NULL before azlua_curl_load succeeded. */
const char *azlua_curl_library(void);

#endif
