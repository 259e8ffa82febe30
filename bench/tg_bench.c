/*
 * tg_bench.c - runtime benchmarks (bench/README.md says how to run them and
 * bench/RESULTS.md what they gave).
 *
 * Every request goes through the same door a server uses: JSON text parsed
 * by mcp/request_json into a tg_request, then tg_eval. Requests are parsed
 * once up front so "decision" timings measure tg_eval alone; the "json"
 * timings add the parse (and its frees) back, which is the real-server path.
 *
 * Timing model. A decision takes tens of nanoseconds, below what one
 * clock_gettime pair resolves well, so:
 *   - per-request cost: each request is evaluated BATCH times in a row and
 *     timed as one; the best of ROUNDS such batches (the least disturbed by
 *     the other tenants of a shared machine) is that request's cost; median
 *     and p99 are taken over the requests. Repeating one request keeps its
 *     branches predicted: this is the warm cost;
 *   - stream cost: the whole request list, once each in file order, timed
 *     as one, best of ROUNDS: branch predictors see the mix a server sees.
 * Allocations are counted by defining malloc/calloc/realloc here, as the
 * runtime's no-allocation test does.
 *
 * Subcommands (each prints one block of `name: value` lines, or with --json
 * one JSON object):
 *   scenario POLICY.tg REQUESTS.jsonl [--decisions OUT] [--json]
 *   suite SUITE.yaml                 example policy with its suite's requests
 *   gen POLICY.tg NRULES COUNT       a bench/gen-policy policy, synthetic requests
 *   compile POLICY.tg                compile and load+verify times, bytes per rule
 *   visible POLICY.tg TOOLS.jsonl REQUESTS.jsonl   tg_visible, then tg_visible_many, over
 *                                    the catalogue
 *   threads POLICY.tg REQUESTS.jsonl two threads sharing one policy vs one
 *   once POLICY.tg REQUESTS.jsonl    tg_eval once per request (for callgrind)
 *   floor 50|4960 POLICY.tg REQUESTS.jsonl   toolgate's stream figure against the
 *                                    hand-written floor (bench/floor/), decisions compared
 *   floor-once 50|4960 REQUESTS.jsonl   the floor once per request (for callgrind)
 *   glob [--once] [CASE]             tg_glob_match: 512-byte globs over 64 KiB subjects
 *   sizes                            sizeof the evaluation state
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "decision.h"
#include "policy.h"
#include "cli.h"
#include "request_json.h"
#include "suite.h"
#include "vm.h"
#ifdef TG_BENCH_FLOOR
#include "floor.h"
#endif

#define ROUNDS 7
#define BATCH 16

/* ---- allocation counting ---------------------------------------------------- */

#if defined(__SANITIZE_ADDRESS__)
#define BENCH_NO_MALLOC_HOOK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BENCH_NO_MALLOC_HOOK 1
#endif
#endif

static volatile int counting;
static volatile long nallocs;

#ifndef BENCH_NO_MALLOC_HOOK
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);

void *malloc(size_t n)
{
	if (counting)
		nallocs++;
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
	if (counting)
		nallocs++;
	return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
	if (counting)
		nallocs++;
	return __libc_realloc(p, n);
}
#endif

/* ---- helpers -------------------------------------------------------------------- */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "tg-bench: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(2);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Sorts v and returns its q-quantile (nearest rank). */
static double quantile(double *v, size_t n, double q)
{
	qsort(v, n, sizeof *v, cmp_double);
	size_t i = (size_t)(q * (double)n + 0.5);
	if (i > 0)
		i--;
	return v[i < n ? i : n - 1];
}

static double min_of(const double *v, size_t n)
{
	double m = v[0];
	for (size_t i = 1; i < n; i++)
		if (v[i] < m)
			m = v[i];
	return m;
}

/*
 * Per-request times in stream order. One decision is about a hundred
 * nanoseconds, so each is timed with the time-stamp counter where there
 * is one (lfence keeps the decision's instructions between the two reads),
 * its own cost (the least of many empty pairs) taken off; elsewhere with
 * the clock, whose cost then dominates.
 */
#if defined(__x86_64__) || defined(__i386__)
static inline uint64_t ticks(void)
{
	_mm_lfence();
	uint64_t t = __rdtsc();
	_mm_lfence();
	return t;
}
#else
static inline uint64_t ticks(void)
{
	return now_ns();
}
#endif

typedef struct tick_scale {
	double ns_per_tick;
	uint64_t overhead;	/* ticks of an empty pair */
} tick_scale;

static tick_scale tick_calibrate(void)
{
	tick_scale ts = { 1.0, UINT64_MAX };
	for (int i = 0; i < 100000; i++) {
		uint64_t a = ticks(), b = ticks();
		if (b - a < ts.overhead)
			ts.overhead = b - a;
	}
	uint64_t t0 = now_ns(), k0 = ticks(), t1, k1;
	do {
		t1 = now_ns();
		k1 = ticks();
	} while (t1 - t0 < 20000000u);
	ts.ns_per_tick = (double)(t1 - t0) / (double)(k1 - k0);
	return ts;
}

