/* Seconds on a clock as a double: CLOCK_MONOTONIC for intervals and deadlines, CLOCK_REALTIME for dates. */
#ifndef AZLUA_CLOCK_H
#define AZLUA_CLOCK_H

#include <time.h>

static inline double clock_seconds(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline double monotonic_seconds(void) { return clock_seconds(CLOCK_MONOTONIC); }

#endif
