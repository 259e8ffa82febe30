/*
 * identity.c - who the client is.
 *
 * A stdio transport has no token to inspect: whoever starts the proxy vouches
 * for the client, with options and/or a JSON file holding the request
 * model's principal, token and context objects. They are applied in
 * command-line order, each one merging over what came before, and the result
 * is handed to every authorization as-is (tg_mcp_request_json), so the
 * proxy's requests are exactly what `toolgate eval` would read.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

void tg_mcp_identity_init(tg_mcp_identity *id)
{
	id->principal = json_object();
	id->token = json_object();
	id->context = json_object();
	id->server = NULL;
}

void tg_mcp_identity_clear(tg_mcp_identity *id)
{
	json_decref(id->principal);
	json_decref(id->token);
	json_decref(id->context);
	json_decref(id->server);
	memset(id, 0, sizeof *id);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

json_t *tg_mcp_identity_value(const char *text)
{
	const char *d = text + (text[0] == '-');
	char *end;
	long long v;

	if (strcmp(text, "true") == 0)
		return json_true();
	if (strcmp(text, "false") == 0)
		return json_false();
	/* An integer as JSON writes one: no '+', no leading zeros. */
	if (d[0] >= '0' && d[0] <= '9' && (d[0] != '0' || d[1] == '\0') &&
	    strspn(d, "0123456789") == strlen(d)) {
		errno = 0;
		v = strtoll(text, &end, 10);
		if (errno == 0 && *end == '\0')
			return json_integer((json_int_t)v);
	}
	return json_string(text);
}

/* Sets obj.PATH = value, PATH's dots making nested objects. Takes value. */
static int set_path(json_t *obj, const char *path, json_t *value, char *err, size_t errlen)
{
	size_t n = strlen(path);
	const char *dot;

	if (n == 0 || path[0] == '.' || path[n - 1] == '.' || strstr(path, "..")) {
		json_decref(value);
		return fail(err, errlen, "empty key in '%s'", path);
	}
	while ((dot = strchr(path, '.')) != NULL) {
		size_t len = (size_t)(dot - path);
		json_t *next = json_object_getn(obj, path, len);

		if (!next) {
			next = json_object();
			if (!next || json_object_setn_new(obj, path, len, next) != 0) {
				json_decref(value);
				return fail(err, errlen, "out of memory");
			}
		} else if (!json_is_object(next)) {
			json_decref(value);
			return fail(err, errlen, "'%s' is inside a value that is not an object",
				    path);
		}
		obj = next;
		path = dot + 1;
	}
	if (json_object_set_new(obj, path, value) != 0)
		return fail(err, errlen, "out of memory");
	return 0;
}

static int append(json_t *obj, const char *key, const char *value, char *err, size_t errlen)
{
	json_t *list = json_object_get(obj, key);

	if (!list) {
		list = json_array();
		if (!list || json_object_set_new(obj, key, list) != 0)
			return fail(err, errlen, "out of memory");
	}
	if (!json_is_array(list))
		return fail(err, errlen, "%s is not a list", key);
	if (json_array_append_new(list, json_string(value)) != 0)
		return fail(err, errlen, "'%s' is not valid UTF-8", value);
	return 0;
}

/* KEY=VALUE into obj, refusing the reserved keys that have their own option. */
static int assign(json_t *obj, const char *opt, const char *kv, const char *reserved,
		  char *err, size_t errlen)
{
	const char *eq = strchr(kv, '=');
	char *key;
	json_t *value;
	int rc;

	if (!eq || eq == kv)
		return fail(err, errlen, "--%s wants KEY=VALUE, not '%s'", opt, kv);
	key = strndup(kv, (size_t)(eq - kv));
	if (!key)
		return fail(err, errlen, "out of memory");
	if (reserved && strcmp(key, reserved) == 0) {
		rc = fail(err, errlen, "--%s cannot set '%s'; it has its own option", opt, key);
	} else {
		value = tg_mcp_identity_value(eq + 1);
		rc = value ? set_path(obj, key, value, err, errlen)
			   : fail(err, errlen, "'%s' is not valid UTF-8", eq + 1);
	}
	free(key);
	return rc;
}

int tg_mcp_identity_option(tg_mcp_identity *id, const char *name, const char *value, char *err,
		       size_t errlen)
{
	json_t *s;

	if (strcmp(name, "identity") == 0)
		return tg_mcp_identity_load_file(id, value, err, errlen);
	if (strcmp(name, "role") == 0)
		return append(id->principal, "roles", value, err, errlen);
	if (strcmp(name, "scope") == 0)
		return append(id->token, "scopes", value, err, errlen);
	if (strcmp(name, "attr") == 0) {
		if (strncmp(value, "principal.", 10) != 0)
			return fail(err, errlen, "--attr wants principal.KEY=VALUE, not '%s'",
				    value);
		if (strncmp(value + 10, "roles=", 6) == 0)
			return fail(err, errlen, "--attr cannot set principal.roles; use --role");
		return assign(id->principal, name, value + 10, "id", err, errlen);
	}
	if (strcmp(name, "token-claim") == 0)
		return assign(id->token, name, value, "scopes", err, errlen);
	if (strcmp(name, "context") == 0)
		return assign(id->context, name, value, NULL, err, errlen);
	s = json_string(value);
	if (!s)
		return fail(err, errlen, "'%s' is not valid UTF-8", value);
	if (strcmp(name, "principal") == 0)
		return json_object_set_new(id->principal, "id", s) == 0 ? 0 : -1;
	if (strcmp(name, "client-id") == 0)
		return json_object_set_new(id->token, "client_id", s) == 0 ? 0 : -1;
	if (strcmp(name, "server") == 0) {
		json_decref(id->server);
		id->server = s;
		return 0;
	}
	json_decref(s);
	return fail(err, errlen, "unknown identity option '--%s'", name);
}

/* Merges the identity object root; `where` names its source in messages. */
static int merge(tg_mcp_identity *id, json_t *root, const char *where, char *err, size_t errlen)
{
	json_t *v;
	const char *key;

	if (!json_is_object(root))
		return fail(err, errlen, "%s: an identity is one JSON object", where);
	json_object_foreach(root, key, v) {
		json_t *into = strcmp(key, "principal") == 0 ? id->principal
			     : strcmp(key, "token") == 0     ? id->token
			     : strcmp(key, "context") == 0   ? id->context
							     : NULL;

		if (strcmp(key, "server") == 0 && json_is_string(v)) {
			json_decref(id->server);
			id->server = json_incref(v);
			continue;
		}
		if (!into)
			return fail(err, errlen,
				    "%s: unknown key '%.64s' (want principal, token, context, server)",
				    where, key);
		if (!json_is_object(v))
			return fail(err, errlen, "%s: '%s' must be an object", where, key);
		if (json_object_update(into, v) != 0)
			return fail(err, errlen, "%s: out of memory", where);
	}
	return 0;
}

int tg_mcp_identity_load_file(tg_mcp_identity *id, const char *path, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return fail(err, errlen, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
	rc = merge(id, root, path, err, errlen);
	json_decref(root);
	return rc;
}

int tg_mcp_identity_merge_text(tg_mcp_identity *id, const char *text, size_t len, char *err,
			       size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return fail(err, errlen, "invalid identity: line %d, column %d: %s", jerr.line,
			    jerr.column, jerr.text);
	rc = merge(id, root, "invalid identity", err, errlen);
	if (rc == 0 && !json_is_string(json_object_get(id->principal, "id")))
		rc = fail(err, errlen, "invalid identity: principal.id must be a string");
	json_decref(root);
	return rc;
}
