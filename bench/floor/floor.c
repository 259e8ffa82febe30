/*
 * floor.c - pre-decodes the scenario's JSON requests into fl_req for the
 * floor (floor.h). Not timed: this is the work the floor is allowed to have
 * done before a decision.
 */
#define _GNU_SOURCE
#include <jansson.h>

#include "floor.h"

static fl_str str_at(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(json_object_get(o, a), b);
	fl_str s = { "", 0 };
	if (json_is_string(v)) {
		s.p = json_string_value(v);
		s.n = json_string_length(v);
	}
	return s;
}

static int64_t int_at(json_t *o, const char *a, const char *b)
{
	return json_integer_value(json_object_get(json_object_get(o, a), b));
}

static bool bool_at(json_t *o, const char *a, const char *b)
{
	return json_is_true(json_object_get(json_object_get(o, a), b));
}

static int index_of(const char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return (int)i;
	return -1;
}

bool fl_decode(const fl_names *names, const char *text, size_t len, fl_req *q, json_t **keep)
{
	static const char *const roles[] = { "guest", "reader", "engineer", "admin" };
	static const char *const envs[] = { "dev", "staging", "prod" };
	json_t *o = json_loadb(text, len, 0, NULL), *v;
	size_t i;
	int k;
	memset(q, 0, sizeof *q);
	*keep = o;
	if (!o || !json_is_string(json_object_get(o, "target")))
		return false;
	q->tool.p = json_string_value(json_object_get(o, "target"));
	q->tool.n = json_string_length(json_object_get(o, "target"));
	json_array_foreach(json_object_get(json_object_get(o, "principal"), "roles"), i, v)
		if ((k = index_of(roles, 4, json_string_value(v))) >= 0)
			q->roles |= (2u << k) - 1;	/* the role and every role it inherits */
	json_array_foreach(json_object_get(json_object_get(o, "token"), "scopes"), i, v)
		if ((k = index_of(names->scopes, names->nscopes, json_string_value(v))) >= 0)
			q->scopes[k >> 6] |= 1ull << (k & 63);
	v = json_object_get(json_object_get(o, "principal"), "id");
	q->pid = (uint32_t)(index_of(names->principals, names->nprincipals,
				     json_is_string(v) ? json_string_value(v) : "") + 1);
	v = json_object_get(json_object_get(o, "context"), "environment");
	q->env = (uint32_t)(index_of(envs, 3, json_is_string(v) ? json_string_value(v) : "") + 1);
	q->mfa = bool_at(o, "context", "mfa");
	q->destructive = bool_at(o, "tool", "destructive");
	q->limit = int_at(o, "args", "limit");
	q->amount = int_at(o, "args", "amount");
	q->replicas = int_at(o, "args", "replicas");
	q->path = str_at(o, "args", "path");
	q->channel = str_at(o, "args", "channel");
	q->ptenant = str_at(o, "principal", "tenant");
	q->ctenant = str_at(o, "context", "tenant");
	return true;
}