/* best[i] (ticks, the least over passes) as ns, and their p99. */
static double stream_p99(const tick_scale *ts, const uint64_t *best, size_t n)
{
	double *ns = malloc((n ? n : 1) * sizeof *ns), q;
	if (!ns)
		die("out of memory", NULL);
	for (size_t i = 0; i < n; i++)
		ns[i] = (double)(best[i] > ts->overhead ? best[i] - ts->overhead : 0) *
			ts->ns_per_tick;
	q = n ? quantile(ns, n, 0.99) : 0.0;
	free(ns);
	return q;
}

/* Keeps the compiler from dropping a decision nobody reads. */
static volatile unsigned sink;

/* ---- inputs ---------------------------------------------------------------- */

typedef struct reqset {
	size_t n, cap;
	char **text;		/* the JSON lines */
	size_t *len;
	tg_json_request *jr;	/* parsed */
} reqset;

static void reqs_add(reqset *rs, const char *text, size_t len)
{
	if (rs->n == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 256;
		rs->text = realloc(rs->text, rs->cap * sizeof *rs->text);
		rs->len = realloc(rs->len, rs->cap * sizeof *rs->len);
		if (!rs->text || !rs->len)
			die("out of memory", NULL);
	}
	rs->text[rs->n] = malloc(len + 1);
	if (!rs->text[rs->n])
		die("out of memory", NULL);
	memcpy(rs->text[rs->n], text, len);
	rs->text[rs->n][len] = 0;
	rs->len[rs->n] = len;
	rs->n++;
}

static void reqs_read(reqset *rs, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	if (!f)
		die("cannot open", path);
	while ((got = getline(&line, &cap, f)) > 0) {
		while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r'))
			got--;
		if (got == 0 || line[0] == '#')
			continue;
		reqs_add(rs, line, (size_t)got);
	}
	free(line);
	fclose(f);
}

static void reqs_parse(reqset *rs, const tg_policy *p)
{
	char err[256];
	rs->jr = calloc(rs->n ? rs->n : 1, sizeof *rs->jr);
	if (!rs->jr)
		die("out of memory", NULL);
	for (size_t i = 0; i < rs->n; i++)
		if (tg_json_request_parse(p, rs->text[i], rs->len[i], &rs->jr[i], err, sizeof err))
			die("bad request", err);
}

/* One pass of the stream with each decision timed alone: best[i] keeps
 * request i's least ticks. */
static void pass_each(const tg_policy *p, const reqset *rs, uint64_t *best)
{
	tg_decision d;
	for (size_t i = 0; i < rs->n; i++) {
		uint64_t t0 = ticks();
		tg_eval(p, &rs->jr[i].req, &d);
		uint64_t t = ticks() - t0;
		sink += d.effect;
		best[i] = t < best[i] ? t : best[i];
	}
}

static void reqs_free(reqset *rs)
{
	for (size_t i = 0; i < rs->n; i++) {
		free(rs->text[i]);
		if (rs->jr)
			tg_json_request_free(&rs->jr[i]);
	}
	free(rs->text);
	free(rs->len);
	free(rs->jr);
	memset(rs, 0, sizeof *rs);
}

static tg_policy *load_policy(const char *path, size_t *bytes)
{
	unsigned char *bc;
	size_t len;
	tg_policy *p;
	tg_load_diag le;
	if (tg_drv_compile_file(path, false, &bc, &len) != TG_EXIT_OK)
		die("cannot compile", path);
	if (tg_policy_load_diag(bc, len, &p, &le) != TG_OK)
		die("cannot load", le.reason);
	free(bc);
	if (bytes)
		*bytes = len;
	return p;
}

/* ---- measurements -------------------------------------------------------------- */

typedef struct result {
	double median, p99, stream, stream_p99, json, json_p99, tree, tree_p99;
	double allocs_per_decision;
	size_t n, allowed;
} result;

