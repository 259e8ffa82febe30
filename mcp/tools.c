/*
 * tools.c - what the server last said about each tool.
 *
 * A tools/call is authorized with the called tool's annotations, which only
 * the server's tools/list carries. Every tools/list result that passes the
 * proxy (the client's, filtered or not, and the proxy's own) records each
 * tool's hints here; notifications/tools/list_changed clears the cache, so
 * a tool is never judged by annotations the server has since withdrawn.
 *
 * The operator's word goes over the server's: annotations overridden per
 * tool (pins.c) replace the listed hints, and a pinned tool whose listed
 * definition no longer digests to its pin is recorded as changed, so it is
 * hidden and denied rather than judged by what it now says of itself.
 *
 * An open-addressing hash table (FNV-1a, linear probing, power-of-two size,
 * at most half full) owning copies of the names.
 */
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

struct tg_tool_slot {
	char *name;		/* NULL: empty */
	size_t len;
	tg_mcp_hints hints;
	bool changed;		/* its definition does not match its pin */
	char digest[65];	/* when changed: what it digests to now */
};

static tg_hint hint(const json_t *ann, const char *key, tg_hint dflt)
{
	const json_t *v = ann ? json_object_get(ann, key) : NULL;

	if (!json_is_boolean(v))
		return dflt;
	return json_is_true(v) ? TG_HINT_TRUE : TG_HINT_FALSE;
}

tg_mcp_hints tg_mcp_tools_hints_of(const json_t *tool)
{
	const json_t *ann = json_object_get(tool, "annotations");
	tg_mcp_hints h;

	if (!json_is_object(ann))
		ann = NULL;
	/* MCP's defaults for absent hints (DESIGN "Request model"). */
	h.read_only = hint(ann, "readOnlyHint", TG_HINT_FALSE);
	h.destructive = hint(ann, "destructiveHint", TG_HINT_TRUE);
	h.idempotent = hint(ann, "idempotentHint", TG_HINT_FALSE);
	h.open_world = hint(ann, "openWorldHint", TG_HINT_TRUE);
	return h;
}

static size_t hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return (size_t)h;
}

static struct tg_tool_slot *lookup(const tg_mcp_tools *c, const char *name, size_t len)
{
	size_t i;

	if (c->nslots == 0)
		return NULL;
	for (i = hash(name, len) & (c->nslots - 1);; i = (i + 1) & (c->nslots - 1)) {
		struct tg_tool_slot *s = &c->slots[i];

		if (!s->name || (s->len == len && memcmp(s->name, name, len) == 0))
			return s;
	}
}

static int grow(tg_mcp_tools *c)
{
	size_t n = c->nslots ? c->nslots * 2 : 64, i;
	tg_mcp_tools bigger = {.slots = calloc(n, sizeof *c->slots), .nslots = n};

	if (!bigger.slots)
		return -1;
	for (i = 0; i < c->nslots; i++)
		if (c->slots[i].name)
			*lookup(&bigger, c->slots[i].name, c->slots[i].len) = c->slots[i];
	free(c->slots);
	c->slots = bigger.slots;
	c->nslots = bigger.nslots;
	return 0;
}

int tg_mcp_tools_put(tg_mcp_tools *c, const char *name, size_t len, const tg_mcp_hints *h)
{
	struct tg_tool_slot *s;

	if (c->count >= TG_MCP_MAX_TOOLS)
		tg_mcp_tools_clear(c);
	if ((c->count + 1) * 2 > c->nslots && grow(c) != 0)
		return -1;
	s = lookup(c, name, len);
	if (!s->name) {
		s->name = malloc(len + 1);
		if (!s->name)
			return -1;
		memcpy(s->name, name, len);
		s->name[len] = '\0';
		s->len = len;
		c->count++;
	}
	s->hints = *h;
	s->changed = false;
	return 0;
}

int tg_mcp_tools_record(tg_mcp_tools *c, const json_t *tool, tg_mcp_hints *out)
{
	json_t *name = json_is_object(tool) ? json_object_get(tool, "name") : NULL;
	const char *n = json_string_value(name), *pin;
	size_t len = json_string_length(name);
	tg_mcp_hints h;
	char digest[65];
	struct tg_tool_slot *s;

	if (!n)
		return -1;
	h = tg_mcp_tools_hints_of(tool);
	tg_mcp_override_hints(c->overrides, n, len, &h);
	if (out)
		*out = h;
	if (tg_mcp_tools_put(c, n, len, &h) != 0)
		return -1;
	if (!c->pins && !c->keep_digests)
		return 1;
	if (tg_mcp_tool_digest(tool, digest) != 0)
		return -1;
	if (c->keep_digests) {
		json_t *old = json_object_getn(c->digests, n, len);

		if (!c->digests)
			c->digests = json_object();
		if (!old || strcmp(json_string_value(old), digest) != 0) {
			c->digests_changed = true;
			json_object_setn_new(c->digests, n, len, json_string(digest));
		}
	}
	pin = c->pins ? json_string_value(json_object_getn(c->pins, n, len)) : NULL;
	if (!pin || strcmp(pin, digest) == 0)
		return 1;
	s = lookup(c, n, len);
	s->changed = true;
	memcpy(s->digest, digest, sizeof digest);
	return 0;
}

const char *tg_mcp_tools_changed(const tg_mcp_tools *c, const char *name, size_t len)
{
	const struct tg_tool_slot *s = lookup(c, name, len);

	return s && s->name && s->changed ? s->digest : NULL;
}

const tg_mcp_hints *tg_mcp_tools_get(const tg_mcp_tools *c, const char *name, size_t len)
{
	const struct tg_tool_slot *s = lookup(c, name, len);

	return s && s->name ? &s->hints : NULL;
}

void tg_mcp_tools_clear(tg_mcp_tools *c)
{
	size_t i;

	for (i = 0; i < c->nslots; i++)
		free(c->slots[i].name);
	free(c->slots);
	c->slots = NULL;
	c->nslots = c->count = 0;
}

void tg_mcp_tools_dispose(tg_mcp_tools *c)
{
	tg_mcp_tools_clear(c);
	json_decref(c->digests);
	memset(c, 0, sizeof *c);
}
