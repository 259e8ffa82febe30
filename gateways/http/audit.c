/*
 * audit.c - the gateway's audit sink.
 *
 * The adapter (tg_mcp_decide) writes the stdio proxy's audit line to a
 * memory stream; here each line gets "upstream":NAME (and "shadow":true for
 * a shadow policy's decision) and is appended to the audit file under a
 * lock, flushed per line, so concurrent requests never interleave. Whether
 * the write succeeded is reported: with audit_required (the default) a
 * decision that cannot be audited is not acted on (exchange.c denies).
 * SIGUSR1 reopens the file for log rotation.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gateway.h"

int tg_gw_audit_open(tg_gw_audit *a, const char *path, char *err, size_t errlen)
{
	memset(a, 0, sizeof *a);
	pthread_mutex_init(&a->lock, NULL);
	if (!path || strcmp(path, "-") == 0) {
		a->f = stderr;
		return 0;
	}
	a->path = strdup(path);
	a->f = a->path ? fopen(path, "a") : NULL;
	if (!a->f) {
		snprintf(err, errlen, "cannot open audit log '%s': %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int tg_gw_audit_reopen(tg_gw_audit *a)
{
	FILE *f;
	int rc = 0;

	if (!a->path)
		return 0;
	pthread_mutex_lock(&a->lock);
	f = fopen(a->path, "a");
	if (f) {
		if (a->f)
			fclose(a->f);
		a->f = f;
		a->broken = false;
	} else {
		rc = -1;
	}
	pthread_mutex_unlock(&a->lock);
	return rc;
}

void tg_gw_audit_close(tg_gw_audit *a)
{
	if (a->f && a->f != stderr)
		fclose(a->f);
	free(a->path);
	pthread_mutex_destroy(&a->lock);
	memset(a, 0, sizeof *a);
}

char *tg_gw_audit_annotate(const char *line, size_t len, const char *upstream, bool shadow,
			   const json_t *auth)
{
	json_t *name = json_string(upstream ? upstream : "");
	char *quoted = name ? json_dumps(name, JSON_ENCODE_ANY) : NULL;
	/* The token's issuer, client and jti (or digest): never the token. */
	char *who = auth ? json_dumps(auth, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	char *out = NULL;

	json_decref(name);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (quoted && len >= 2 && line[0] == '{' && line[len - 1] == '}') {
		size_t q = strlen(quoted), extra = 12 + q + (shadow ? 14 : 0) + (who ? 8 + strlen(who) : 0);

		out = malloc(len + extra + 2);
		if (out) {
			size_t n = len - 1;

			memcpy(out, line, n);
			n += (size_t)sprintf(out + n, ",\"upstream\":%s%s%s%s}\n", quoted,
					     shadow ? ",\"shadow\":true" : "", who ? ",\"auth\":" : "",
					     who ? who : "");
			out[n] = '\0';
		}
	}
	free(quoted);
	free(who);
	return out;
}

int tg_gw_audit_write(tg_gw_audit *a, const char *lines, size_t len, const char *upstream,
		      bool shadow, const json_t *auth)
{
	int rc = 0;

	pthread_mutex_lock(&a->lock);
	while (len > 0) {
		const char *nl = memchr(lines, '\n', len);
		size_t n = nl ? (size_t)(nl - lines) + 1 : len;
		char *out = tg_gw_audit_annotate(lines, n, upstream, shadow, auth);

		if (!out || !a->f || fputs(out, a->f) == EOF || fflush(a->f) != 0)
			rc = -1;
		free(out);
		lines += n;
		len -= n;
	}
	a->broken = rc != 0;
	pthread_mutex_unlock(&a->lock);
	return rc;
}