static void measure(const tg_policy *p, reqset *rs, result *out)
{
	size_t n = rs->n;
	double *per = malloc(n * sizeof *per), rounds[ROUNDS];
	tg_decision d;
	if (!per)
		die("out of memory", NULL);
	memset(out, 0, sizeof *out);
	out->n = n;

	/* Warm-up, decisions and the allocation count. */
	nallocs = 0;
	counting = 1;
	for (size_t i = 0; i < n; i++) {
		tg_eval(p, &rs->jr[i].req, &d);
		out->allowed += d.effect == TG_ALLOW;
	}
	counting = 0;
	out->allocs_per_decision = (double)nallocs / (double)n;

	for (size_t i = 0; i < n; i++) {
		const tg_request *rq = &rs->jr[i].req;
		for (int r = 0; r < ROUNDS; r++) {
			uint64_t t0 = now_ns();
			for (int k = 0; k < BATCH; k++) {
				tg_eval(p, rq, &d);
				sink += d.effect;
			}
			rounds[r] = (double)(now_ns() - t0) / BATCH;
		}
		per[i] = min_of(rounds, ROUNDS);
	}
	out->median = quantile(per, n, 0.5);
	out->p99 = quantile(per, n, 0.99);

	for (int r = 0; r < ROUNDS; r++) {
		uint64_t t0 = now_ns();
		for (size_t i = 0; i < n; i++) {
			tg_eval(p, &rs->jr[i].req, &d);
			sink += d.effect;
		}
		rounds[r] = (double)(now_ns() - t0) / (double)n;
	}
	out->stream = min_of(rounds, ROUNDS);

	/* The stream again, each decision timed alone: its p99 over the
	 * requests, each request's least over the passes. */
	tick_scale ts = tick_calibrate();
	uint64_t *best = malloc((n ? n : 1) * sizeof *best);
	if (!best)
		die("out of memory", NULL);
	for (size_t i = 0; i < n; i++)
		best[i] = UINT64_MAX;
	for (int r = 0; r < ROUNDS; r++)
		pass_each(p, rs, best);
	out->stream_p99 = stream_p99(&ts, best, n);
	free(best);

	/* The real-server path: text -> tg_request -> decision. */
	char err[256];
	for (size_t i = 0; i < n; i++) {
		for (int r = 0; r < 3; r++) {
			tg_json_request jr;
			uint64_t t0 = now_ns();
			if (tg_json_request_parse(p, rs->text[i], rs->len[i], &jr, err, sizeof err))
				die("bad request", err);
			tg_eval(p, &jr.req, &d);
			tg_json_request_free(&jr);
			rounds[r] = (double)(now_ns() - t0);
			sink += d.effect;
		}
		per[i] = min_of(rounds, 3);
	}
	out->json_p99 = quantile(per, n, 0.99);
	out->json = quantile(per, n, 0.5);

	/* The reader before yajl, for comparison in the same run: jansson
	 * parses the text into a tree (rejecting duplicates) and the tree is
	 * read into the request (tg_json_request_from_json), then tg_eval. */
	for (size_t i = 0; i < n; i++) {
		for (int r = 0; r < 3; r++) {
			tg_json_request jr;
			uint64_t t0 = now_ns();
			json_t *root = json_loadb(rs->text[i], rs->len[i], JSON_REJECT_DUPLICATES, NULL);
			if (!root || tg_json_request_from_json(p, root, &jr, err, sizeof err))
				die("bad request", err);
			tg_eval(p, &jr.req, &d);
			tg_json_request_free(&jr);
			json_decref(root);
			rounds[r] = (double)(now_ns() - t0);
			sink += d.effect;
		}
		per[i] = min_of(rounds, 3);
	}
	out->tree_p99 = quantile(per, n, 0.99);
	out->tree = quantile(per, n, 0.5);
	free(per);
}

static void print_result(const char *name, const result *r, size_t nrules, size_t bytes)
{
	printf("%-28s rules %6zu  requests %5zu  allowed %5zu  median %7.1f ns  p99 %7.1f ns  "
	       "stream %7.1f ns (p99 %6.1f)  json+eval median %7.0f ns (p99 %7.0f)  allocs/decision %.2f  "
	       "bytes/rule %.0f  jansson+eval median %7.0f ns (p99 %7.0f)\n",
	       name, nrules, r->n, r->allowed, r->median, r->p99, r->stream, r->stream_p99, r->json,
	       r->json_p99,
	       r->allocs_per_decision, nrules ? (double)bytes / (double)nrules : 0.0, r->tree, r->tree_p99);
	fflush(stdout);
}

static int cmd_scenario(int argc, char **argv)
{
	const char *decisions = NULL;
	bool json = false;
	if (argc < 3)
		die("usage: tg-bench scenario POLICY.tg REQUESTS.jsonl [--decisions OUT] [--json]", NULL);
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--decisions") == 0 && i + 1 < argc)
			decisions = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else
			die("unknown option", argv[i]);
	}
	uint64_t t0 = now_ns();
	size_t bytes;
	tg_policy *p = load_policy(argv[1], &bytes);
	double compile_ms = (double)(now_ns() - t0) / 1e6;

	/* load+verify alone, from the bytecode */
	unsigned char *bc;
	size_t len;
	double lv[ROUNDS];
	if (tg_drv_compile_file(argv[1], false, &bc, &len) != TG_EXIT_OK)
		die("cannot compile", argv[1]);
	for (int r = 0; r < ROUNDS; r++) {
		tg_policy *q;
		uint64_t s = now_ns();
		if (tg_policy_load(bc, len, &q, NULL) != TG_OK)
			die("cannot load", argv[1]);
		lv[r] = (double)(now_ns() - s) / 1e6;
		tg_policy_free(q);
	}
	free(bc);

	reqset rs = { 0 };
	reqs_read(&rs, argv[2]);
	reqs_parse(&rs, p);
	result res;
	measure(p, &rs, &res);
	if (decisions) {
		FILE *f = fopen(decisions, "w");
		if (!f)
			die("cannot write", decisions);
		for (size_t i = 0; i < rs.n; i++) {
			tg_decision d;
			tg_eval(p, &rs.jr[i].req, &d);
			fprintf(f, "%s\n", d.effect == TG_ALLOW ? "allow" : "deny");
		}
		fclose(f);
	}
	size_t nrules = tg_policy_rule_count(p);
	if (json)
		printf("{\"rules\":%zu,\"requests\":%zu,\"allowed\":%zu,\"median_ns\":%.1f,"
		       "\"p99_ns\":%.1f,\"stream_ns\":%.1f,\"stream_p99_ns\":%.1f,\"json_ns\":%.0f,"
		       "\"compile_ms\":%.3f,\"load_ms\":%.3f,\"bytes\":%zu,\"allocs\":%.2f}\n",
		       nrules, res.n, res.allowed, res.median, res.p99, res.stream, res.stream_p99, res.json,
		       compile_ms, min_of(lv, ROUNDS), bytes, res.allocs_per_decision);
	else
		print_result(argv[1], &res, nrules, bytes);
	reqs_free(&rs);
	tg_policy_free(p);
	return 0;
}

