/*
 * test_runtime_holder.c - hot reload: several threads evaluate through a
 * holder while another swaps policies in and out. Every evaluation must see
 * one consistent policy (its decision matches that policy's default), and
 * no policy may be freed while in use (ASan checks the latter).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "decision.h"
#include "rt_asm.h"

#define READERS 4
#define SWAPS 300

static tg_holder *H;
static atomic_int stop;
static atomic_long evals, mismatches;

static tg_policy *make(bool allow)
{
	rt_rule r = { "x", TG_BC_DENY, TG_BC_SUBJ_PRINCIPAL, { "nobody" }, TG_BC_ACT_ANYTHING, false,
		      { NULL }, NULL, NULL };
	return rt_policy(NULL, &r, 1, allow, NULL, NULL);
}

static void *reader(void *arg)
{
	(void)arg;
	tg_request q;
	tg_decision d;
	tg_request_init(&q);
	q.principal_id.ptr = "alice";
	q.principal_id.len = 5;
	q.method.ptr = "tools/list";
	q.method.len = 10;
	while (!atomic_load(&stop)) {
		const tg_policy *p = tg_holder_acquire(H);
		if (!p)
			continue;
		if (tg_eval(p, &q, &d) != TG_OK ||
		    (d.effect == TG_ALLOW) != tg_policy_default_allow(p))
			atomic_fetch_add(&mismatches, 1);
		atomic_fetch_add(&evals, 1);
		tg_holder_release(H, p);
	}
	return NULL;
}

/* Waits (a bounded time) until the readers have done more evaluations than
 * `target`, so swaps really happen while readers are running, however the
 * threads are scheduled. */
static void wait_for_evals(long target)
{
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (atomic_load(&evals) <= target) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > 10)
			return;
		sched_yield();
	}
}

static void test_swap_under_load(void **state)
{
	(void)state;
	pthread_t t[READERS];
	assert_int_equal(tg_holder_create(&H), TG_OK);
	assert_null(tg_holder_acquire(H));
	tg_holder_swap(H, make(true));
	for (int i = 0; i < READERS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, reader, NULL), 0);
	for (int i = 0; i < SWAPS; i++) {
		tg_policy *p = make(i % 2 == 0);
		assert_non_null(p);
		if (i % 10 == 0)
			wait_for_evals(atomic_load(&evals));
		tg_holder_swap(H, p);
	}
	wait_for_evals(atomic_load(&evals));
	atomic_store(&stop, 1);
	for (int i = 0; i < READERS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(atomic_load(&mismatches), 0);
	assert_true(atomic_load(&evals) > 0);
	tg_holder_free(H);
}

static void test_release_after_holder_free(void **state)
{
	(void)state;
	tg_holder *h;
	tg_request q;
	tg_decision d;
	assert_int_equal(tg_holder_create(&h), TG_OK);
	tg_holder_swap(h, make(true));
	const tg_policy *p = tg_holder_acquire(h);
	tg_holder_swap(h, make(false));	/* p is still in use */
	tg_holder_free(h);		/* and so is p, after the holder */
	tg_request_init(&q);
	q.principal_id.ptr = "a";
	q.principal_id.len = 1;
	q.method.ptr = "ping";
	q.method.len = 4;
	assert_int_equal(tg_eval(p, &q, &d), TG_OK);
	assert_int_equal(d.effect, TG_ALLOW);
	tg_holder_release(NULL, p);	/* last reference: freed here */
	tg_holder_swap(NULL, NULL);
	tg_holder_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_swap_under_load),
		cmocka_unit_test(test_release_after_holder_free),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
