/* Unit tests of the C helpers behind azure.core.http: loading libcurl on demand, the loopback rule for
 * plain http, curl result -> err.kind, HTTP tokens. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "util/curl_dl.h"
#include "util/curl_util.h"

START_TEST(test_load_missing_library) {
  char err[256] = "";
  ck_assert_int_eq(azlua_curl_load("libazlua-no-such-curl.so.4", err, sizeof err), -1);
  ck_assert_str_eq(err, "azlua: libazlua-no-such-curl.so.4 not found: apt-get install libcurl4");
  ck_assert_int_eq(azlua_curl_loaded(), 0);
}
END_TEST

START_TEST(test_load_libcurl) {
  char err[256] = "";
  ck_assert_int_eq(azlua_curl_loaded(), 0);
  ck_assert_msg(azlua_curl_load(NULL, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(azlua_curl_loaded(), 1);
  ck_assert_int_eq(azlua_curl_load(NULL, err, sizeof err), 0); /* idempotent */
  curl_version_info_data *v = azcurl.version_info(CURLVERSION_NOW);
  ck_assert_ptr_nonnull(v);
  ck_assert_msg(v->version_num >= 0x075500, "libcurl %s is older than 7.85", v->version);
  ck_assert_msg(v->features & CURL_VERSION_SSL, "libcurl without TLS");
  CURL *e = azcurl.easy_init();
  ck_assert_ptr_nonnull(e);
  ck_assert_int_eq(azcurl.easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https"), CURLE_OK);
  azcurl.easy_cleanup(e);
  ck_assert_str_eq(azcurl.easy_strerror(CURLE_COULDNT_CONNECT), "Couldn't connect to server");
}
END_TEST

START_TEST(test_loopback) {
  const char *yes[] = {"localhost", "LocalHost", "127.0.0.1", "127.1.2.3", "127.255.255.255", "[::1]",
                       "[0:0:0:0:0:0:0:1]", "[::ffff:127.0.0.1]", NULL};
  const char *no[] = {"", "example.com", "192.0.2.1", "10.0.0.1", "128.0.0.1", "127.0.0.1.example.com",
                      "localhost.example.com", "::1", "[::2]", "[2001:db8::1]", "[::ffff:10.0.0.1]",
                      "[fe80::1%25eth0]", "127.0.0.1:80", "0x7f000001", NULL};
  for (int i = 0; yes[i]; i++) ck_assert_msg(azlua_host_is_loopback(yes[i]), "%s is loopback", yes[i]);
  for (int i = 0; no[i]; i++) ck_assert_msg(!azlua_host_is_loopback(no[i]), "%s is not loopback", no[i]);
  ck_assert(!azlua_host_is_loopback(NULL));
}
END_TEST

START_TEST(test_error_kinds) {
  ck_assert_str_eq(azlua_curl_error_kind(CURLE_COULDNT_RESOLVE_HOST), "dns");
  ck_assert_str_eq(azlua_curl_error_kind(CURLE_COULDNT_CONNECT), "connect");
  ck_assert_str_eq(azlua_curl_error_kind(CURLE_OPERATION_TIMEDOUT), "timeout");
  ck_assert_str_eq(azlua_curl_error_kind(CURLE_PEER_FAILED_VERIFICATION), "tls");
  ck_assert_str_eq(azlua_curl_error_kind(CURLE_SSL_CONNECT_ERROR), "tls");
  ck_assert_str_eq(azlua_curl_error_kind(CURLE_SSL_CACERT_BADFILE), "tls");
  ck_assert_str_eq(azlua_curl_error_kind(CURLE_GOT_NOTHING), "reset");
  ck_assert_str_eq(azlua_curl_error_kind(CURLE_PARTIAL_FILE), "reset");
  ck_assert_str_eq(azlua_curl_error_kind(CURLE_SEND_ERROR), "reset");
  ck_assert_str_eq(azlua_curl_error_kind(CURLE_RECV_ERROR), "reset");
  ck_assert_str_eq(azlua_curl_error_kind(CURLE_WRITE_ERROR), "file");
  ck_assert_str_eq(azlua_curl_error_kind(CURLE_ABORTED_BY_CALLBACK), "interrupted");
  ck_assert_str_eq(azlua_curl_error_kind(CURLE_URL_MALFORMAT), "other");
}
END_TEST

START_TEST(test_tokens) {
  ck_assert(azlua_http_is_token("GET", 3));
  ck_assert(azlua_http_is_token("x-ms-blob-type", 14));
  ck_assert(!azlua_http_is_token("", 0));
  ck_assert(!azlua_http_is_token("GE T", 4));
  ck_assert(!azlua_http_is_token("a:b", 3));
  ck_assert(!azlua_http_is_token("a\r\n", 3));
  ck_assert(!azlua_http_is_token("caf\xc3\xa9", 5));
}
END_TEST

int main(void) {
  Suite *s = suite_create("http");
  TCase *tc = tcase_create("helpers");
  tcase_add_test(tc, test_load_missing_library);
  tcase_add_test(tc, test_load_libcurl);
  tcase_add_test(tc, test_loopback);
  tcase_add_test(tc, test_error_kinds);
  tcase_add_test(tc, test_tokens);
  suite_add_tcase(s, tc);
  SRunner *r = srunner_create(s);
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