static int cmd_suite(int argc, char **argv)
{
	tg_suite *s;
	if (argc < 2)
		die("usage: tg-bench suite SUITE.yaml", NULL);
	if (tg_suite_load(argv[1], stderr, &s) != TG_SUITE_OK)
		die("cannot read suite", argv[1]);
	size_t bytes;
	tg_policy *p = load_policy(s->policy_path, &bytes);
	reqset rs = { 0 };
	for (size_t i = 0; i < s->ncases; i++) {
		if (s->cases[i].kind != TG_CASE_REQUEST)
			continue;
		char *text = json_dumps(s->cases[i].request, JSON_COMPACT);
		tg_json_request jr;
		char err[256];
		memset(&jr, 0, sizeof jr);
		/* Suites test invalid requests too; time only the valid ones. */
		if (text && tg_json_request_parse(p, text, strlen(text), &jr, err, sizeof err) == 0 &&
		    tg_request_check(&jr.req, NULL) == TG_OK)
			reqs_add(&rs, text, strlen(text));
		tg_json_request_free(&jr);
		free(text);
	}
	reqs_parse(&rs, p);
	result res;
	measure(p, &rs, &res);
	const char *base = strrchr(s->policy_path, '/');
	print_result(base ? base + 1 : s->policy_path, &res, tg_policy_rule_count(p), bytes);
	reqs_free(&rs);
	tg_policy_free(p);
	tg_suite_free(s);
	return 0;
}

/* xorshift64*: the synthetic requests for bench/gen-policy policies. */
static uint64_t rnd_state = 0x9E3779B97F4A7C15u;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 2685821657736338717u;
}

static int cmd_gen(int argc, char **argv)
{
	static const char *const roles[] = { "guest", "reader", "engineer", "admin" };
	static const char *const envs[] = { "dev", "staging", "prod" };
	static const char *const tenants[] = { "acme", "globex" };
	if (argc < 4)
		die("usage: tg-bench gen POLICY.tg NRULES COUNT", NULL);
	size_t nrules = strtoul(argv[2], NULL, 10), count = strtoul(argv[3], NULL, 10);
	size_t bytes;
	tg_policy *p = load_policy(argv[1], &bytes);
	reqset rs = { 0 };
	char buf[1024], target[64];
	size_t ntools = nrules > 2 ? nrules - 2 : 1;
	for (size_t k = 0; k < count; k++) {
		size_t i = rnd() % ntools;
		unsigned pick = rnd() % 10;
		if (pick == 0)
			snprintf(target, sizeof target, "srv%zu.get_status", i / 10);
		else if (pick == 1)
			snprintf(target, sizeof target, "search_docs");
		else
			snprintf(target, sizeof target, "srv%zu.tool_%zu", i / 10, i);
		const char *tenant = tenants[rnd() % 2];
		int n = snprintf(buf, sizeof buf,
			 "{\"principal\":{\"id\":\"u%u\",\"roles\":[\"%s\"],\"tenant\":\"%s\"},"
			 "\"method\":\"tools/call\",\"target\":\"%s\",\"tool\":{\"destructive\":%s},"
			 "\"args\":{\"limit\":%u,\"path\":\"/srv/data/%zu/%s\"},"
			 "\"context\":{\"environment\":\"%s\",\"tenant\":\"%s\",\"mfa\":%s}}",
			 (unsigned)(rnd() % 100), roles[rnd() % 4], tenant, target,
			 rnd() % 3 ? "false" : "true", (unsigned)(rnd() % 2000),
			 rnd() % 2 ? i : i + 1, rnd() % 8 ? "file.txt" : "../etc/passwd",
			 envs[rnd() % 3], rnd() % 10 ? tenant : "other", rnd() % 2 ? "true" : "false");
		reqs_add(&rs, buf, (size_t)n);
	}
	reqs_parse(&rs, p);
	result res;
	measure(p, &rs, &res);
	char name[64];
	snprintf(name, sizeof name, "gen-policy %zu", nrules);
	print_result(name, &res, tg_policy_rule_count(p), bytes);
	reqs_free(&rs);
	tg_policy_free(p);
	return 0;
}

