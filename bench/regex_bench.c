/*
 * regex_bench.c - what `matches` costs: compiling patterns with the policy,
 * and walking a DFA over a 64 KiB request string.
 *
 *   tg-bench-regex [PASSES]
 *
 * Compile time is that of the whole pipeline (tg_compile of a one-rule
 * policy: parse, check (the regex compiled), emit, verify), best of
 * 5, for the patterns whose walk is timed; and of the regex engine alone
 * (tg_re_compile), best of 3, for the slowest patterns it accepts or
 * refuses, with their DFA's size. The walk is timed through tg_eval on a request whose args.s is 65,536 bytes
 * that the pattern accepts to the last byte (so every byte is a table
 * step), best of PASSES, and reported per byte. Numbers are wall clock on
 * CLOCK_MONOTONIC; pin the process (taskset) for stable figures.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "regex.h"
#include "toolgate/compiler.h"
#include "toolgate/toolgate.h"

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static char *policy_for(const char *pattern)
{
	static const char head[] = "attribute args.s: string;\n"
				   "rule \"r\": allow anyone to call tool \"t\" when args.s matches \"";
	size_t n = strlen(head) + 2 * strlen(pattern) + 8;
	char *src = malloc(n);
	if (!src)
		return NULL;
	char *o = src + sprintf(src, "%s", head);
	for (const char *p = pattern; *p; p++) {
		if (*p == '\\' || *p == '"')
			*o++ = '\\';
		*o++ = *p;
	}
	strcpy(o, "\";\n");
	return src;
}

/* Best-of-passes compile time of a one-rule policy using the pattern; the
 * DFA's size from the disassembly is left to `toolgate disasm`. */
static double compile_ns(const char *pattern, int passes, unsigned char **code, size_t *len)
{
	char *src = policy_for(pattern);
	double best = -1;
	for (int i = 0; i < passes && src; i++) {
		tg_compilation *c = NULL;
		double t0 = now_ns();
		tg_status st = tg_compile(src, strlen(src), "bench.tg", 0, &c);
		double t = now_ns() - t0;
		if (st != TG_OK || tg_compilation_error_count(c)) {
			char text[4096] = "out of memory\n";
			if (c)
				tg_compilation_render(c, text, sizeof text);
			fprintf(stderr, "pattern %s does not compile:\n%s", pattern, text);
			tg_compilation_free(c);
			free(src);
			exit(1);
		}
		if (i == passes - 1) {
			size_t n;
			const unsigned char *b = tg_compilation_bytecode(c, &n);
			*code = malloc(n);
			memcpy(*code, b, n);
			*len = n;
		}
		tg_compilation_free(c);
		if (best < 0 || t < best)
			best = t;
	}
	free(src);
	return best;
}

static double walk_ns_per_byte(const unsigned char *code, size_t len, const char *subject,
			       size_t n, int passes)
{
	tg_policy *p;
	if (tg_policy_load(code, len, &p, NULL) != TG_OK)
		exit(1);
	tg_decision *d = NULL;
	if (tg_decision_create(&d) != TG_OK)
		exit(1);
	tg_value *slots = calloc(tg_policy_slot_count(p), sizeof *slots);
	uint32_t s = 0;
	if (tg_policy_slot_find(p, "args.s", &s) != TG_OK)
		exit(1);
	slots[s].type = TG_VALUE_STRING;
	slots[s].u.s.ptr = subject;
	slots[s].u.s.len = n;
	tg_request r;
	tg_request_init(&r);
	r.principal_id = (tg_str){ "bench", 5 };
	r.method = (tg_str){ "tools/call", 10 };
	r.target = (tg_str){ "t", 1 };
	r.slots = slots;
	r.nslots = tg_policy_slot_count(p);
	double best = -1;
	for (int i = 0; i < passes; i++) {
		double t0 = now_ns();
		tg_eval(p, &r, d);
		double t = now_ns() - t0;
		if (tg_decision_effect(d) != TG_ALLOW) {
			fprintf(stderr, "the subject does not match: %s\n", tg_decision_reason(d));
			exit(1);
		}
		if (best < 0 || t < best)
			best = t;
	}
	free(slots);
	tg_decision_free(d);
	tg_policy_free(p);
	return best / (double)n;
}

