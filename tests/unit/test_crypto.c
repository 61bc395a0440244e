/* Base64 helpers against RFC 4648 §10, and digests through a fresh state. */
#include <check.h>
#include <string.h>

#include "support/lua_fixture.h"
#include "util/base64.h"

static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *const coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};

START_TEST(rfc4648_vectors) {
  for (int i = 0; i < 7; i++) {
    char out[16];
    unsigned char back[16];
    size_t n = b64_encode((const unsigned char *)plain[i], strlen(plain[i]), out, 0);
    ck_assert_uint_eq(n, b64_encoded_len(strlen(plain[i]), 0));
    ck_assert_int_eq(memcmp(out, coded[i], n), 0);
    ck_assert_uint_eq(n, strlen(coded[i]));
    size_t m = b64_decode(coded[i], n, back, 0);
    ck_assert_uint_eq(m, strlen(plain[i]));
    ck_assert_int_eq(memcmp(back, plain[i], m), 0);
  }
}
END_TEST

START_TEST(strict_decode) {
  unsigned char out[16];
  const char *bad[] = {"Zg", "Zg=", "Zg=a", "Z===", "Zh==", "Zm9v\n", "Zm 9v", "Zm9-", "=Zm9"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    ck_assert_msg(b64_decode(bad[i], strlen(bad[i]), out, 0) == B64_INVALID, "accepted %s", bad[i]);
  ck_assert_uint_eq(b64_decode("Zg", 2, out, 1), 1); /* base64url may leave padding out */
  ck_assert_uint_eq(b64_decode("Zg==", 4, out, 1), 1);
  ck_assert(b64_decode("Z", 1, out, 1) == B64_INVALID);
  ck_assert(b64_decode("Zm9+", 4, out, 1) == B64_INVALID);
}
END_TEST

START_TEST(digests_through_lua) {
  lua_State *L = lf_state();
  lf_eval(L, "c = require('azure.core.crypto')");
  ck_assert_str_eq(lf_eval(L, "return c.hex(c.sha256('abc'))"),
                   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  ck_assert_str_eq(lf_eval(L, "return c.hex(c.md5('abc'))"), "900150983cd24fb0d6963f7d28e17f72");
  ck_assert_str_eq(lf_eval(L, "return c.hex(c.hmac_sha256('Jefe', 'what do ya want for nothing?'))"),
                   "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  ck_assert_str_eq(lf_eval(L, "return select(2, c.base64_decode('!!!!'))"), "invalid base64");
  lua_close(L);
}
END_TEST

int main(void) {
  Suite *s = suite_create("crypto");
  TCase *tc = tcase_create("core");
  tcase_add_test(tc, rfc4648_vectors);
  tcase_add_test(tc, strict_decode);
  tcase_add_test(tc, digests_through_lua);
  suite_add_tcase(s, tc);
  return lf_run_suite(s);
}
