/*
 * suite_requests.c - prints the request of every request case of a YAML
 * suite as one JSON line, so that tests in other languages (which have no
 * YAML reader of their own here) decide exactly the suites' requests.
 *
 *   usage: suite_requests SUITE.yaml   (policy path on the first line)
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "suite.h"

int main(int argc, char **argv)
{
	tg_suite *s;

	if (argc != 2 || tg_suite_load(argv[1], stderr, &s) != TG_SUITE_OK)
		return 2;
	printf("%s\n", s->policy_path);
	for (size_t i = 0; i < s->ncases; i++) {
		char *line;

		if (s->cases[i].kind != TG_CASE_REQUEST)
			continue;
		line = json_dumps(s->cases[i].request, JSON_COMPACT | JSON_ENSURE_ASCII);
		if (!line) {
			tg_suite_free(s);
			return 2;
		}
		printf("%s\n", line);
		free(line);
	}
	tg_suite_free(s);
	return 0;
}