static int cmd_compile(int argc, char **argv)
{
	double c[ROUNDS], lv[ROUNDS];
	unsigned char *bc = NULL;
	size_t len = 0;
	if (argc < 2)
		die("usage: tg-bench compile POLICY.tg", NULL);
	int rounds = 3;
	for (int r = 0; r < rounds; r++) {
		free(bc);
		uint64_t t0 = now_ns();
		if (tg_drv_compile_file(argv[1], false, &bc, &len) != TG_EXIT_OK)
			die("cannot compile", argv[1]);
		c[r] = (double)(now_ns() - t0) / 1e6;
	}
	tg_policy *p = NULL;
	for (int r = 0; r < ROUNDS; r++) {
		tg_load_diag le;
		tg_policy_free(p);
		uint64_t t0 = now_ns();
		if (tg_policy_load_diag(bc, len, &p, &le) != TG_OK)
			die("cannot load", le.reason);
		lv[r] = (double)(now_ns() - t0) / 1e6;
	}
	size_t nrules = tg_policy_rule_count(p);
	printf("%-28s rules %6zu  compile %8.2f ms  load+verify %7.3f ms  bytecode %zu bytes "
	       "(%.0f bytes/rule)\n",
	       argv[1], nrules, min_of(c, rounds), min_of(lv, ROUNDS), len,
	       (double)len / (double)(nrules ? nrules : 1));
	tg_policy_free(p);
	free(bc);
	return 0;
}

/* A tiny reader for the catalogue lines scenario.mjs writes:
 * {"name":"x","server":"s"|null,"destructive":true|false}. */
static bool json_field(const char *line, const char *key, char *out, size_t cap)
{
	char pat[64];
	snprintf(pat, sizeof pat, "\"%s\":", key);
	const char *s = strstr(line, pat);
	if (!s)
		return false;
	s += strlen(pat);
	size_t n = 0;
	if (*s == '"') {
		s++;
		while (*s && *s != '"' && n + 1 < cap)
			out[n++] = *s++;
	} else {
		while (*s && *s != ',' && *s != '}' && n + 1 < cap)
			out[n++] = *s++;
	}
	out[n] = 0;
	return true;
}

static int cmd_visible(int argc, char **argv)
{
	if (argc < 4)
		die("usage: tg-bench visible POLICY.tg TOOLS.jsonl REQUESTS.jsonl", NULL);
	tg_policy *p = load_policy(argv[1], NULL);
	reqset tools = { 0 }, rs = { 0 };
	reqs_read(&tools, argv[2]);
	reqs_read(&rs, argv[3]);
	reqs_parse(&rs, p);
	size_t n = tools.n < 1000 ? tools.n : 1000;
	tg_entry *e = calloc(n, sizeof *e);
	char (*names)[96] = calloc(n, sizeof *names), (*servers)[64] = calloc(n, sizeof *servers);
	if (!e || !names || !servers)
		die("out of memory", NULL);
	for (size_t i = 0; i < n; i++) {
		char d[16];
		tg_entry_init(&e[i]);
		e[i].kind = TG_ENTRY_TOOL;
		json_field(tools.text[i], "name", names[i], sizeof names[i]);
		e[i].name.ptr = names[i];
		e[i].name.len = strlen(names[i]);
		if (json_field(tools.text[i], "server", servers[i], sizeof servers[i]) &&
		    strcmp(servers[i], "null") != 0) {
			e[i].server.ptr = servers[i];
			e[i].server.len = strlen(servers[i]);
		}
		json_field(tools.text[i], "destructive", d, sizeof d);
		bool destr = strcmp(d, "true") == 0;
		e[i].destructive = destr ? TG_HINT_TRUE : TG_HINT_FALSE;
		e[i].read_only = destr ? TG_HINT_FALSE : TG_HINT_TRUE;
		e[i].idempotent = TG_HINT_FALSE;
		e[i].open_world = TG_HINT_TRUE;
	}
	/* The first request whose principal is an engineer: a typical list. */
	size_t who = 0;
	for (size_t i = 0; i < rs.n; i++)
		if (strstr(rs.text[i], "\"roles\":[\"engineer\"]")) {
			who = i;
			break;
		}
	double t[ROUNDS];
	size_t shown = 0;
	nallocs = 0;
	for (int r = 0; r < ROUNDS; r++) {
		shown = 0;
		counting = 1;
		uint64_t t0 = now_ns();
		for (size_t i = 0; i < n; i++) {
			bool v;
			tg_visible(p, &rs.jr[who].req, &e[i], &v);
			shown += v;
		}
		t[r] = (double)(now_ns() - t0) / 1e3;
		counting = 0;
	}
	printf("%-28s rules %6zu  tools/list of %zu tools: %.1f us (%.0f ns/tool), %zu visible, "
	       "allocs %ld  (tg_visible per tool)\n",
	       argv[1], (size_t)tg_policy_rule_count(p), n, min_of(t, ROUNDS),
	       min_of(t, ROUNDS) * 1e3 / (double)n, shown, nallocs);
	/* The same list through one tg_visible_many call. */
	bool *vis = calloc(n ? n : 1, sizeof *vis);
	size_t shown_many = 0;
	if (!vis)
		die("out of memory", NULL);
	nallocs = 0;
	for (int r = 0; r < ROUNDS; r++) {
		counting = 1;
		uint64_t t0 = now_ns();
		tg_visible_many(p, &rs.jr[who].req, e, n, vis);
		t[r] = (double)(now_ns() - t0) / 1e3;
		counting = 0;
	}
	for (size_t i = 0; i < n; i++)
		shown_many += vis[i];
	if (shown_many != shown)
		die("tg_visible_many disagrees with tg_visible", NULL);
	printf("%-28s rules %6zu  tools/list of %zu tools: %.1f us (%.0f ns/tool), %zu visible, "
	       "allocs %ld  (tg_visible_many)\n",
	       argv[1], (size_t)tg_policy_rule_count(p), n, min_of(t, ROUNDS),
	       min_of(t, ROUNDS) * 1e3 / (double)n, shown_many, nallocs);
	free(vis);
	free(e);
	free(names);
	free(servers);
	reqs_free(&tools);
	reqs_free(&rs);
	tg_policy_free(p);
	return 0;
}

