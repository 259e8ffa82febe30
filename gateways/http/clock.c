/*
 * clock.c - deadlines for the gateway's condition waits.
 *
 * pthread_cond_timedwait takes an absolute CLOCK_REALTIME instant; every
 * bounded wait (a stdio answer, a server notice, the key-set refresher and
 * its callers) computes it here.
 */
#include <time.h>

#include "gateway.h"

void tg_gw_deadline(struct timespec *ts, int64_t ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += (time_t)(ms / 1000);
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}
