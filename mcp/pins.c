/*
 * pins.c - tool definitions the operator pinned, and annotations the
 * operator overrides.
 *
 * A policy judges a tool by its name and annotations, and a client's model
 * chooses it by its description and schema; all of these come from the
 * server and can change between two listings (a "rug pull": a tool that was
 * reviewed as read-only starts to describe itself otherwise, or asks for
 * other arguments). A pin is a digest of what was reviewed: SHA-256 over a
 * canonical form of the tool's name, description, inputSchema and
 * annotations. A pinned tool whose listed definition digests differently is
 * treated as not the tool that was reviewed: hidden from lists and denied on
 * call (tools.c, filter.c, adapter.c) until it is pinned again.
 *
 * The canonical form is the JSON object of those four members, the ones the
 * tool has, written by jansson compact, with the keys of every object
 * sorted bytewise and everything outside ASCII escaped as \uXXXX; its hex
 * SHA-256 is the pin. Two definitions that differ in any of those members,
 * at any depth, differ in their pins; key order and white space do not.
 *
 * Files:
 *   pins         {"tools":{"NAME":"<64 hex digits>",...}}
 *   annotations  {"tools":{"NAME":{"readOnlyHint":true,...},...}}
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "sha256.h"

static const char *const pinned_members[] = {"name", "description", "inputSchema",
					     "annotations"};
static const char *const hint_names[] = {"readOnlyHint", "destructiveHint", "idempotentHint",
					 "openWorldHint"};
#define NHINTS (sizeof hint_names / sizeof hint_names[0])

int tg_mcp_tool_digest(const json_t *tool, char hex[65])
{
	json_t *canon = json_object();
	unsigned char digest[32];
	char *text;
	size_t i;

	if (!canon)
		return -1;
	for (i = 0; i < sizeof pinned_members / sizeof pinned_members[0]; i++) {
		json_t *v = json_object_get(tool, pinned_members[i]);

		if (v && json_object_set(canon, pinned_members[i], v) != 0) {
			json_decref(canon);
			return -1;
		}
	}
	text = json_dumps(canon, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	json_decref(canon);
	if (!text)
		return -1;
	tg_sha256(text, strlen(text), digest);
	tg_sha256_hex(digest, hex);
	free(text);
	return 0;
}

static bool hex64(const char *s)
{
	return s && strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* Whether member `name` of a pins (pins) or annotations file is usable;
 * why says why not. An annotations override names hints only: a
 * misspelt one would override nothing and say nothing, while the operator
 * believes the tool is, say, destructive now. */
static bool member_ok(bool pins, const char *name, json_t *v, char *why, size_t whylen)
{
	const char *key;
	json_t *h;

	if (pins) {
		if (hex64(json_string_value(v)))
			return true;
		snprintf(why, whylen, "tool '%.64s' is not 64 lowercase hex digits", name);
		return false;
	}
	if (!json_is_object(v) || json_object_size(v) == 0) {
		snprintf(why, whylen, "tool '%.64s' %s", name,
			 json_is_object(v) ? "overrides nothing"
					   : "is not an object of annotations");
		return false;
	}
	json_object_foreach(v, key, h) {
		size_t i = 0;

		while (i < NHINTS && strcmp(key, hint_names[i]) != 0)
			i++;
		if (i == NHINTS) {
			snprintf(why, whylen,
				 "tool '%.64s' has '%.64s', which is not readOnlyHint, "
				 "destructiveHint, idempotentHint or openWorldHint", name, key);
			return false;
		}
		if (!json_is_boolean(h)) {
			snprintf(why, whylen, "tool '%.64s' has a hint that is not true or false",
				 name);
			return false;
		}
	}
	return true;
}

/* The "tools" object of a pins or annotations file, each member checked. */
static json_t *load_tools(const char *path, bool pins, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr), *tools;
	const char *name;
	char why[256];
	json_t *v;

	if (!root) {
		snprintf(err, errlen, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	tools = json_object_get(root, "tools");
	if (!json_is_object(root) || json_object_size(root) != 1 || !json_is_object(tools)) {
		snprintf(err, errlen, "%s: want {\"tools\":{...}}", path);
		json_decref(root);
		return NULL;
	}
	json_object_foreach(tools, name, v) {
		if (!member_ok(pins, name, v, why, sizeof why)) {
			snprintf(err, errlen, "%s: %s", path, why);
			json_decref(root);
			return NULL;
		}
	}
	json_incref(tools);
	json_decref(root);
	return tools;
}

json_t *tg_mcp_pins_load(const char *path, char *err, size_t errlen)
{
	return load_tools(path, true, err, errlen);
}

json_t *tg_mcp_annotations_load(const char *path, char *err, size_t errlen)
{
	return load_tools(path, false, err, errlen);
}

char *tg_mcp_pins_text(const json_t *digests)
{
	json_t *root = json_pack("{s:O}", "tools", digests);
	char *text = root ? json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	char *line = text ? realloc(text, strlen(text) + 2) : NULL;

	json_decref(root);
	if (!line) {
		free(text);
		return NULL;
	}
	strcat(line, "\n");
	return line;
}

bool tg_mcp_override_hints(const json_t *overrides, const char *name, size_t len,
			   tg_mcp_hints *h)
{
	json_t *o = overrides ? json_object_getn(overrides, name, len) : NULL;
	tg_hint *slots[NHINTS] = {&h->read_only, &h->destructive, &h->idempotent, &h->open_world};

	if (!json_is_object(o))
		return false;
	for (size_t i = 0; i < NHINTS; i++) {
		json_t *v = json_object_get(o, hint_names[i]);

		if (json_is_boolean(v))
			*slots[i] = json_is_true(v) ? TG_HINT_TRUE : TG_HINT_FALSE;
	}
	return true;
}

int tg_mcp_override_listing(const json_t *overrides, json_t *tool)
{
	json_t *name = json_object_get(tool, "name");
	json_t *o = overrides && json_is_string(name)
			    ? json_object_getn(overrides, json_string_value(name),
					       json_string_length(name))
			    : NULL;
	json_t *ann;

	if (!json_is_object(o))
		return 0;
	ann = json_object_get(tool, "annotations");
	if (!json_is_object(ann)) {
		ann = json_object();
		if (!ann || json_object_set_new(tool, "annotations", ann) != 0)
			return -1;
	}
	return json_object_update(ann, o);
}