typedef struct worker {
	const tg_policy *p;
	const reqset *rs;
	uint64_t deadline;
	uint64_t done;
	double cpu;		/* this thread's CPU seconds */
	pthread_barrier_t *start;
} worker;

static double thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *work(void *arg)
{
	worker *w = arg;
	tg_decision d;
	unsigned acc = 0;
	pthread_barrier_wait(w->start);
	double c0 = thread_cpu();
	while (now_ns() < w->deadline) {
		for (size_t i = 0; i < w->rs->n; i++) {
			tg_eval(w->p, &w->rs->jr[i].req, &d);
			acc += d.effect;
		}
		w->done += w->rs->n;
	}
	w->cpu = thread_cpu() - c0;
	sink += acc;
	return NULL;
}

/* Decisions per second of wall time; *per_cpu gets decisions per CPU
 * second, which shows contention between the threads even when the
 * machine's other tenants keep them from running at the same time. */
static double run_threads(const tg_policy *p, const reqset *rs, int nthreads, double secs,
			  double *per_cpu)
{
	pthread_t th[8];
	worker w[8];
	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, (unsigned)nthreads + 1);
	for (int i = 0; i < nthreads; i++) {
		w[i] = (worker){ p, rs, 0, 0, 0, &start };
		w[i].deadline = now_ns() + (uint64_t)(secs * 1e9) + 1000000;
		pthread_create(&th[i], NULL, work, &w[i]);
	}
	uint64_t t0 = now_ns();
	pthread_barrier_wait(&start);
	uint64_t total = 0;
	double cpu = 0;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		total += w[i].done;
		cpu += w[i].cpu;
	}
	double el = (double)(now_ns() - t0) / 1e9;
	pthread_barrier_destroy(&start);
	*per_cpu = cpu > 0 ? (double)total / cpu : 0;
	return (double)total / el;
}

static int cmd_threads(int argc, char **argv)
{
	if (argc < 3)
		die("usage: tg-bench threads POLICY.tg REQUESTS.jsonl", NULL);
	/* Use every CPU whatever `taskset` the caller ran us under. */
	cpu_set_t all;
	CPU_ZERO(&all);
	for (int i = 0; i < CPU_SETSIZE && i < 64; i++)
		CPU_SET(i, &all);
	sched_setaffinity(0, sizeof all, &all);
	tg_policy *p = load_policy(argv[1], NULL);
	reqset rs = { 0 };
	reqs_read(&rs, argv[2]);
	reqs_parse(&rs, p);
	double one[3], two[3], cpu1[3], cpu2[3];
	for (int r = 0; r < 3; r++) {
		one[r] = run_threads(p, &rs, 1, 0.3, &cpu1[r]);
		two[r] = run_threads(p, &rs, 2, 0.3, &cpu2[r]);
	}
	qsort(one, 3, sizeof *one, cmp_double);
	qsort(two, 3, sizeof *two, cmp_double);
	qsort(cpu1, 3, sizeof *cpu1, cmp_double);
	qsort(cpu2, 3, sizeof *cpu2, cmp_double);
	printf("%-28s 1 thread %.2f M decisions/s, 2 threads %.2f M decisions/s: ratio %.2f; "
	       "per CPU-second 2 threads vs 1: %.2f (1.00 = no contention)\n",
	       argv[1], one[2] / 1e6, two[2] / 1e6, two[2] / one[2], cpu2[2] / cpu1[2]);
	reqs_free(&rs);
	tg_policy_free(p);
	return 0;
}

static int cmd_once(int argc, char **argv)
{
	if (argc < 3)
		die("usage: tg-bench once POLICY.tg REQUESTS.jsonl", NULL);
	tg_policy *p = load_policy(argv[1], NULL);
	reqset rs = { 0 };
	reqs_read(&rs, argv[2]);
	reqs_parse(&rs, p);
	tg_decision d;
	for (size_t i = 0; i < rs.n; i++) {
		tg_eval(p, &rs.jr[i].req, &d);
		sink += d.effect;
	}
	printf("%zu\n", rs.n);
	reqs_free(&rs);
	tg_policy_free(p);
	return 0;
}

#ifdef TG_BENCH_FLOOR
/*
 * The fixed floor (issue 21, bench/floor/): the scenario's decision written
 * by hand for one variant, on requests decoded in advance. Timed with the
 * method of the `stream` figure (all requests once each in file order, best
 * of ROUNDS passes), toolgate's pass and the floor's alternating round by
 * round so the machine's noise hits both; every decision must match.
 */
typedef struct floorset {
	int variant;
	size_t n;
	fl_req *q;
	json_t **keep;
} floorset;

