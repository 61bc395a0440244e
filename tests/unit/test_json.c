/* azure.core.json through a fresh state, plus the UTF-8 helper it rests on. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "support/lua_fixture.h"
#include "util/utf8.h"

static lua_State *L;
static void setup(void) {
  L = lf_state();
  lf_eval(L, "json = require('azure.core.json')");
}
static void teardown(void) { lua_close(L); }

#define EVAL_EQ(code, want) ck_assert_str_eq(lf_eval(L, code), want)

START_TEST(int64_round_trip) {
  EVAL_EQ("return json.encode(json.decode('[9223372036854775807,-9223372036854775808,9007199254740993]'))",
          "[9223372036854775807,-9223372036854775808,9007199254740993]");
  EVAL_EQ("return math.type(json.decode('9007199254740993'))", "integer");
  EVAL_EQ("return json.decode('9007199254740993') == (1 << 53) + 1", "true");
  /* Past int64 the value can only be a float, as Lua's own reader does. */
  EVAL_EQ("return math.type(json.decode('9223372036854775808'))", "float");
}
END_TEST

START_TEST(floats_round_trip) {
  EVAL_EQ("return json.encode({1.5, 0.1, 1e300, -0.0, 2^-1074, 1/3})",
          "[1.5,0.1,1e+300,-0.0,4.94065645841247e-324,0.3333333333333333]");
  EVAL_EQ("local v = json.decode(json.encode(1/3)) return v == 1/3", "true");
  EVAL_EQ("return math.type(json.decode('1.0'))", "float");
  ck_assert_ptr_nonnull(strstr(lf_eval(L, "return json.encode(0/0)"), "NaN or infinity"));
  ck_assert_ptr_nonnull(strstr(lf_eval(L, "return json.encode(math.huge)"), "NaN or infinity"));
}
END_TEST

START_TEST(null_and_markers) {
  EVAL_EQ("return json.decode('null') == json.null", "true");
  EVAL_EQ("return json.decode('{\"a\":null}').a == json.null", "true");
  EVAL_EQ("return json.encode(json.decode('[null,1,null]'))", "[null,1,null]");
  EVAL_EQ("return json.encode({})", "{}");
  EVAL_EQ("return json.encode(json.array({}))", "[]");
  EVAL_EQ("return json.encode(json.decode('{\"a\":[],\"b\":{}}'), {sort_keys=true})", "{\"a\":[],\"b\":{}}");
  EVAL_EQ("return json.is_array(json.decode('[]'))", "true");
}
END_TEST

START_TEST(decode_errors_say_where) {
  EVAL_EQ("return select(2, pcall(json.decode, '{\\n  \"a\": 1,\\n  \"b\": x\\n}'))",
          "json: unexpected character 'x' at line 3 column 8 (byte 20)");
  EVAL_EQ("return select(2, pcall(json.decode, '[1,2'))", "json: unexpected end of input at line 1 column 5 (byte 5)");
  EVAL_EQ("return select(2, pcall(json.decode, '\"\\xff\"'))", "json: invalid UTF-8 in string at line 1 column 2 (byte 2)");
  EVAL_EQ("return select(2, pcall(json.decode, '[01]'))", "json: unexpected character '1' at line 1 column 3 (byte 3)");
}
END_TEST

START_TEST(depth_limit) {
  EVAL_EQ("return select(2, pcall(json.decode, string.rep('[', 100000)))",
          "json: nesting deeper than 1000 levels at line 1 column 1001 (byte 1001)");
  EVAL_EQ("return #json.encode(json.decode(string.rep('[', 1000) .. string.rep(']', 1000)))", "2000");
  ck_assert_ptr_nonnull(strstr(lf_eval(L, "local t = {} t[1] = t return json.encode(t)"), "nesting deeper than 1000"));
}
END_TEST

START_TEST(utf8_helper) {
  const unsigned char ok2[] = {0xC3, 0xA9}, overlong[] = {0xC0, 0xAF}, surrogate[] = {0xED, 0xA0, 0x80};
  const unsigned char emoji[] = {0xF0, 0x9F, 0x98, 0x80}, too_big[] = {0xF4, 0x90, 0x80, 0x80};
  ck_assert_uint_eq(utf8_seq_len(ok2, ok2 + 2), 2);
  ck_assert_uint_eq(utf8_seq_len(ok2, ok2 + 1), 0);
  ck_assert_uint_eq(utf8_seq_len(overlong, overlong + 2), 0);
  ck_assert_uint_eq(utf8_seq_len(surrogate, surrogate + 3), 0);
  ck_assert_uint_eq(utf8_seq_len(emoji, emoji + 4), 4);
  ck_assert_uint_eq(utf8_seq_len(too_big, too_big + 4), 0);
  char out[4];
  ck_assert_uint_eq(utf8_encode(0x1F600, out), 4);
  ck_assert_int_eq(memcmp(out, emoji, 4), 0);
}
END_TEST

int main(void) {
  Suite *s = suite_create("json");
  TCase *tc = tcase_create("codec");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, int64_round_trip);
  tcase_add_test(tc, floats_round_trip);
  tcase_add_test(tc, null_and_markers);
  tcase_add_test(tc, decode_errors_say_where);
  tcase_add_test(tc, depth_limit);
  tcase_add_test(tc, utf8_helper);
  suite_add_tcase(s, tc);
  return lf_run_suite(s);
}
