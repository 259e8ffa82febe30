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

#endif
