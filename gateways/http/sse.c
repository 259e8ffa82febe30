/*
 * sse.c - text/event-stream, split into events as they arrive.
 *
 * An upstream's SSE answer is relayed event by event, never held whole: an
 * event is complete at its blank line (LF, CRLF or CR line ends, per the
 * HTML standard), and only then is its data looked at, so the one event that
 * carries a list result can be filtered and every other passes byte for
 * byte. One event is bounded (limits.max_response); a longer one ends the
 * stream rather than growing memory.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway.h"

/* Joins the values of the event's data lines with '\n'. */
static char *event_data(const char *raw, size_t len, size_t *out_len, char *id, size_t idcap)
{
	char *data = malloc(len + 1);
	size_t i = 0, n = 0;
	bool any = false;

	if (!data)
		return NULL;
	while (i < len) {
		size_t start = i, end;

		while (i < len && raw[i] != '\n' && raw[i] != '\r')
			i++;
		end = i;
		if (i < len && raw[i] == '\r' && i + 1 < len && raw[i + 1] == '\n')
			i++;
		if (i < len)
			i++;
		if (end - start >= 3 && memcmp(raw + start, "id:", 3) == 0) {
			size_t v = start + 3;

			if (v < end && raw[v] == ' ')
				v++;
			if (end - v < idcap) {
				memcpy(id, raw + v, end - v);
				id[end - v] = '\0';
			}
		}
		if (end - start >= 4 && memcmp(raw + start, "data", 4) == 0 &&
		    (end - start == 4 || raw[start + 4] == ':')) {
			size_t v = start + 4;

			if (v < end && raw[v] == ':')
				v++;
			if (v < end && raw[v] == ' ')
				v++;
			if (any)
				data[n++] = '\n';
			memcpy(data + n, raw + v, end - v);
			n += end - v;
			any = true;
		}
	}
	data[n] = '\0';
	*out_len = n;
	if (!any) {
		free(data);
		return NULL;
	}
	return data;
}

/* Where the event that starts at p ends (after its blank line), or 0. */
static size_t event_end(const char *p, size_t n, size_t from)
{
	size_t i;

	for (i = from; i < n; i++) {
		if (p[i] == '\n' && i + 1 < n && p[i + 1] == '\n')
			return i + 2;
		if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\r')
			return i + 2;
		if (p[i] == '\r' && i + 3 < n && p[i + 1] == '\n' && p[i + 2] == '\r' &&
		    p[i + 3] == '\n')
			return i + 4;
		if (p[i] == '\n' && i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

int tg_gw_sse_feed(tg_gw_sse *s, const char *p, size_t n,
		   void (*event)(void *ud, const tg_gw_sse_event *e), void *ud)
{
	if (s->too_large)
		return -1;
	if (tg_px_buf_add(&s->raw, p, n) != 0)
		return -1;
	for (;;) {
		const char *base = tg_px_buf_head(&s->raw);
		size_t avail = tg_px_buf_size(&s->raw);
		size_t end = event_end(base, avail, s->scanned > 3 ? s->scanned - 3 : 0);
		tg_gw_sse_event e;

		if (!end) {
			s->scanned = avail;
			if (avail > s->max) {
				s->too_large = true;
				return -1;
			}
			return 0;
		}
		if (end > s->max) {	/* it came whole in one piece, still too long */
			s->too_large = true;
			return -1;
		}
		memset(&e, 0, sizeof e);
		e.raw = base;
		e.raw_len = end;
		e.data = event_data(base, end, &e.data_len, e.id, sizeof e.id);
		event(ud, &e);
		free(e.data);
		tg_px_buf_drop(&s->raw, end);
		s->scanned = 0;
	}
}

void tg_gw_sse_free(tg_gw_sse *s)
{
	tg_px_buf_free(&s->raw);
	memset(s, 0, sizeof *s);
}

int tg_gw_sse_data_event(tg_px_buf *b, const char *json, size_t len, const char *id)
{
	if (id && (tg_px_buf_add(b, "id: ", 4) != 0 || tg_px_buf_add(b, id, strlen(id)) != 0 ||
		   tg_px_buf_add(b, "\n", 1) != 0))
		return -1;
	if (tg_px_buf_add(b, "event: message\ndata: ", 21) != 0 ||
	    tg_px_buf_add(b, json, len) != 0 || tg_px_buf_add(b, "\n\n", 2) != 0)
		return -1;
	return 0;
}