static void floor_read(floorset *fs, const char *variant, const reqset *rs)
{
	fs->variant = atoi(variant);
	if (fs->variant != 50 && fs->variant != 4960)
		die("floor variant is 50 or 4960, not", variant);
	fs->n = rs->n;
	fs->q = calloc(rs->n ? rs->n : 1, sizeof *fs->q);
	fs->keep = calloc(rs->n ? rs->n : 1, sizeof *fs->keep);
	if (!fs->q || !fs->keep)
		die("out of memory", NULL);
	for (size_t i = 0; i < rs->n; i++)
		if (!fl_decode(fs->variant == 50 ? &fl_names_50 : &fl_names_4960, rs->text[i],
			       rs->len[i], &fs->q[i], &fs->keep[i]))
			die("floor: bad request", rs->text[i]);
}

static void floor_free(floorset *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		json_decref(fs->keep[i]);
	free(fs->q);
	free(fs->keep);
}

/* One pass: every request once, in order; returns how many were allowed. */
static size_t floor_pass(const floorset *fs, unsigned char *out)
{
	size_t allowed = 0;
	if (fs->variant == 50)
		for (size_t i = 0; i < fs->n; i++) {
			int e = fl_decide_50(&fs->q[i]);
			allowed += (size_t)e;
			if (out)
				out[i] = (unsigned char)e;
		}
	else
		for (size_t i = 0; i < fs->n; i++) {
			int e = fl_decide_4960(&fs->q[i]);
			allowed += (size_t)e;
			if (out)
				out[i] = (unsigned char)e;
		}
	return allowed;
}

static int cmd_floor(int argc, char **argv)
{
	if (argc < 4)
		die("usage: tg-bench floor 50|4960 POLICY.tg REQUESTS.jsonl", NULL);
	tg_policy *p = load_policy(argv[2], NULL);
	reqset rs = { 0 };
	floorset fs = { 0 };
	reqs_read(&rs, argv[3]);
	reqs_parse(&rs, p);
	floor_read(&fs, argv[1], &rs);
	unsigned char *fe = malloc(rs.n ? rs.n : 1);
	if (!fe)
		die("out of memory", NULL);
	floor_pass(&fs, fe);
	size_t bad = 0;
	for (size_t i = 0; i < rs.n; i++) {
		tg_decision d;
		tg_eval(p, &rs.jr[i].req, &d);
		if ((d.effect == TG_ALLOW) != (fe[i] == FL_ALLOW)) {
			if (bad++ < 5)
				fprintf(stderr, "floor: MISMATCH on request %zu: toolgate %s, floor %s: %s\n",
					i + 1, d.effect == TG_ALLOW ? "allow" : "deny",
					fe[i] == FL_ALLOW ? "allow" : "deny", rs.text[i]);
		}
	}
	if (bad) {
		fprintf(stderr, "floor: %zu of %zu decisions differ from toolgate's\n", bad, rs.n);
		exit(1);
	}
	double tg[ROUNDS], fl[ROUNDS];
	tg_decision d;
	for (int r = 0; r < ROUNDS; r++) {
		uint64_t t0 = now_ns();
		for (size_t i = 0; i < rs.n; i++) {
			tg_eval(p, &rs.jr[i].req, &d);
			sink += d.effect;
		}
		tg[r] = (double)(now_ns() - t0) / (double)rs.n;
		t0 = now_ns();
		sink += (unsigned)floor_pass(&fs, NULL);
		fl[r] = (double)(now_ns() - t0) / (double)rs.n;
	}
	double a = min_of(tg, ROUNDS), b = min_of(fl, ROUNDS);
	printf("%-28s rules %6zu  requests %5zu  decisions match  stream: toolgate %7.1f ns  "
	       "floor %7.1f ns  ratio %.2f x\n",
	       argv[2], (size_t)tg_policy_rule_count(p), rs.n, a, b, b > 0 ? a / b : 0.0);

	/* The same passes with each decision timed alone: the p99 of the
	 * stream, each request's least over the passes. */
	tick_scale ts = tick_calibrate();
	uint64_t *tb = malloc((rs.n ? rs.n : 1) * 2 * sizeof *tb), *fb = tb + rs.n;
	if (!tb)
		die("out of memory", NULL);
	for (size_t i = 0; i < 2 * rs.n; i++)
		tb[i] = UINT64_MAX;
	for (int r = 0; r < ROUNDS; r++) {
		pass_each(p, &rs, tb);
		for (size_t i = 0; i < rs.n; i++) {
			uint64_t t0 = ticks();
			int e = fs.variant == 50 ? fl_decide_50(&fs.q[i]) : fl_decide_4960(&fs.q[i]);
			uint64_t t = ticks() - t0;
			sink += (unsigned)e;
			fb[i] = t < fb[i] ? t : fb[i];
		}
	}
	a = stream_p99(&ts, tb, rs.n);
	b = stream_p99(&ts, fb, rs.n);
	printf("%-28s rules %6zu  requests %5zu  stream p99 (each decision timed alone): "
	       "toolgate %7.1f ns  floor %7.1f ns  ratio %.2f x\n",
	       argv[2], (size_t)tg_policy_rule_count(p), rs.n, a, b, b > 0 ? a / b : 0.0);
	free(tb);
	free(fe);
	floor_free(&fs);
	reqs_free(&rs);
	tg_policy_free(p);
	return 0;
}

