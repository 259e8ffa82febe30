/*
 * identity.c - who is calling, as a pluggable step (gateway.h,
 * tg_gw_identity_step).
 *
 * Here: the configuration's fixed `identity:` block, for development: every
 * client on a loopback address is that identity, and anyone else is
 * refused with 403 (the configuration reader also refuses a fixed identity
 * on a non-loopback `listen`). The OAuth resource server (oauth.c: bearer
 * tokens, RFC 9728 metadata, audience checks) is the other step with the
 * same signature; exchange.c does not know which one it calls.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway.h"

static int fixed_identify(void *self, const tg_gw_peer *peer, tg_mcp_identity *out,
			  tg_gw_who *who)
{
	const tg_mcp_identity *id = self;

	if (!tg_gw_is_loopback(peer->addr)) {
		snprintf(who->why, sizeof who->why,
			 "the fixed development identity serves loopback clients only");
		return 403;
	}
	/* *out arrives initialised (empty objects): replaced, not leaked. */
	json_decref(out->principal);
	json_decref(out->token);
	json_decref(out->context);
	out->principal = json_incref(id->principal);
	out->token = json_incref(id->token);
	out->context = json_incref(id->context);
	return 0;
}

static void fixed_destroy(void *self)
{
	tg_mcp_identity *id = self;

	tg_mcp_identity_clear(id);
	free(id);
}

int tg_gw_identity_fixed(const json_t *identity, tg_gw_identity_step *out, char *err,
			 size_t errlen)
{
	tg_mcp_identity *id = malloc(sizeof *id);
	char *text;
	int rc;

	memset(out, 0, sizeof *out);
	if (!id || !(text = json_dumps(identity, JSON_COMPACT))) {
		free(id);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* The same reader as `proxy --identity FILE`, so both accept the
	 * same identities. */
	tg_mcp_identity_init(id);
	rc = tg_mcp_identity_merge_text(id, text, strlen(text), err, errlen);
	free(text);
	if (rc != 0) {
		fixed_destroy(id);
		return -1;
	}
	out->identify = fixed_identify;
	out->destroy = fixed_destroy;
	out->self = id;
	return 0;
}

void tg_gw_identity_destroy(tg_gw_identity_step *s)
{
	if (s->destroy)
		s->destroy(s->self);
	memset(s, 0, sizeof *s);
}
