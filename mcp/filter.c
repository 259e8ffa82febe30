/*
 * filter.c - list results as the requester may see them.
 *
 * Which tools, resources and prompts a client sees is a policy decision
 * (DESIGN "Visibility"): each entry of a tools/list, resources/list or
 * prompts/list result is kept only when tg_visible_many says so for the
 * proxy's identity. Entries the proxy cannot judge (not an object, no string name or
 * uri, a pinned tool whose definition changed) are dropped: fail closed. A
 * tool's annotations overridden by the operator are shown as overridden. The rest of the result is untouched, so
 * pagination (nextCursor) and any other member pass as the server sent
 * them. resources/templates/list is not filtered per entry.
 */
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "request_json.h"

static const char *list_key(tg_entry_kind kind)
{
	return kind == TG_ENTRY_RESOURCE ? "resources" : kind == TG_ENTRY_PROMPT ? "prompts" : "tools";
}

static const char *list_method(tg_entry_kind kind)
{
	return kind == TG_ENTRY_RESOURCE ? "resources/list"
	       : kind == TG_ENTRY_PROMPT ? "prompts/list"
					 : "tools/list";
}

/* The entry for a list item; false when the item cannot be judged. Tool
 * items have their annotations cached either way. */
static bool entry_of(const tg_request *req, tg_mcp_tools *tools, tg_entry_kind kind,
		     const json_t *item, tg_entry *e)
{
	const json_t *name;

	if (!json_is_object(item))
		return false;
	tg_entry_init(e);
	name = json_object_get(item, kind == TG_ENTRY_RESOURCE ? "uri" : "name");
	if (!json_is_string(name))
		return false;
	e->name.ptr = json_string_value(name);
	e->name.len = json_string_length(name);
	e->kind = kind;
	if (kind == TG_ENTRY_TOOL) {
		tg_mcp_hints h;

		/* A pinned tool whose definition changed is not the tool that
		 * was reviewed: hidden, never judged. */
		if (tg_mcp_tools_record(tools, item, &h) != 1)
			return false;
		e->server = req->server;
		e->read_only = h.read_only;
		e->destructive = h.destructive;
		e->idempotent = h.idempotent;
		e->open_world = h.open_world;
	}
	return true;
}

long tg_mcp_filter(const tg_policy *p, const tg_mcp_identity *id, tg_mcp_tools *tools,
		    tg_entry_kind kind, json_t *response, int64_t now)
{
	const char *key = list_key(kind);
	json_t *result = json_object_get(response, "result");
	json_t *list = json_is_object(result) && key ? json_object_get(result, key) : NULL;
	json_t *kept;
	tg_json_request jr;
	char err[256];
	bool have_req;
	size_t i, n, ne = 0;
	long removed = 0;

	if (!json_is_array(list))
		return -1;
	/* The list request itself: principal, token, context for
	 * tg_visible_many. If it cannot be built, nothing is visible (but
	 * tools are still cached). */
	have_req = tg_mcp_request_build(p, id, list_method(kind), NULL, NULL, now, &jr, err,
					sizeof err) == 0;
	if (!have_req)
		memset(&jr, 0, sizeof jr);
	n = json_array_size(list);
	kept = json_array();
	tg_entry *entries = calloc(n ? n : 1, sizeof *entries);
	size_t *at = calloc(n ? n : 1, sizeof *at);	/* list index of entries[k] */
	bool *vis = calloc(n ? n : 1, sizeof *vis);
	if (!kept || !entries || !at || !vis) {
		json_array_clear(list);	/* out of memory: show nothing */
		goto out;
	}
	for (i = 0; i < n; i++)
		if (entry_of(&jr.req, tools, kind, json_array_get(list, i), &entries[ne]))
			at[ne++] = i;
	/* One call for the whole list: the identity is checked once. */
	if (have_req)
		(void)tg_visible_many(p, &jr.req, entries, ne, vis);
	for (size_t k = 0; k < ne; k++) {
		if (!vis[k])
			continue;
		if (kind == TG_ENTRY_TOOL)
			(void)tg_mcp_override_listing(tools->overrides, json_array_get(list, at[k]));
		json_array_append(kept, json_array_get(list, at[k]));
	}
	removed = (long)(n - json_array_size(kept));
	json_object_set(result, key, kept);
out:
	json_decref(kept);
	free(entries);
	free(at);
	free(vis);
	if (have_req)
		tg_json_request_free(&jr);
	return removed;
}

long tg_mcp_tools_learn(tg_mcp_tools *tools, const json_t *response)
{
	json_t *result = json_object_get(response, "result");
	json_t *list = json_is_object(result) ? json_object_get(result, "tools") : NULL;
	size_t i;
	json_t *item;

	if (!json_is_array(list))
		return -1;
	json_array_foreach(list, i, item)
		(void)tg_mcp_tools_record(tools, item, NULL);
	return (long)json_array_size(list);
}
