/*
 * prm.c - OAuth 2.0 Protected Resource Metadata (RFC 9728) and the
 * WWW-Authenticate challenges (RFC 6750) that point clients at it.
 *
 * Each upstream is its own protected resource, `resource` + its path. Its
 * metadata lives at the path-suffixed well-known URI: the well-known
 * segment goes between the authority and the resource's path, so
 * http://h/files/mcp is described at
 * http://h/.well-known/oauth-protected-resource/files/mcp. The bare
 * /.well-known/oauth-protected-resource describes the base URI, for
 * clients that look there first. Both are served without authentication
 * (server.c); MCP clients read the `resource_metadata` parameter of a 401
 * to find the right one.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway.h"

#define WELL_KNOWN "/.well-known/oauth-protected-resource"

/* Length of "scheme://authority" at the start of an absolute URI. */
static size_t origin_len(const char *uri)
{
	const char *p = strstr(uri, "://");

	if (!p)
		return 0;
	p += 3;
	return (size_t)(p - uri) + strcspn(p, "/");
}

int tg_gw_prm_url(const tg_gw_conf *c, const tg_gw_upstream_conf *uc, char *out, size_t outlen)
{
	size_t o = origin_len(c->resource);
	int n = snprintf(out, outlen, "%.*s%s%s%s", (int)o, c->resource, WELL_KNOWN,
			 c->resource + o, uc ? uc->path : "");

	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

char *tg_gw_prm_document(const tg_gw_conf *c, const char *url_path, size_t *len)
{
	const tg_gw_upstream_conf *uc = NULL;
	json_t *doc, *scopes;
	char resource[1024], *text;
	size_t i;

	if (!c->auth || strncmp(url_path, WELL_KNOWN, strlen(WELL_KNOWN)) != 0)
		return NULL;
	url_path += strlen(WELL_KNOWN);
	if (*url_path) {
		uc = tg_gw_conf_route(c, url_path);
		if (!uc)
			return NULL;
	}
	snprintf(resource, sizeof resource, "%s%s", c->resource, uc ? uc->path : "");
	scopes = json_array();
	for (i = 0; scopes && i < c->auth->nscopes; i++)
		json_array_append_new(scopes, json_string(c->auth->scopes[i]));
	doc = json_pack("{s:s,s:[s],s:o,s:[s]}", "resource", resource, "authorization_servers",
			c->auth->issuer, "scopes_supported", scopes, "bearer_methods_supported",
			"header");
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	*len = text ? strlen(text) : 0;
	return text;
}

/* Appends `, name="value"` with quotes and backslashes dropped from value
 * (RFC 7230 quoted-string without escapes: nothing here needs them). */
static void param(char *out, size_t outlen, const char *name, const char *value)
{
	size_t n = strlen(out);

	if (n >= outlen - 1)
		return;
	n += (size_t)snprintf(out + n, outlen - n, "%s%s=\"", out[0] ? ", " : "", name);
	for (; *value && n + 2 < outlen; value++)
		if (*value != '"' && *value != '\\' && (unsigned char)*value >= 0x20)
			out[n++] = *value;
	if (n + 1 < outlen)
		out[n++] = '"';
	out[n < outlen ? n : outlen - 1] = '\0';
}

void tg_gw_challenge(const tg_gw_conf *c, const tg_gw_upstream_conf *uc, const char *error,
		     const char *description, const char *scope, char *out, size_t outlen)
{
	char url[1200];
	char params[1536] = "";

	if (error)
		param(params, sizeof params, "error", error);
	if (scope && *scope)
		param(params, sizeof params, "scope", scope);
	if (tg_gw_prm_url(c, uc, url, sizeof url) == 0)
		param(params, sizeof params, "resource_metadata", url);
	if (description && *description)
		param(params, sizeof params, "error_description", description);
	snprintf(out, outlen, "Bearer %s", params);
}
