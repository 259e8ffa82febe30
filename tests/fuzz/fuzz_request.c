/*
 * fuzz_request.c - request JSON through the CLI's request reader and the
 * runtime, against a fixed policy.
 *
 * A request the reader accepts must also pass the runtime's own validity
 * check (the two must agree on what is invalid), evaluate to a well-formed
 * decision and render as JSON and as an audit line. A request it refuses
 * must come with an "invalid request: " message. Text the jansson tree
 * reader also accepts must be read the same way through
 * tg_json_request_from_json (one builder serves both).
 */
#include "decision.h"
#include "fuzz.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "request_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const tg_policy *p = tg_fuzz_fixed_policy();
	tg_json_request r;
	char err[256];
	char audit[512];

	err[0] = 0;
	int rc = tg_json_request_parse(p, (const char *)data, size, &r, err, sizeof err);
	/* A raw NUL byte is never valid request text. jansson can read past
	 * one, but no tree the tree path is given comes from such text (the
	 * proxy's framing and the YAML reader refuse NUL first), so text with
	 * one is only checked to be refused. */
	bool nul = memchr(data, 0, size) != NULL;
	if (nul && rc == 0)
		tg_fuzz_fail("the reader accepted text with a raw NUL byte");
	json_t *root = size <= TG_JSON_MAX_BODY && !nul
			       ? json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL)
			       : NULL;
	if (root) {
		tg_json_request t;
		char terr[256];
		int trc = tg_json_request_from_json(p, root, &t, terr, sizeof terr);
		if (trc != rc)
			tg_fuzz_fail("text and tree disagree: text %d '%s', tree %d '%s'", rc, err,
				     trc, terr);
		if (rc == 0) {
			char a[65], b[65];
			tg_request_digest(&r.req, a);
			tg_request_digest(&t.req, b);
			if (strcmp(a, b) != 0)
				tg_fuzz_fail("text and tree read different requests");
		}
		tg_json_request_free(&t);
		json_decref(root);
	}
	/* The same lexer frames the proxy's plain server answers: what it
	 * takes must be what tg_rpc_parse takes, read alike. */
	tg_rpc_scan_result sr;
	int64_t own;
	if (tg_rpc_response_own_id((const char *)data, size, &sr, &own) &&
	    tg_rpc_response_ok((const char *)data, size)) {
		tg_rpc_msg m;
		tg_rpc_error e;
		if (tg_rpc_parse((const char *)data, size, true, &m, &e) != TG_RPC_FRAME_OK)
			tg_fuzz_fail("a plain answer read without a tree is refused by tg_rpc_parse");
		if (m.kind != TG_RPC_RESPONSE || m.lossy || !json_is_integer(m.id) ||
		    json_integer_value(m.id) != own || m.id_off != sr.id_off || m.id_len != sr.id_len)
			tg_fuzz_fail("a plain answer read without a tree reads otherwise in tg_rpc_parse");
		tg_rpc_msg_free(&m);
	}
	if (rc != 0) {
		if (strncmp(err, "invalid request: ", 17) != 0)
			tg_fuzz_fail("refused without an 'invalid request: ' message: '%s'", err);
		tg_json_request_free(&r);
		return 0;
	}
	tg_decision d;
	tg_status st = tg_eval(p, &r.req, &d);
	tg_fuzz_check_decision(p, st, &d);
	if (st == TG_EINVALID_REQUEST)
		tg_fuzz_fail("the reader accepted a request the runtime calls invalid: %s", d.reason);
	char *json = tg_decision_to_json(&d);
	if (!json || json[0] != '{')
		tg_fuzz_fail("decision JSON missing");
	free(json);
	size_t need = tg_audit_format(p, &r.req, &d, 0, audit, sizeof audit);
	if (need < sizeof audit && strlen(audit) != need)
		tg_fuzz_fail("audit length mismatch");
	tg_entry e;
	bool vis;
	tg_entry_init(&e);
	e.kind = TG_ENTRY_TOOL;
	e.name = r.req.target.ptr ? r.req.target : (tg_str){ "x", 1 };
	e.destructive = TG_HINT_TRUE;
	e.open_world = TG_HINT_TRUE;
	e.read_only = TG_HINT_FALSE;
	e.idempotent = TG_HINT_FALSE;
	st = tg_visible(p, &r.req, &e, &vis);
	if (st != TG_OK && st != TG_EINVALID_REQUEST)
		tg_fuzz_fail("tg_visible returned %s", tg_strerror(st));
	tg_json_request_free(&r);
	return 0;
}
