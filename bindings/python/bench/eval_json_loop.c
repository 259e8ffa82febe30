/*
 * eval_json_loop.c - the C side of bench.py: tg_eval_json over the same
 * request lines the Python loop decides, with one reusable decision, best
 * of `rounds` passes, nanoseconds per decision on stdout.
 *
 *   usage: eval_json_loop POLICY.tgb REQUESTS.jsonl ROUNDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <toolgate/mcp.h>

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	tg_policy *p;
	tg_decision *d;
	char *lines[4096];
	size_t lens[4096], n = 0, cap = 0;
	char *line = NULL;
	ssize_t got;
	FILE *f;
	double best = 1e300;
	unsigned allowed = 0;

	if (argc != 4 || tg_policy_load_file(argv[1], &p, NULL) != TG_OK ||
	    tg_decision_create(&d) != TG_OK || !(f = fopen(argv[2], "r")))
		return 2;
	while (n < 4096 && (got = getline(&line, &cap, f)) > 0) {
		lines[n] = strndup(line, (size_t)got);
		lens[n++] = (size_t)got;
	}
	fclose(f);
	for (int r = 0; r < atoi(argv[3]); r++) {
		double t0 = now_ns();
		for (size_t i = 0; i < n; i++) {
			tg_eval_json(p, lines[i], lens[i], d);
			allowed += tg_decision_effect(d) == TG_ALLOW;
		}
		double per = (now_ns() - t0) / (double)n;
		if (per < best)
			best = per;
	}
	printf("%.0f %u\n", best, allowed);
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(line);
	tg_decision_free(d);
	tg_policy_free(p);
	return 0;
}
