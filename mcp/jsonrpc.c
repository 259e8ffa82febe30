/*
 * jsonrpc.c - one line of newline-delimited JSON-RPC to one checked
 * message.
 *
 * The line is parsed exactly once, by jansson with JSON_REJECT_DUPLICATES,
 * and the proxy decides on that tree; what it forwards is the same line,
 * byte for byte. Anything that a second reader could read differently is
 * refused here rather than interpreted: duplicate keys, invalid UTF-8, NUL
 * bytes, batches (a JSON array holding several messages), a method that is
 * not a string, an id that is not a string or an integer.
 *
 * When a line is refused, the requester should still get an answer if it
 * can be found: a batch that parses without the duplicate check has its
 * requests' ids collected; any other line has its top level scanned
 * (idscan.c), which finds an id also in lines no parser accepts (invalid
 * UTF-8, a lone surrogate, a NUL escape). Neither decides anything; the
 * line is dropped whatever they say.
 *
 * tg_rpc_response_ok is the one exception to the tree: a response made of
 * nothing jansson could read otherwise (strings, ints, literals) is checked
 * by the request reader's lexer, whose checks include every one made here,
 * so a forwarder can pass a plain answer on without building its tree.
 */
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "json_events.h"
#include "request_json.h"
#include "utf8.h"

/* NUL is refused with invalid UTF-8: a C reader downstream would stop at it. */
static bool utf8_ok(const unsigned char *s, size_t len, size_t *bad)
{
	size_t i, n;

	for (i = 0; i < len; i += n) {
		n = s[i] ? tg_utf8_len(s + i, len - i) : 0;
		if (n == 0) {
			*bad = i;
			return false;
		}
	}
	return true;
}

/* jansson cannot hold the number (an integer past int64, a real past
 * double). */
static bool number_range(const json_error_t *e)
{
	return json_error_code(e) == json_error_numeric_overflow;
}

static bool valid_id(const json_t *id)
{
	return id && (json_is_string(id) || json_is_integer(id));
}

char *tg_rpc_id_key(const json_t *id)
{
	return json_dumps(id, JSON_COMPACT | JSON_ENCODE_ANY);
}

bool tg_rpc_is_lifecycle(const char *method)
{
	return strcmp(method, "initialize") == 0 || strcmp(method, "ping") == 0 ||
	       strcmp(method, "server/discover") == 0 ||
	       strncmp(method, "notifications/", 14) == 0;
}

static tg_rpc_result refuse(tg_rpc_error *err, int code, const char *kind, const char *what,
			    size_t col)
{
	err->code = code;
	err->kind = kind;
	if (col)
		snprintf(err->message, sizeof err->message, "%s at byte %zu", what, col);
	else
		snprintf(err->message, sizeof err->message, "%s", what);
	return TG_RPC_FRAME_ERROR;
}

/* Ids worth answering in a refused message (or in each batch element). */
static void collect_ids(const json_t *v, json_t *ids)
{
	size_t i;

	if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v); i++) {
			const json_t *e = json_array_get(v, i);

			/* Only elements that are requests: a response must not be
			 * answered. */
			if (json_is_object(e) && json_object_get(e, "method"))
				collect_ids(e, ids);
		}
		return;
	}
	if (json_is_object(v) && json_object_get(v, "method") &&
	    valid_id(json_object_get(v, "id")))
		json_array_append(ids, json_object_get(v, "id"));
}

/* The id a refused single message can be answered under: it must show a
 * method (a response is never answered) and exactly one well-formed id. */
static void scanned_id(const char *line, size_t len, json_t *ids)
{
	tg_rpc_scan_result r;
	json_t *id;

	tg_rpc_scan(line, len, &r);
	if (!r.method || !r.id_ok)
		return;
	id = json_loadb(line + r.id_off, r.id_len, JSON_DECODE_ANY, NULL);
	if (id)
		json_array_append_new(ids, id);
}

/* Whom a line no strict parse accepts can be answered, and what a lenient
 * parse reads in it, for the audit. */
static void lenient(const char *line, size_t len, tg_rpc_error *err)
{
	json_t *root = json_loadb(line, len, 0, NULL);

	if (err->reply_ids) {
		if (json_is_array(root))
			collect_ids(root, err->reply_ids);
		else
			scanned_id(line, len, err->reply_ids);
	}
	if (json_is_object(root))
		err->seen = json_incref(root);
	json_decref(root);
}

