/*
 * consumer.c - a program built against an installed toolgate, the way a
 * server is: compiles a policy source with libtoolgate-compiler, loads the
 * bytecode `toolgate compile` wrote with libtoolgate, decides one JSON
 * request through libtoolgate-mcp, and compares the decision with the line
 * `toolgate eval` printed for the same request.
 *
 *   usage: consumer POLICY.tg POLICY.tgb REQUEST.json EXPECTED.json
 *   exit 0 when everything agrees, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <toolgate/compiler.h>
#include <toolgate/mcp.h>
#include <toolgate/toolgate.h>

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
			buf[n] = '\0';
			*len = (size_t)n;
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	char line[4096];
	size_t slen, blen, rlen, elen, clen;
	tg_compilation *c = NULL;
	tg_policy *p = NULL;
	tg_decision *d = NULL;
	int rc = 1;

	if (argc != 5) {
		fprintf(stderr, "usage: consumer POLICY.tg POLICY.tgb REQUEST.json EXPECTED.json\n");
		return 2;
	}
	char *src = slurp(argv[1], &slen), *code = slurp(argv[2], &blen);
	char *req = slurp(argv[3], &rlen), *want = slurp(argv[4], &elen);
	if (!src || !code || !req || !want) {
		fprintf(stderr, "consumer: cannot read an input\n");
		goto out;
	}
	while (elen > 0 && want[elen - 1] == '\n')
		want[--elen] = '\0';

	/* The compiler library gives the same bytes as the installed command. */
	if (tg_compile(src, slen, argv[1], 0, &c) != TG_OK) {
		fprintf(stderr, "consumer: tg_compile failed\n");
		goto out;
	}
	const unsigned char *compiled = tg_compilation_bytecode(c, &clen);
	if (!compiled || clen != blen || memcmp(compiled, code, blen) != 0) {
		fprintf(stderr, "consumer: tg_compile and `toolgate compile` disagree\n");
		goto out;
	}

	if (tg_policy_load(code, blen, &p, NULL) != TG_OK) {
		fprintf(stderr, "consumer: the bytecode does not load\n");
		goto out;
	}
	if (tg_decision_create(&d) != TG_OK)
		goto out;
	(void)tg_eval_json(p, req, rlen, d);
	tg_decision_json(d, line, sizeof line);
	if (strcmp(line, want) != 0) {
		fprintf(stderr, "consumer: decided %s\n          expected %s\n", line, want);
		goto out;
	}
	printf("%s (libtoolgate %s)\n", line, tg_version());
	rc = 0;
out:
	tg_decision_free(d);
	tg_policy_free(p);
	tg_compilation_free(c);
	free(src);
	free(code);
	free(req);
	free(want);
	return rc;
}
