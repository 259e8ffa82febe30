/*
 * roots.c - the roots a server is given, as a policy decision.
 *
 * A client's answer to roots/list tells the server where it may work, and
 * servers act on it: server-filesystem replaces its allowed directories
 * with the roots it is given. Passed unchecked, a client answering
 * file:/// would widen the server's reach to the whole disk. So a root
 * reaches the server only when the identity may read everything under it:
 * each is decided as a resources/read of its URI in directory form (one
 * trailing '/'). A grant of a whole tree (file:///srv/repos/ followed by
 * the glob **) allows the root file:///srv/repos and nothing coarser; a
 * grant of some files in a directory (a glob *.md there) does not allow
 * the directory. Roots the policy would not let the identity
 * read, and roots that cannot be judged (no string uri, a URI a read would
 * reject), are removed; every decision is audited.
 *
 * An operator can also pin the roots: the server is given that list
 * (filtered the same way) whatever the client would answer.
 */
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

/* May the identity be given this root? */
static bool root_allowed(const tg_policy *p, const tg_mcp_identity *id, const json_t *root,
			 int64_t now, FILE *audit)
{
	json_t *uri = json_is_object(root) ? json_object_get(root, "uri") : NULL;
	const char *s = json_string_value(uri);
	size_t n = json_string_length(uri);
	tg_mcp_authz out;
	json_t *params;
	char *dir;

	if (!s || n == 0)
		return false;
	/* The directory form: the root and everything below it. */
	dir = malloc(n + 2);
	if (!dir)
		return false;
	memcpy(dir, s, n);
	if (s[n - 1] != '/')
		dir[n++] = '/';
	params = json_object();
	if (!params || json_object_set_new(params, "uri", json_stringn(dir, n)) != 0) {
		json_decref(params);
		free(dir);
		return false;
	}
	free(dir);
	tg_mcp_decide_implied(p, id, "resources/read", params, "roots/list", now, audit, &out);
	json_decref(params);
	return out.verdict == TG_MCP_ALLOW;
}

long tg_mcp_filter_roots(const tg_policy *p, const tg_mcp_identity *id, const json_t *pinned,
			 json_t *result, int64_t now, FILE *audit)
{
	json_t *roots, *kept = json_array();
	size_t i, n;
	long removed;

	if (pinned) {
		json_t *copy = json_deep_copy(pinned);

		if (!copy || json_object_set_new(result, "roots", copy) != 0) {
			json_decref(kept);
			return -1;
		}
	}
	roots = json_object_get(result, "roots");
	if (!json_is_array(roots) || !kept) {
		json_decref(kept);
		return -1;
	}
	n = json_array_size(roots);
	for (i = 0; i < n; i++)
		if (root_allowed(p, id, json_array_get(roots, i), now, audit))
			json_array_append(kept, json_array_get(roots, i));
	removed = (long)(n - json_array_size(kept));
	json_object_set_new(result, "roots", kept);
	return removed;
}

int tg_mcp_message_roots(const tg_policy *p, const tg_mcp_identity *id, json_t *msg, int64_t now,
			 FILE *audit, bool *changed, char *err, size_t errlen)
{
	bool answer = !json_object_get(msg, "method");
	json_t *at = json_object_get(msg, answer ? "result" : "params");
	long k;

	*changed = false;
	if (!json_object_get(at, answer ? "roots" : "inputResponses"))
		return 0;
	if (!answer) {
		k = tg_mcp_input_roots(p, id, NULL, at, now, audit, err, errlen);
	} else if ((k = tg_mcp_filter_roots(p, id, NULL, at, now, audit)) < 0) {
		snprintf(err, errlen, "the client's roots are not a list of roots");
	}
	if (k < 0)
		return -1;
	*changed = k > 0;
	/* a retry whose answers hold no roots gives none */
	return answer || k > 0;
}

json_t *tg_mcp_roots_from_uris(char *const *uris, size_t n)
{
	json_t *roots = json_array();

	for (size_t i = 0; roots && i < n; i++) {
		json_t *uri = json_string(uris[i]);

		if (!uri || json_array_append_new(roots, json_pack("{s:o}", "uri", uri)) != 0) {
			json_decref(roots);
			return NULL;
		}
	}
	return roots;
}