static int cmd_floor_once(int argc, char **argv)
{
	if (argc < 3)
		die("usage: tg-bench floor-once 50|4960 REQUESTS.jsonl", NULL);
	reqset rs = { 0 };
	floorset fs = { 0 };
	reqs_read(&rs, argv[2]);
	floor_read(&fs, argv[1], &rs);
	sink += (unsigned)floor_pass(&fs, NULL);
	printf("%zu\n", rs.n);
	floor_free(&fs);
	reqs_free(&rs);
	return 0;
}
#endif

/*
 * The general glob matcher at its limits: 512-byte globs (the most a glob
 * may have from its first wildcard) over 64 KiB subjects (the most a
 * request string may have). tg_glob_match takes no fast path, so this is
 * glob.c's automaton alone. Cases: many states live at once (`*a?`
 * repeated), a path glob with slash-star-star-slash and `?`, and two-byte
 * code points. --once matches each subject once, for callgrind
 * (--toggle-collect=tg_glob_match).
 */
#define GLOB_SUBJECT 65536

static void glob_case(int which, char *g, char *s)
{
	size_t gl = 0, sl = 0;
	switch (which) {
	case 0:
		while (gl + 3 <= 510) {
			memcpy(g + gl, "*a?", 3);
			gl += 3;
		}
		memcpy(g + gl, "**", 2);
		gl += 2;
		memset(s, 'a', GLOB_SUBJECT);
		sl = GLOB_SUBJECT;
		break;
	case 1:
		memcpy(g, "/**/", 4);
		gl = 4;
		while (gl + 9 <= 508) {
			memcpy(g + gl, "d?r*/**/x", 9);
			gl += 9;
		}
		memcpy(g + gl, "/*.c", 4);
		gl += 4;
		while (sl + 8 <= GLOB_SUBJECT - 6) {
			memcpy(s + sl, "/dir/ab/", 8);
			sl += 8;
		}
		memcpy(s + sl, "/x/a.c", 6);
		sl += 6;
		break;
	default:
		while (gl + 4 <= 512) {
			memcpy(g + gl, "*\xC3\xA9?", 4);
			gl += 4;
		}
		while (sl + 3 <= GLOB_SUBJECT) {
			memcpy(s + sl, "\xC3\xA9z", 3);
			sl += 3;
		}
		break;
	}
	g[gl] = 0;
	s[sl] = 0;
}

static int cmd_glob(int argc, char **argv)
{
	static const char *const names[] = { "many-states", "path", "utf8" };
	static char g[600], s[GLOB_SUBJECT + 1];
	bool once = false;
	const char *only = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--once") == 0)
			once = true;
		else
			only = argv[i];
	}
	for (int c = 0; c < 3; c++) {
		if (only && strcmp(only, names[c]) != 0)
			continue;
		glob_case(c, g, s);
		size_t gl = strlen(g), sl = strlen(s);
		bool m = tg_glob_match(g, gl, s, sl);
		if (once) {
			printf("glob %-12s glob %zu bytes  subject %zu bytes  match %d\n", names[c], gl,
			       sl, m);
			continue;
		}
		double t[ROUNDS];
		for (int r = 0; r < ROUNDS; r++) {
			uint64_t t0 = now_ns();
			sink += tg_glob_match(g, gl, s, sl);
			t[r] = (double)(now_ns() - t0);
		}
		double best = min_of(t, ROUNDS);
		printf("glob %-12s glob %zu bytes  subject %zu bytes  match %d  %.3f ms  %.2f ns/byte\n",
		       names[c], gl, sl, m, best / 1e6, best / (double)sl);
	}
	return 0;
}

static int cmd_sizes(void)
{
	printf("eval state: tg_vm %zu bytes + tg_cands %zu bytes = %zu bytes on the stack; "
	       "tg_decision (caller's) %zu bytes\n",
	       sizeof(tg_vm), sizeof(tg_cands), sizeof(tg_vm) + sizeof(tg_cands),
	       sizeof(tg_decision));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: tg-bench scenario|suite|gen|compile|visible|threads|once|sizes|glob ...", NULL);
	const char *c = argv[1];
	argc--;
	argv++;
	if (strcmp(c, "scenario") == 0)
		return cmd_scenario(argc, argv);
	if (strcmp(c, "suite") == 0)
		return cmd_suite(argc, argv);
	if (strcmp(c, "gen") == 0)
		return cmd_gen(argc, argv);
	if (strcmp(c, "compile") == 0)
		return cmd_compile(argc, argv);
	if (strcmp(c, "visible") == 0)
		return cmd_visible(argc, argv);
	if (strcmp(c, "threads") == 0)
		return cmd_threads(argc, argv);
	if (strcmp(c, "once") == 0)
		return cmd_once(argc, argv);
	if (strcmp(c, "sizes") == 0)
		return cmd_sizes();
#ifdef TG_BENCH_FLOOR
	if (strcmp(c, "floor") == 0)
		return cmd_floor(argc, argv);
	if (strcmp(c, "floor-once") == 0)
		return cmd_floor_once(argc, argv);
#endif
	if (strcmp(c, "glob") == 0)
		return cmd_glob(argc, argv);
	die("unknown subcommand", c);
	return 2;
}
