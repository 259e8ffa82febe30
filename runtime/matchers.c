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

int tg_path_under(const char *path, size_t path_len, const char *dir, size_t dir_len)
{
	if (!path || !dir)
		return -1;
	return tg_under(path, path_len, dir, dir_len);
}
