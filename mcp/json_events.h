/*
 * json_events.h - request text, read once by a strict lexer of its own, to the
 * request builder's events (request_build.h), with every check toolgate
 * applies to any JSON text: duplicate keys, strict UTF-8, escapes, U+0000,
 * numbers typed by DESIGN's rule.
 */
#ifndef TG_MCP_JSON_EVENTS_H
#define TG_MCP_JSON_EVENTS_H

#include <stdbool.h>
#include <stddef.h>

#include "request_build.h"

/* Feeds text[0..len) to b. False when reading stopped: the message is in
 * the builder. */
bool tg_json_events_parse(tg_rb *b, const char *text, size_t len);

/* What checking text without a builder noticed on the way. */
typedef struct tg_json_facts {
	bool jsonrpc_20;	/* the top-level object's "jsonrpc" is the string "2.0" */
	bool other_numbers;	/* some number is not an int by DESIGN's rule */
} tg_json_facts;

/* Whether text[0..len) is one JSON value the reader would read, every
 * check above included, nested at most TG_JSON_MAX_DEPTH deep; builds
 * nothing and says nothing about why not. */
bool tg_json_check(const char *text, size_t len, tg_json_facts *facts);

#endif
