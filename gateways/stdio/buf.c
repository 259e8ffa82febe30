/*
 * buf.c - byte queues and the line splitter of `toolgate proxy`.
 *
 * A queue is one buffer with a read offset; space before the offset is
 * reclaimed when the queue empties or when appending would otherwise grow
 * it. The splitter keeps at most `max` bytes of an unfinished line: past
 * that it drops bytes until the next newline and reports the line once as
 * oversized, so a peer that never sends a newline costs bounded memory.
 */
#include <stdlib.h>
#include <string.h>

#include "proxy.h"

int tg_px_buf_add(tg_px_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return 0;
	if (b->off > 0 && b->len + n > b->cap) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *grown;

		while (cap < b->len + n)
			cap *= 2;
		grown = realloc(b->data, cap);
		if (!grown)
			return -1;
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

size_t tg_px_buf_size(const tg_px_buf *b)
{
	return b->len - b->off;
}

const char *tg_px_buf_head(const tg_px_buf *b)
{
	return b->data ? b->data + b->off : "";
}

void tg_px_buf_drop(tg_px_buf *b, size_t n)
{
	b->off += n;
	if (b->off >= b->len)
		b->off = b->len = 0;
}

void tg_px_buf_free(tg_px_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}

int tg_px_lines_feed(tg_px_lines *l, const char *p, size_t n, const tg_px_line_sink *sink)
{
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;

		if (l->discarding) {
			/* Skipping the rest of an oversized line. */
		} else if (tg_px_buf_size(&l->pending) + take > l->max) {
			tg_px_buf *b = &l->pending;

			/* Its first bytes, up to the limit, for an id to answer. */
			if (tg_px_buf_add(b, p, l->max - tg_px_buf_size(b)) != 0)
				return -1;
			sink->oversized(sink->ud, b->data + b->off, tg_px_buf_size(b));
			tg_px_buf_drop(b, tg_px_buf_size(b));
			l->discarding = true;
		} else if (nl && tg_px_buf_size(&l->pending) == 0) {
			/* The common case: a whole line in the read buffer. */
			sink->line(sink->ud, p, take);
		} else {
			if (tg_px_buf_add(&l->pending, p, take) != 0)
				return -1;
			if (nl) {
				tg_px_buf *b = &l->pending;

				sink->line(sink->ud, b->data + b->off, tg_px_buf_size(b));
				tg_px_buf_drop(b, tg_px_buf_size(b));
			}
		}
		if (!nl)
			break;
		l->discarding = false;
		p = nl + 1;
		n -= take + 1;
	}
	return 0;
}

void tg_px_lines_finish(tg_px_lines *l, const tg_px_line_sink *sink)
{
	tg_px_buf *b = &l->pending;

	if (!l->discarding && tg_px_buf_size(b) > 0)
		sink->line(sink->ud, b->data + b->off, tg_px_buf_size(b));
	tg_px_buf_drop(b, tg_px_buf_size(b));
	l->discarding = false;
}

void tg_px_lines_free(tg_px_lines *l)
{
	tg_px_buf_free(&l->pending);
}
