/*
 * claims.c - a validated token's claims (and named request headers) as the
 * request model's principal, token and context (docs/gateway.md,
 * "Claims").
 *
 * Every claim is first copied whole to token.NAME (nested objects and
 * lists included: `act` stays one tree), except scope and scp, which only
 * ever become token.scopes. Then the mapping, auth.claims over these
 * defaults, is applied:
 *
 *   principal.id     <- sub          (required: a non-empty string)
 *   principal.roles  <- groups       (list of strings, or a space-separated
 *                                     string; kept only when they start with
 *                                     auth.roles_prefix, if set)
 *   token.scopes     <- scope | scp  (space-separated string or list)
 *   token.client_id  <- client_id | azp
 *
 * and any other TARGET: CLAIM entry copies the claim to TARGET. A mapped
 * claim of the wrong type refuses the token (never a guess), so a policy
 * never sees a half-read identity. auth.headers copies request headers to
 * context.NAME; they are the client's words, not the issuer's.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway.h"

/* A list of strings from a list of strings or a space-separated string,
 * filtered by prefix; NULL when the value has another type. */
static json_t *string_list(const json_t *v, const char *prefix)
{
	json_t *out = json_array(), *e;
	size_t i, plen = prefix ? strlen(prefix) : 0;

	if (!out)
		return NULL;
	if (json_is_string(v)) {
		const char *s = json_string_value(v);

		while (*s) {
			size_t n = strcspn(s, " ");

			if (n && (!plen || (n >= plen && strncmp(s, prefix, plen) == 0)))
				json_array_append_new(out, json_stringn(s, n));
			s += n;
			s += strspn(s, " ");
		}
		return out;
	}
	if (!json_is_array(v)) {
		json_decref(out);
		return NULL;
	}
	json_array_foreach(v, i, e) {
		if (!json_is_string(e)) {
			json_decref(out);
			return NULL;
		}
		if (!plen || strncmp(json_string_value(e), prefix, plen) == 0)
			json_array_append(out, e);
	}
	return out;
}

/* The claim a target reads: auth.claims, else the defaults (which may
 * name a fallback). */
static const json_t *claim_for(const tg_gw_auth_conf *a, const json_t *claims, const char *target)
{
	const char *name = json_string_value(json_object_get(a->claims, target));
	const json_t *v;

	if (name)
		return json_object_get(claims, name);
	if (strcmp(target, "principal.id") == 0)
		return json_object_get(claims, "sub");
	if (strcmp(target, "principal.roles") == 0)
		return json_object_get(claims, "groups");
	if (strcmp(target, "token.scopes") == 0)
		return (v = json_object_get(claims, "scope")) ? v : json_object_get(claims, "scp");
	if (strcmp(target, "token.client_id") == 0)
		return (v = json_object_get(claims, "client_id")) ? v
								  : json_object_get(claims, "azp");
	return NULL;
}

static json_t *object_of(tg_mcp_identity *id, const char *target, const char **key)
{
	const char *dot = strchr(target, '.');

	*key = dot ? dot + 1 : target;
	if (strncmp(target, "principal.", 10) == 0)
		return id->principal;
	if (strncmp(target, "token.", 6) == 0)
		return id->token;
	return id->context;
}

int tg_gw_claims_identity(const tg_gw_auth_conf *a, const json_t *claims, const tg_gw_peer *peer,
			  tg_mcp_identity *id, char *why, size_t whylen)
{
	static const char *const builtin[] = {"principal.id", "principal.roles", "token.scopes",
					      "token.client_id"};
	const char *k, *key;
	json_t *v, *obj;
	const json_t *c;
	size_t i;

	if (!id->principal)
		id->principal = json_object();
	if (!id->token)
		id->token = json_object();
	if (!id->context)
		id->context = json_object();
	if (!id->principal || !id->token || !id->context)
		goto oom;
	json_object_foreach((json_t *)claims, k, v)
		if (strcmp(k, "scope") != 0 && strcmp(k, "scp") != 0 &&
		    json_object_set(id->token, k, v) != 0)
			goto oom;
	for (i = 0; i < sizeof builtin / sizeof builtin[0]; i++) {
		const char *t = builtin[i];

		c = claim_for(a, claims, t);
		obj = object_of(id, t, &key);
		json_object_del(obj, key);
		if (!c) {
			if (i == 0) {
				snprintf(why, whylen, "the token names no subject");
				return -1;
			}
			continue;
		}
		if (i == 0) {
			size_t n = json_string_length(c);

			if (!json_is_string(c) || n == 0 || n >= sizeof(((tg_gw_session *)0)->principal)) {
				snprintf(why, whylen, "the token's subject is not a usable string");
				return -1;
			}
			v = json_incref((json_t *)c);
		} else if (i == 3) {
			if (!json_is_string(c)) {
				snprintf(why, whylen, "the token's client id is not a string");
				return -1;
			}
			v = json_incref((json_t *)c);
		} else {
			v = string_list(c, i == 1 ? a->roles_prefix : NULL);
			if (!v) {
				snprintf(why, whylen, "the token's %s claim is not a list of strings",
					 i == 1 ? "roles" : "scope");
				return -1;
			}
		}
		if (json_object_set_new(obj, key, v) != 0)
			goto oom;
	}
	json_object_foreach(a->claims, k, v) {
		bool done = false;

		for (i = 0; i < sizeof builtin / sizeof builtin[0]; i++)
			done |= strcmp(k, builtin[i]) == 0;
		if (done || !(c = json_object_get(claims, json_string_value(v))))
			continue;
		obj = object_of(id, k, &key);
		if (json_object_set(obj, key, (json_t *)c) != 0)
			goto oom;
	}
	if (peer && peer->header)
		json_object_foreach(a->headers, k, v) {
			const char *h = peer->header(peer->header_ud, json_string_value(v));

			if (h && json_object_set_new(id->context, k, json_string(h)) != 0)
				goto oom;
		}
	return 0;
oom:
	snprintf(why, whylen, "out of memory");
	return -1;
}
