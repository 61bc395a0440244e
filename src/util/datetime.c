#include "util/datetime.h"

#include <stdio.h>
#include <string.h>

static const char *const wday_names[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const month_names[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static int64_t floor_div(int64_t a, int64_t b) { return (a - (((a % b) + b) % b)) / b; }

/* The era-based algorithm (400-year cycles starting in March) avoids any table of month lengths
 * and works for negative years too. */
int64_t dt_days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = floor_div(y, 400);
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void dt_civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  z += 719468;
  int64_t era = floor_div(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

int dt_is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int dt_days_in_month(int64_t y, int m) {
  static const int len[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return (m == 2 && dt_is_leap(y)) ? 29 : len[m - 1];
}

static void split(int64_t t, int64_t *days, int *hh, int *mm, int *ss) {
  *days = floor_div(t, 86400);
  int64_t secs = t - *days * 86400;
  *hh = (int)(secs / 3600);
  *mm = (int)(secs / 60 % 60);
  *ss = (int)(secs % 60);
}

size_t dt_format_rfc1123(int64_t t, char *out, size_t cap) {
  int64_t days, y;
  int hh, mi, ss, m, d;
  split(t, &days, &hh, &mi, &ss);
  dt_civil_from_days(days, &y, &m, &d);
  int wday = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
  int n = snprintf(out, cap, "%s, %02d %s %04lld %02d:%02d:%02d GMT", wday_names[wday], d, month_names[m - 1],
                   (long long)y, hh, mi, ss);
  return n < 0 ? 0 : (size_t)n;
}

size_t dt_format_iso8601(int64_t t, long nanos, int digits, char *out, size_t cap) {
  int64_t days, y;
  int hh, mi, ss, m, d;
  split(t, &days, &hh, &mi, &ss);
  dt_civil_from_days(days, &y, &m, &d);
  int n = snprintf(out, cap, "%04lld-%02d-%02dT%02d:%02d:%02d", (long long)y, m, d, hh, mi, ss);
  if (n < 0 || (size_t)n >= cap) return 0;
  if (digits > 0) {
    char frac[16];
    snprintf(frac, sizeof frac, "%09ld", nanos);
    n += snprintf(out + n, cap - (size_t)n, ".%.*s", digits, frac);
  }
  n += snprintf(out + n, cap - (size_t)n, "Z");
  return (size_t)n;
}

/* Reads exactly n digits at *p. */
static int digits(const char **p, const char *end, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (*p >= end || **p < '0' || **p > '9') return 0;
    v = v * 10 + (*(*p)++ - '0');
  }
  *out = v;
  return 1;
}

static int lit(const char **p, const char *end, const char *s) {
  size_t n = strlen(s);
  if ((size_t)(end - *p) < n || memcmp(*p, s, n) != 0) return 0;
  *p += n;
  return 1;
}

static int valid_fields(int64_t y, int m, int d, int hh, int mi, int ss) {
  /* ss == 60 admits a leap second, which the epoch count folds into the next minute. */
  return m >= 1 && m <= 12 && d >= 1 && d <= dt_days_in_month(y, m) && hh <= 23 && mi <= 59 && ss <= 60;
}

int dt_parse_rfc1123(const char *s, size_t len, int64_t *t) {
  const char *p = s, *end = s + len;
  int wd = -1, m = 0, d, y, hh, mi, ss;
  for (int i = 0; i < 7 && wd < 0; i++) {
    if (lit(&p, end, wday_names[i])) wd = i;
  }
  if (wd < 0 || !lit(&p, end, ", ")) return -1;
  if (!digits(&p, end, 2, &d) || !lit(&p, end, " ")) return -1;
  for (int i = 0; i < 12 && !m; i++) {
    if (lit(&p, end, month_names[i])) m = i + 1;
  }
  if (!m || !lit(&p, end, " ") || !digits(&p, end, 4, &y) || !lit(&p, end, " ")) return -1;
  if (!digits(&p, end, 2, &hh) || !lit(&p, end, ":") || !digits(&p, end, 2, &mi) || !lit(&p, end, ":") ||
      !digits(&p, end, 2, &ss))
    return -1;
  if (!lit(&p, end, " GMT") || p != end || !valid_fields(y, m, d, hh, mi, ss)) return -1;
  int64_t days = dt_days_from_civil(y, m, d);
  if ((int)(((days % 7) + 11) % 7) != wd) return -1; /* a wrong weekday means a wrong date */
  *t = days * 86400 + hh * 3600 + mi * 60 + ss;
  return 0;
}

int dt_parse_iso8601(const char *s, size_t len, int64_t *t, long *nanos, int *has_fraction) {
  const char *p = s, *end = s + len;
  int y, m, d, hh, mi, ss;
  if (!digits(&p, end, 4, &y) || !lit(&p, end, "-") || !digits(&p, end, 2, &m) || !lit(&p, end, "-") ||
      !digits(&p, end, 2, &d))
    return -1;
  if (p >= end || (*p != 'T' && *p != 't' && *p != ' ')) return -1;
  p++;
  if (!digits(&p, end, 2, &hh) || !lit(&p, end, ":") || !digits(&p, end, 2, &mi) || !lit(&p, end, ":") ||
      !digits(&p, end, 2, &ss))
    return -1;
  long ns = 0;
  *has_fraction = 0;
  if (p < end && (*p == '.' || *p == ',')) {
    /* Azure sends 7 digits (100 ns ticks), Go 9; more than 9 would be finer than we can hold. */
    int n = 0;
    for (p++; p < end && *p >= '0' && *p <= '9'; p++, n++) {
      if (n >= 9) return -1;
      ns = ns * 10 + (*p - '0');
    }
    if (n == 0) return -1;
    for (; n < 9; n++) ns *= 10;
    *has_fraction = 1;
  }
  int offset = 0;
  if (p < end && (*p == 'Z' || *p == 'z')) {
    p++;
  } else if (p < end && (*p == '+' || *p == '-')) {
    int sign = *p++ == '-' ? -1 : 1, oh, om;
    if (!digits(&p, end, 2, &oh)) return -1;
    lit(&p, end, ":");
    if (!digits(&p, end, 2, &om) || oh > 23 || om > 59) return -1;
    offset = sign * (oh * 3600 + om * 60);
  }
  /* No zone at all is read as UTC: some ARM fields are written that way and mean UTC. */
  if (p != end || !valid_fields(y, m, d, hh, mi, ss)) return -1;
  *t = dt_days_from_civil(y, m, d) * 86400 + hh * 3600 + mi * 60 + ss - offset;
  *nanos = ns;
  return 0;
}
