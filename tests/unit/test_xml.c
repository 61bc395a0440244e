/* azure.core.xml through a fresh state: structure, errors, refusal of DTDs. */
#include <check.h>
#include <string.h>

#include <lua.h>

#include "support/lua_fixture.h"

static lua_State *L;
static void setup(void) {
  L = lf_state();
  lf_eval(L, "xml = require('azure.core.xml')");
}
static void teardown(void) { lua_close(L); }

START_TEST(elements_attrs_text) {
  lf_eval(L, "r = xml.parse('<a k=\"v\">x<b>1</b>y<b>2</b></a>')");
  ck_assert_str_eq(lf_eval(L, "return r.name .. r.attrs.k .. r.text .. #r"), "avxy2");
  ck_assert_str_eq(lf_eval(L, "return xml.text(r, 'b') .. #xml.children(r, 'b')"), "12");
  ck_assert_str_eq(lf_eval(L, "return tostring(xml.find(r, 'c'))"), "nil");
}
END_TEST

START_TEST(errors_and_refusals) {
  ck_assert_str_eq(lf_eval(L, "return select(2, pcall(xml.parse, '<a>\\n<b></a>'))"),
                   "xml: mismatched tag at line 2 column 6");
  const char *bomb = "return select(2, pcall(xml.parse, '<!DOCTYPE z [<!ENTITY a \"aaaa\">"
                     "<!ENTITY b \"&a;&a;&a;&a;\">]><z>&b;</z>'))";
  ck_assert_ptr_nonnull(strstr(lf_eval(L, bomb), "xml: DOCTYPE not allowed"));
  ck_assert_ptr_nonnull(strstr(lf_eval(L, "return select(2, pcall(xml.parse, '<a>&x;</a>'))"), "undefined entity"));
}
END_TEST

int main(void) {
  Suite *s = suite_create("xml");
  TCase *tc = tcase_create("parse");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, elements_attrs_text);
  tcase_add_test(tc, errors_and_refusals);
  suite_add_tcase(s, tc);
  return lf_run_suite(s);
}
