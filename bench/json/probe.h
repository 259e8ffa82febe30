/*
 * probe.h - what a parser made of one hostile input, for the strictness
 * table (json_parsers.c strict), and the C face of simdjson_wrap.cpp.
 */
#ifndef JSONBENCH_PROBE_H
#define JSONBENCH_PROBE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum pv_kind { PV_NONE, PV_OBJ, PV_ARR, PV_STR, PV_INT, PV_UINT, PV_REAL, PV_BOOL, PV_NULL, PV_OTHER /* toolgate's type other */ };

/* The value found at a key path after an accepted parse. */
struct pv {
	int kind;
	int64_t i;
	uint64_t u;
	double d;
	size_t slen;            /* string length in bytes (as the library reports it) */
	unsigned char s[24];    /* its first bytes */
	int dups;               /* members (or events) with the last key of the path */
	int trailing;           /* 1: the library stopped before the end of the text */
	size_t end;             /* where it stopped, when trailing and known */
};

/* simdjson, via simdjson_wrap.cpp. Every buf here has at least
 * SJ_PADDING readable bytes past len (cap >= len + SJ_PADDING). */
#define SJ_PADDING 64
void *sj_dom_new(void);
void sj_dom_free(void *p);
int sj_dom_parse(void *p, const char *buf, size_t len);           /* padded buffer, no copy */
int sj_dom_parse_copy(void *p, const char *buf, size_t len);      /* padded_string copy per doc */
void *sj_od_new(void);
void sj_od_free(void *p);
int sj_od_walk(void *p, const char *buf, size_t len, size_t cap); /* iterate every value + at_end */
const char *sj_active_impl(void);  /* the kernel libsimdjson picked for this CPU */

/* 1 accepted (*out filled), 0 rejected (err filled). */
int sj_dom_probe(const char *buf, size_t len, const char *const *path, int npath,
		 struct pv *out, char *err, size_t errlen);
int sj_od_probe(const char *buf, size_t len, size_t cap, const char *const *path, int npath,
		struct pv *out, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
