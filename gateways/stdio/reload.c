/*
 * reload.c - hot reload of the proxy's policy.
 *
 * The file is stat()ed at most every 250 ms (and at once on SIGHUP); a
 * change of device, inode, size or modification time means a new policy.
 * The stat is taken before the file is read, so a file replaced while it
 * is being read shows a new stat at the next check and is read again.
 * Loading verifies the bytecode (or compiles source); only a policy that
 * loads is swapped into the holder. A broken one is reported on stderr and
 * the old policy keeps serving; requests in flight finish on the policy
 * they acquired.
 */
#include <sys/stat.h>

#include <errno.h>
#include <string.h>

#include "driver.h"
#include "proxy.h"

static void remember(tg_reloader *r, const struct stat *st)
{
	r->known = true;
	r->dev = (unsigned long long)st->st_dev;
	r->ino = (unsigned long long)st->st_ino;
	r->size = (unsigned long long)st->st_size;
	r->mtime_sec = (long long)st->st_mtim.tv_sec;
	r->mtime_nsec = (long long)st->st_mtim.tv_nsec;
}

static bool same(const tg_reloader *r, const struct stat *st)
{
	return r->known && r->dev == (unsigned long long)st->st_dev &&
	       r->ino == (unsigned long long)st->st_ino &&
	       r->size == (unsigned long long)st->st_size &&
	       r->mtime_sec == (long long)st->st_mtim.tv_sec &&
	       r->mtime_nsec == (long long)st->st_mtim.tv_nsec;
}

static void announce(const char *what, const tg_policy *p)
{
	const char *version = tg_policy_version(p);

	tg_drv_error("proxy: %s policy '%s'%s%s (%.12s)", what, tg_policy_name(p),
		     version ? " version " : "", version ? version : "", tg_policy_hash(p));
}

int tg_reload_initial(tg_reloader *r, tg_holder *h)
{
	struct stat st;
	tg_policy *p;
	int rc;

	if (stat(r->path, &st) == 0)
		remember(r, &st);
	rc = tg_drv_load_policy(r->path, &p);
	if (rc != TG_EXIT_OK)
		return rc;
	announce("loaded", p);
	tg_holder_swap(h, p);
	r->last_check_ms = tg_proxy_now_ms();
	return TG_EXIT_OK;
}

bool tg_reload_check(tg_reloader *r, tg_holder *h, bool force)
{
	int64_t now = tg_proxy_now_ms();
	struct stat st;
	tg_policy *p;

	if (!force && now - r->last_check_ms < 250)
		return false;
	r->last_check_ms = now;
	if (stat(r->path, &st) != 0) {
		if (force)
			tg_drv_error("proxy: cannot reload '%s': %s; keeping the current policy",
				     r->path, strerror(errno));
		return false;
	}
	if (!force && same(r, &st))
		return false;
	remember(r, &st);
	if (tg_drv_load_policy(r->path, &p) != TG_EXIT_OK) {
		tg_drv_error("proxy: reload of '%s' failed; keeping the current policy", r->path);
		return false;
	}
	announce("reloaded", p);
	tg_holder_swap(h, p);
	return true;
}
