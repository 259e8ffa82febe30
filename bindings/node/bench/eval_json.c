/* eval_json.c - the C reference for bench/run.mjs: N decisions of one JSON
 * request with tg_eval_json and one reused decision; prints ns/decision.
 *   usage: eval_json POLICY.tgb REQUEST.json N */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <toolgate/mcp.h>
#include <toolgate/toolgate.h>

int main(int argc, char **argv)
{
	tg_policy *p;
	tg_decision *d;
	char buf[65536];
	struct timespec t0, t1;

	if (argc != 4 || tg_policy_load_file(argv[1], &p, NULL) != TG_OK ||
	    tg_decision_create(&d) != TG_OK)
		return 2;
	FILE *f = fopen(argv[2], "rb");
	if (!f)
		return 2;
	size_t len = fread(buf, 1, sizeof buf, f);
	fclose(f);
	long n = atol(argv[3]), allowed = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++) {
		tg_eval_json(p, buf, len, d);
		allowed += tg_decision_effect(d) == TG_ALLOW;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / (double)n;
	printf("%.0f %ld\n", ns, allowed);
	tg_decision_free(d);
	tg_policy_free(p);
	return 0;
}