tg_rpc_result tg_rpc_parse(const char *line, size_t len, bool lenient_numbers, tg_rpc_msg *m,
			       tg_rpc_error *err)
{
	json_error_t jerr;
	json_t *root, *v;
	size_t bad = 0;

	memset(m, 0, sizeof *m);
	memset(err, 0, sizeof *err);
	if (tg_json_line_blank(line, len))
		return TG_RPC_FRAME_BLANK;
	err->reply_ids = json_array();
	if (!utf8_ok((const unsigned char *)line, len, &bad)) {
		lenient(line, len, err);
		return refuse(err, TG_RPC_PARSE_ERROR, "invalid_utf8", "invalid UTF-8 or a NUL byte",
			      bad + 1);
	}
	root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root && lenient_numbers && number_range(&jerr)) {
		root = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL,
				  &jerr);
		m->lossy = root != NULL;
	}
	if (!root) {
		lenient(line, len, err);
		if (json_error_code(&jerr) == json_error_duplicate_key)
			return refuse(err, TG_RPC_INVALID_REQUEST, "duplicate_key", "duplicate key",
				      (size_t)jerr.position);
		if (number_range(&jerr))
			return refuse(err, TG_RPC_INVALID_REQUEST, "number_range",
				      "a number is out of range", (size_t)jerr.position);
		return refuse(err, TG_RPC_PARSE_ERROR, "malformed", "malformed JSON",
			      (size_t)jerr.position);
	}
	if (json_is_array(root)) {
		if (err->reply_ids)
			collect_ids(root, err->reply_ids);
		json_decref(root);
		return refuse(err, TG_RPC_INVALID_REQUEST, "batch", "batches are not supported", 0);
	}
	if (!json_is_object(root)) {
		json_decref(root);
		return refuse(err, TG_RPC_INVALID_REQUEST, "not_object",
			      "a message must be a JSON object", 0);
	}
	m->root = root;
	err->seen = json_incref(root);
	if (err->reply_ids)
		collect_ids(root, err->reply_ids);
	v = json_object_get(root, "jsonrpc");
	if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0) {
		refuse(err, TG_RPC_INVALID_REQUEST, "not_jsonrpc", "\"jsonrpc\" must be \"2.0\"", 0);
		goto fail;
	}
	m->id = json_object_get(root, "id");
	if (m->lossy && json_is_real(m->id)) {
		/* Parsed with integers as reals: an integral id was an integer. */
		double d = json_real_value(m->id);

		if (d >= -9007199254740992.0 && d <= 9007199254740992.0 && d == (double)(json_int_t)d)
			json_object_set_new(root, "id", json_integer((json_int_t)d));
		m->id = json_object_get(root, "id");
	}
	if (m->id && !valid_id(m->id)) {
		refuse(err, TG_RPC_INVALID_REQUEST, "bad_id", "an id must be a string or an integer",
		       0);
		goto fail;
	}
	v = json_object_get(root, "method");
	if (v) {
		if (!json_is_string(v)) {
			refuse(err, TG_RPC_INVALID_REQUEST, "bad_method", "method must be a string", 0);
			goto fail;
		}
		m->method = json_string_value(v);
		if (strlen(m->method) != json_string_length(v)) {
			refuse(err, TG_RPC_INVALID_REQUEST, "bad_method", "method contains U+0000", 0);
			goto fail;
		}
		m->kind = m->id ? TG_RPC_REQUEST : TG_RPC_NOTIFICATION;
		v = json_object_get(root, "params");
		if (v && !json_is_object(v) && !json_is_array(v)) {
			refuse(err, TG_RPC_INVALID_REQUEST, "bad_params", "params must be an object", 0);
			goto fail;
		}
	} else {
		bool has_result = json_object_get(root, "result") != NULL;
		bool has_error = json_object_get(root, "error") != NULL;

		if (!m->id || has_result == has_error) {
			refuse(err, TG_RPC_INVALID_REQUEST, "bad_response",
			       "a response needs an id and exactly one of result and error", 0);
			goto fail;
		}
		m->kind = TG_RPC_RESPONSE;
	}
	if (m->id) {
		tg_rpc_scan_result r;

		/* Forwarding rewrites the id in place: the scanner must find
		 * the one id jansson read, or the line is not forwarded. */
		tg_rpc_scan(line, len, &r);
		if (r.nid != 1) {
			refuse(err, TG_RPC_INVALID_REQUEST, "bad_id", "the id cannot be located", 0);
			goto fail;
		}
		m->id_off = r.id_off;
		m->id_len = r.id_len;
		m->idkey = tg_rpc_id_key(m->id);
		if (!m->idkey) {
			refuse(err, TG_RPC_INVALID_REQUEST, "out_of_memory", "out of memory", 0);
			goto fail;
		}
	}
	tg_rpc_error_free(err);
	return TG_RPC_FRAME_OK;
fail:
	tg_rpc_msg_free(m);
	return TG_RPC_FRAME_ERROR;
}

bool tg_rpc_response_own_id(const char *line, size_t len, tg_rpc_scan_result *r, int64_t *own)
{
	const char *id;
	int64_t v = 0;
	size_t i;

	tg_rpc_scan(line, len, r);
	if (!r->complete || r->nid != 1 || !r->id_ok || r->method || r->result == r->error)
		return false;
	/* Ids the forwarder gives: 1 and up, in decimal, as jansson reads an
	 * integer. */
	id = line + r->id_off;
	if (r->id_len == 0 || r->id_len > 18 || id[0] < '1' || id[0] > '9')
		return false;
	for (i = 0; i < r->id_len; i++) {
		if (id[i] < '0' || id[i] > '9')
			return false;
		v = v * 10 + (id[i] - '0');
	}
	*own = v;
	return true;
}

bool tg_rpc_response_ok(const char *line, size_t len)
{
	tg_json_facts facts;

	/* The reader's checks include every one tg_rpc_parse makes of the text
	 * (UTF-8, NUL, duplicate keys, RFC 8259's grammar); a number that is
	 * not an int is left to jansson, whose range and lossy rules differ. */
	return tg_json_check(line, len, &facts) && facts.jsonrpc_20 && !facts.other_numbers;
}

void tg_rpc_error_free(tg_rpc_error *err)
{
	json_decref(err->reply_ids);
	json_decref(err->seen);
	err->reply_ids = err->seen = NULL;
}

void tg_rpc_msg_free(tg_rpc_msg *m)
{
	json_decref(m->root);
	free(m->idkey);
	memset(m, 0, sizeof *m);
}
