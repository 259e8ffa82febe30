/* A server linking the runtime built by add_subdirectory: loads bytecode
 * and decides one request built by hand. usage: server POLICY.tgb */
#include <stdio.h>
#include <string.h>

#include <toolgate/toolgate.h>

int main(int argc, char **argv)
{
	tg_policy *p;
	tg_request req;
	tg_decision *d;
	bool ok;

	if (argc != 2 || tg_policy_load_file(argv[1], &p, NULL) != TG_OK ||
	    tg_decision_create(&d) != TG_OK) {
		fprintf(stderr, "server: cannot load the policy\n");
		return 2;
	}
	tg_request_init(&req);
	req.principal_id = (tg_str){"mallory@example.com", 19};
	req.method = (tg_str){"tools/list", 10};
	tg_eval(p, &req, d);
	ok = tg_decision_effect(d) == TG_DENY && tg_decision_rule_id(d) &&
	     strcmp(tg_decision_rule_id(d), "blocked-principal") == 0;
	printf("%s %s\n", ok ? "deny" : "unexpected", ok ? tg_decision_rule_id(d) : "-");
	tg_decision_free(d);
	tg_policy_free(p);
	return ok ? 0 : 1;
}
