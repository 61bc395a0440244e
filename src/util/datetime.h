/* Calendar arithmetic and the two date formats Azure speaks, in UTC only and independent of the C
 * locale and TZ (x-ms-date must be English whatever the user's locale; gmtime/strftime are not). */
#ifndef AZLUA_DATETIME_H
#define AZLUA_DATETIME_H

#include <stddef.h>
#include <stdint.h>

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12), and back. */
int64_t dt_days_from_civil(int64_t y, int m, int d);
void dt_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
int dt_is_leap(int64_t y);
int dt_days_in_month(int64_t y, int m);

/* "Mon, 01 Jan 2024 00:00:00 GMT" for whole seconds since the epoch; returns the length. */
size_t dt_format_rfc1123(int64_t t, char *out, size_t cap);
/* "2026-11-24T11:00:00Z", or with `digits` (1..9) fractional digits of `nanos`. */
size_t dt_format_iso8601(int64_t t, long nanos, int digits, char *out, size_t cap);

/* Both return 0 on success and fill seconds since the epoch (and nanoseconds for ISO 8601). */
int dt_parse_rfc1123(const char *s, size_t len, int64_t *t);
int dt_parse_iso8601(const char *s, size_t len, int64_t *t, long *nanos, int *has_fraction);

#endif
