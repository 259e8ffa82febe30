/*
 * reload.c - hot reload: a holder publishes the current policy.
 *
 * Readers take a reference under a mutex (a pointer read and an atomic
 * increment, so the critical section is a few instructions); a swap replaces
 * the pointer under the same mutex and drops the holder's reference
 * outside it. The increment happens while the holder still owns a
 * reference, so a policy can never be freed between a reader seeing the
 * pointer and counting itself: requests in flight finish on the old policy,
 * which is freed by whoever releases it last.
 */
#include "policy.h"

#include <pthread.h>
#include <stdlib.h>

struct tg_holder {
	pthread_mutex_t mu;
	tg_policy *cur;
};

tg_status tg_holder_create(tg_holder **out)
{
	if (!out)
		return TG_EINVAL;
	tg_holder *h = calloc(1, sizeof *h);
	if (!h)
		return TG_ENOMEM;
	if (pthread_mutex_init(&h->mu, NULL) != 0) {
		free(h);
		return TG_ENOMEM;
	}
	*out = h;
	return TG_OK;
}

void tg_holder_free(tg_holder *h)
{
	if (!h)
		return;
	tg_policy_free(h->cur);
	pthread_mutex_destroy(&h->mu);
	free(h);
}

const tg_policy *tg_holder_acquire(tg_holder *h)
{
	tg_policy *p;
	if (!h)
		return NULL;
	pthread_mutex_lock(&h->mu);
	p = h->cur;
	if (p)
		atomic_fetch_add(&p->refs, 1);
	pthread_mutex_unlock(&h->mu);
	return p;
}

void tg_holder_release(tg_holder *h, const tg_policy *p)
{
	(void)h;
	/* The reference is ours to drop; the policy itself stays immutable. */
	tg_policy_free((tg_policy *)(uintptr_t)p);
}

void tg_holder_swap(tg_holder *h, tg_policy *p)
{
	tg_policy *old;
	if (!h) {
		tg_policy_free(p);
		return;
	}
	pthread_mutex_lock(&h->mu);
	old = h->cur;
	h->cur = p;
	pthread_mutex_unlock(&h->mu);
	tg_policy_free(old);
}
