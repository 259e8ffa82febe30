/* A server linking the runtime built by add_subdirectory: loads bytecode
 * and decides one request built by hand. usage: server POLICY.tgb */
#include <stdio.h>
#include <string.h>

#include <toolgate/toolgate.h>

int main(int argc, char **argv)
{
	tg_policy *p;
	tg_load_error err;
	tg_request req;
	tg_decision d;

	if (argc != 2 || tg_policy_load_file(argv[1], &p, &err) != TG_OK) {
		fprintf(stderr, "server: cannot load the policy\n");
		return 2;
	}
	tg_request_init(&req);
	req.principal_id = (tg_str){"mallory@example.com", 19};
	req.method = (tg_str){"tools/list", 10};
	tg_eval(p, &req, &d);
	printf("%s %s\n", d.effect == TG_ALLOW ? "allow" : "deny", d.rule_id ? d.rule_id : "-");
	tg_policy_free(p);
	return d.effect == TG_DENY && d.rule_id && strcmp(d.rule_id, "blocked-principal") == 0 ? 0 : 1;
}