int main(int argc, char **argv)
{
	int passes = argc > 1 ? atoi(argv[1]) : 50;
	static const struct {
		const char *what, *pattern;
	} pats[] = {
		{ "typical (e-mail)", "[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}" },
		{ "branch name", "renovate/[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*" },
		{ "2049 states: (?s)(a|b)*a(a|b){10}", "(?s)(a|b)*a(a|b){10}" },
		{ "counted repetition", "[0-9a-f]{1000}" },
		{ "any code point", "(?s).*" },
	};
	printf("%-30s %12s %12s\n", "pattern", "compile us", "ns/byte");
	size_t n = 64 * 1024;
	char *subject = malloc(n);
	for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++) {
		unsigned char *code = NULL;
		size_t len = 0;
		double c = compile_ns(pats[i].pattern, passes < 5 ? passes : 5, &code, &len);
		/* a subject the pattern accepts whole, 64 KiB long where it can be */
		size_t m = n;
		if (i == 0) {
			memset(subject, 'a', n);
			memcpy(subject + n - 12, "@example.com", 12);
		} else if (i == 1) {
			memcpy(subject, "renovate/", 9);
			for (size_t k = 9; k < n; k++)
				subject[k] = k % 16 == 0 ? '/' : 'x';
			subject[n - 1] = 'x';
		} else if (i == 2) {
			for (size_t k = 0; k < n; k++)
				subject[k] = k % 3 ? 'a' : 'b';
			memset(subject + n - 11, 'a', 11);
		} else if (i == 3) {
			m = 1000;
			memset(subject, 'f', m);
		} else {
			for (size_t k = 0; k < n; k++)
				subject[k] = (char)('a' + k % 26);
		}
		double w = walk_ns_per_byte(code, len, subject, m, passes);
		printf("%-30s %12.1f %12.3f\n", pats[i].what, c / 1000.0, w);
		free(code);
	}
	free(subject);

	/* The slowest patterns found, accepted and refused (docs/regex.md). */
	static const char *const heavy[] = {
		"(a|b)*a(a|b){10}", "(a|b)*a(a|b){11}", ".{500}", "\\w{1000}",
		"(?:\xC3\xA9|\xE2\x82\xAC|\xF0\x9F\x98\x80|x){500}",
		"(?:a?b?c?d?e?f?g?h?i?j?k?l?m?n?o?p?){0,100}", "(?:\\w?\\d?\\s?.?){0,200}x",
		"(?:a?b?c?d?e?f?g?h?i?j?k?l?m?n?o?p?){0,200}", "((a{1000}){1000}){1000}",
	};
	printf("\n%-46s %8s %8s %12s\n", "regex engine alone", "states", "classes", "compile ms");
	for (size_t i = 0; i < sizeof heavy / sizeof heavy[0]; i++) {
		double best = -1;
		tg_re_dfa dfa;
		tg_re_error err;
		bool ok = false;
		for (int k = 0; k < 3; k++) {
			double t0 = now_ns();
			ok = tg_re_compile(heavy[i], strlen(heavy[i]), &dfa, &err);
			double t = now_ns() - t0;
			if (ok && k < 2)
				tg_re_dfa_free(&dfa);
			if (best < 0 || t < best)
				best = t;
		}
		if (ok)
			printf("%-46s %8u %8u %12.1f\n", heavy[i], (unsigned)dfa.nstates,
			       (unsigned)dfa.nclasses, best / 1e6);
		else
			printf("%-46s %17s %12.1f\n", heavy[i], "refused", best / 1e6);
		tg_re_dfa_free(&dfa);
	}
	return 0;
}
