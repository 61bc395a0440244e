/* The calendar and date-format helpers of util/datetime.c, called directly. */
#include <check.h>
#include <string.h>

#include "support/lua_fixture.h"
#include "util/datetime.h"

START_TEST(civil_days) {
  ck_assert_int_eq(dt_days_from_civil(1970, 1, 1), 0);
  ck_assert_int_eq(dt_days_from_civil(2000, 3, 1), 11017);
  ck_assert_int_eq(dt_days_from_civil(1969, 12, 31), -1);
  int64_t y;
  int m, d;
  dt_civil_from_days(19723, &y, &m, &d); /* 2024-01-01 */
  ck_assert_int_eq(y, 2024);
  ck_assert_int_eq(m, 1);
  ck_assert_int_eq(d, 1);
  for (int64_t day = -800000; day < 800000; day += 997) {
    dt_civil_from_days(day, &y, &m, &d);
    ck_assert_int_eq(dt_days_from_civil(y, m, d), day);
  }
}
END_TEST

START_TEST(leap_years) {
  ck_assert(dt_is_leap(2000));
  ck_assert(!dt_is_leap(1900));
  ck_assert(dt_is_leap(2024));
  ck_assert(!dt_is_leap(2023));
  ck_assert_int_eq(dt_days_in_month(2024, 2), 29);
  ck_assert_int_eq(dt_days_in_month(2100, 2), 28);
}
END_TEST

START_TEST(formats) {
  char buf[64];
  dt_format_rfc1123(0, buf, sizeof buf);
  ck_assert_str_eq(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
  dt_format_rfc1123(1704067200, buf, sizeof buf);
  ck_assert_str_eq(buf, "Mon, 01 Jan 2024 00:00:00 GMT");
  dt_format_iso8601(1795518000, 123456700, 7, buf, sizeof buf);
  ck_assert_str_eq(buf, "2026-11-24T11:00:00.1234567Z");
  int64_t t;
  long ns;
  int frac;
  ck_assert_int_eq(dt_parse_iso8601("2026-11-24T11:00:00.1234567Z", 28, &t, &ns, &frac), 0);
  ck_assert_int_eq(t, 1795518000);
  ck_assert_int_eq(ns, 123456700);
  ck_assert_int_eq(dt_parse_rfc1123("Mon, 01 Jan 2024 00:00:00 GMT", 29, &t), 0);
  ck_assert_int_eq(t, 1704067200);
  ck_assert_int_eq(dt_parse_rfc1123("Sun, 01 Jan 2024 00:00:00 GMT", 29, &t), -1);
}
END_TEST

int main(void) {
  Suite *s = suite_create("time");
  TCase *tc = tcase_create("datetime");
  tcase_add_test(tc, civil_days);
  tcase_add_test(tc, leap_years);
  tcase_add_test(tc, formats);
  suite_add_tcase(s, tc);
  return lf_run_suite(s);
}
