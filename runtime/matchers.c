/*
 * matchers.c - the public face of the glob and `under` matchers, so code
 * outside the runtime (transports, the compiler's constant folding) uses the
 * very functions the interpreter does without reaching into policy.h.
 */
#include "policy.h"

bool tg_glob_match(const char *glob, size_t glob_len, const char *subject, size_t subject_len)
{
	if (!glob || !subject)
		return false;
	return tg_glob_match_from(glob, glob_len, 0, subject, subject_len);
}

tg_status tg_path_under(const char *path, size_t path_len, const char *dir, size_t dir_len,
			bool *under)
{
	int r;

	if (!path || !dir || !under)
		return TG_EINVAL;
	r = tg_under(path, path_len, dir, dir_len);
	if (r < 0)
		return TG_EINVAL;
	*under = r == 1;
	return TG_OK;
}
