/*
 * test_semantics.c - end-to-end decisions: policy source -> tg_parse ->
 * tg_check -> tg_codegen -> tg_policy_load -> tg_eval / tg_visible.
 *
 * Each row of the tables pins one rule of DESIGN.md ("Decision", "Precise
 * rules", "Visibility"): the decision, the deciding rule id, the number of
 * errors listed and, where it matters, the reason. Requests are written in
 * the JSON form of the request model (with ' for " to keep them readable)
 * and read by the CLI's request reader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include "decision.h"
#include "policy.h"
#include "stages.h"
#include "request_json.h"
#include "toolgate/toolgate.h"

enum { DENY = 0, ALLOW = 1 };

struct sem_case {
	const char *name;
	const char *policy;
	const char *request;
	int decision;
	const char *rule;
	size_t errors;
	const char *reason;	/* substring, or NULL */
};

/*
 * Each case: a policy (compiled as "t.tg"), a request in JSON with ' for ",
 * the expected decision, deciding rule id (NULL for the default), number of
 * errors, and optionally a substring of the reason.
 */
#define ALICE "'principal':{'id':'alice'}"
#define CALL(t) "'method':'tools/call','target':'" t "'"

static const struct sem_case sem_cases[] = {
/* ---- subjects ------------------------------------------------------- */
{"anyone",
 "rule \"r\": allow anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") "}", ALLOW, "r", 0, NULL},
{"role held directly",
 "role eng;\nrule \"r\": allow role eng to call tool \"a\";",
 "{'principal':{'id':'a','roles':['eng']}," CALL("a") "}", ALLOW, "r", 0, NULL},
{"role not held",
 "role eng;\nrule \"r\": allow role eng to call tool \"a\";",
 "{'principal':{'id':'a'}," CALL("a") "}", DENY, NULL, 0, NULL},
{"role inherited by child",
 "role reader;\nrole eng: reader;\nrule \"r\": allow role reader to call tool \"a\";",
 "{'principal':{'id':'a','roles':['eng']}," CALL("a") "}", ALLOW, "r", 0, NULL},
{"role of child not given to parent",
 "role reader;\nrole eng: reader;\nrule \"r\": allow role eng to call tool \"a\";",
 "{'principal':{'id':'a','roles':['reader']}," CALL("a") "}", DENY, NULL, 0, NULL},
{"role inherited through two levels and several parents",
 "role r1;\nrole r2;\nrole mid: r1, r2;\nrole top: mid;\n"
 "rule \"r\": allow role r2 to call tool \"a\";",
 "{'principal':{'id':'a','roles':['top']}," CALL("a") "}", ALLOW, "r", 0, NULL},
{"deny on parent reaches child",
 "role eng;\nrole admin: eng;\nrule \"ok\": allow anyone to call tool \"*\";\n"
 "rule \"d\": deny role eng to call tool \"x\";",
 "{'principal':{'id':'a','roles':['admin']}," CALL("x") "}", DENY, "d", 0, NULL},
{"undeclared request role ignored",
 "role eng;\nrule \"r\": allow role eng to call tool \"a\";",
 "{'principal':{'id':'a','roles':['ghost','Eng']}," CALL("a") "}", DENY, NULL, 0, NULL},
{"any of several roles",
 "role x;\nrole y;\nrule \"r\": allow role x, y to call tool \"a\";",
 "{'principal':{'id':'a','roles':['y']}," CALL("a") "}", ALLOW, "r", 0, NULL},
{"scope matches exactly",
 "rule \"r\": allow scope \"files:read\" to call tool \"a\";",
 "{" ALICE ",'token':{'scopes':['x','files:read']}," CALL("a") "}", ALLOW, "r", 0, NULL},
{"scope is not a glob",
 "rule \"r\": allow scope \"files:*\" to call tool \"a\";",
 "{" ALICE ",'token':{'scopes':['files:read']}," CALL("a") "}", DENY, NULL, 0, NULL},
{"scope absent token",
 "rule \"r\": allow scope \"files:read\" to call tool \"a\";",
 "{" ALICE "," CALL("a") "}", DENY, NULL, 0, NULL},
{"principal id matches",
 "rule \"r\": allow principal \"bob\", \"alice\" to call tool \"a\";",
 "{" ALICE "," CALL("a") "}", ALLOW, "r", 0, NULL},
{"principal id differs",
 "rule \"r\": allow principal \"alic\" to call tool \"a\";",
 "{" ALICE "," CALL("a") "}", DENY, NULL, 0, NULL},
{"client matches",
 "rule \"r\": allow client \"desktop\" to call tool \"a\";",
 "{" ALICE ",'token':{'client_id':'desktop'}," CALL("a") "}", ALLOW, "r", 0, NULL},
{"allow client absent does not match",
 "rule \"r\": allow client \"desktop\" to call tool \"a\";",
 "{" ALICE "," CALL("a") "}", DENY, NULL, 0, NULL},
{"deny client absent applies with an error",
 "rule \"d\": deny client \"evil\" to call tool \"a\";\n"
 "rule \"r\": allow anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") "}", DENY, "d", 1, NULL},
{"deny client non-string counts as absent",
 "rule \"d\": deny client \"evil\" to call tool \"a\";\n"
 "rule \"r\": allow anyone to call tool \"a\";",
 "{" ALICE ",'token':{'client_id':7}," CALL("a") "}", DENY, "d", 1, NULL},
{"deny client other client",
 "rule \"d\": deny client \"evil\" to call tool \"a\";\n"
 "rule \"r\": allow anyone to call tool \"a\";",
 "{" ALICE ",'token':{'client_id':'good'}," CALL("a") "}", ALLOW, "r", 0, NULL},

/* ---- actions -------------------------------------------------------- */
{"call any tool",
 "rule \"r\": allow anyone to call any tool;",
 "{" ALICE "," CALL("whatever.x/y") "}", ALLOW, "r", 0, NULL},
{"call any tool is not tools/list",
 "rule \"r\": allow anyone to call any tool;",
 "{" ALICE ",'method':'tools/list'}", DENY, NULL, 0, NULL},
{"read resource glob",
 "rule \"r\": allow anyone to read resource \"file:///workspace/**\";",
 "{" ALICE ",'method':'resources/read','target':'file:///workspace/a/b.txt'}", ALLOW, "r", 0, NULL},
{"read resource covers subscribe",
 "rule \"r\": allow anyone to read resource \"file:///w/*\";",
 "{" ALICE ",'method':'resources/subscribe','target':'file:///w/a'}", ALLOW, "r", 0, NULL},
{"read any resource covers unsubscribe",
 "rule \"r\": allow anyone to read any resource;",
 "{" ALICE ",'method':'resources/unsubscribe','target':'mem://x'}", ALLOW, "r", 0, NULL},
{"read resource does not cover templates list",
 "rule \"r\": allow anyone to read any resource;",
 "{" ALICE ",'method':'resources/templates/list'}", DENY, NULL, 0, NULL},
{"get prompt",
 "rule \"r\": allow anyone to get prompt \"p*\";",
 "{" ALICE ",'method':'prompts/get','target':'plan'}", ALLOW, "r", 0, NULL},
{"get any prompt is not completion",
 "rule \"r\": allow anyone to get any prompt;",
 "{" ALICE ",'method':'completion/complete'}", DENY, NULL, 0, NULL},
{"list tools",
 "rule \"r\": allow anyone to list tools;",
 "{" ALICE ",'method':'tools/list'}", ALLOW, "r", 0, NULL},
{"list resources",
 "rule \"r\": allow anyone to list resources;",
 "{" ALICE ",'method':'resources/list'}", ALLOW, "r", 0, NULL},
{"list prompts",
 "rule \"r\": allow anyone to list prompts;\nrule \"t\": allow anyone to list tools;",
 "{" ALICE ",'method':'prompts/list'}", ALLOW, "r", 0, NULL},
{"list resource_templates",
 "rule \"r\": allow anyone to list resource_templates;\nrule \"t\": allow anyone to list resources;",
 "{" ALICE ",'method':'resources/templates/list'}", ALLOW, "r", 0, NULL},
{"invoke glob matches one level",
 "rule \"r\": allow anyone to invoke \"resources/*\";",
 "{" ALICE ",'method':'resources/read','target':'file:///a'}", ALLOW, "r", 0, NULL},
{"invoke glob does not cross slash",
 "rule \"r\": allow anyone to invoke \"resources/*\";",
 "{" ALICE ",'method':'resources/templates/list'}", DENY, NULL, 0, NULL},
{"invoke star matches a method without slash",
 "rule \"r\": allow anyone to invoke \"*\";",
 "{" ALICE ",'method':'custom'}", ALLOW, "r", 0, NULL},
{"invoke star does not match tools/call",
 "rule \"r\": allow anyone to invoke \"*\";",
 "{" ALICE "," CALL("a") "}", DENY, NULL, 0, NULL},
{"do anything matches completion",
 "rule \"r\": allow anyone to do anything;",
 "{" ALICE ",'method':'completion/complete'}", ALLOW, "r", 0, NULL},
{"tool set",
 "set rt = [\"search_*\", \"*.get_*\"];\nrule \"r\": allow anyone to call tool rt;",
 "{" ALICE "," CALL("gh.get_issue") "}", ALLOW, "r", 0, NULL},
{"tool set miss",
 "set rt = [\"search_*\", \"*.get_*\"];\nrule \"r\": allow anyone to call tool rt, \"z\";",
 "{" ALICE "," CALL("gh.delete") "}", DENY, NULL, 0, NULL},

/* ---- globs ---------------------------------------------------------- */
{"star stops at slash",
 "rule \"r\": allow anyone to call tool \"a/*\";",
 "{" ALICE "," CALL("a/b/c") "}", DENY, NULL, 0, NULL},
{"star within a segment",
 "rule \"r\": allow anyone to call tool \"a/*\";",
 "{" ALICE "," CALL("a/b") "}", ALLOW, "r", 0, NULL},
{"star matches empty",
 "rule \"r\": allow anyone to call tool \"ab*\";",
 "{" ALICE "," CALL("ab") "}", ALLOW, "r", 0, NULL},
{"double star crosses slashes",
 "rule \"r\": allow anyone to call tool \"a/**\";",
 "{" ALICE "," CALL("a/b/c") "}", ALLOW, "r", 0, NULL},
{"slash double star slash matches one slash",
 "rule \"r\": allow anyone to call tool \"a/**/b\";",
 "{" ALICE "," CALL("a/b") "}", ALLOW, "r", 0, NULL},
{"slash double star slash matches deep",
 "rule \"r\": allow anyone to call tool \"a/**/b\";",
 "{" ALICE "," CALL("a/x/y/b") "}", ALLOW, "r", 0, NULL},
{"triple star is double star",
 "rule \"r\": allow anyone to call tool \"a***\";",
 "{" ALICE "," CALL("a/b/c") "}", ALLOW, "r", 0, NULL},
{"question mark is one code point",
 "rule \"r\": allow anyone to call tool \"h?llo\";",
 "{" ALICE "," CALL("h\xc3\xa9llo") "}", ALLOW, "r", 0, NULL},
{"question mark is not zero characters",
 "rule \"r\": allow anyone to call tool \"h?llo\";",
 "{" ALICE "," CALL("hllo") "}", DENY, NULL, 0, NULL},
{"question mark is not a slash",
 "rule \"r\": allow anyone to call tool \"h?llo\";",
 "{" ALICE "," CALL("h/llo") "}", DENY, NULL, 0, NULL},
{"escaped star is literal",
 "rule \"r\": allow anyone to call tool \"a\\\\*\";",
 "{" ALICE "," CALL("a*") "}", ALLOW, "r", 0, NULL},
{"escaped star does not wildcard",
 "rule \"r\": allow anyone to call tool \"a\\\\*\";",
 "{" ALICE "," CALL("ab") "}", DENY, NULL, 0, NULL},
{"glob is case-sensitive",
 "rule \"r\": allow anyone to call tool \"Read*\";",
 "{" ALICE "," CALL("read_file") "}", DENY, NULL, 0, NULL},
{"utf-8 literal in glob",
 "rule \"r\": allow anyone to call tool \"caf\xc3\xa9.*\";",
 "{" ALICE "," CALL("caf\xc3\xa9.menu") "}", ALLOW, "r", 0, NULL},
{"many stars do not explode",
 "rule \"r\": allow anyone to call tool \"*a*a*a*a*a*a*a*a*b\";",
 "{" ALICE "," CALL("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") "}", DENY, NULL, 0, NULL},

{"roles list is the request's, declared or not",
 "rule \"r\": allow anyone to call tool \"a\" when principal.roles contains \"ghost\";",
 "{'principal':{'id':'a','roles':['ghost']}," CALL("a") "}", ALLOW, "r", 0, NULL},
{"int list equality",
 "rule \"r\": allow anyone to call tool \"a\" when args.ns == [1, 2];",
 "{" ALICE "," CALL("a") ",'args':{'ns':[1,2]}}", ALLOW, "r", 0, NULL},
{"unicode escape in a glob",
 "rule \"r\": allow anyone to call tool \"caf\\u{e9}.*\";",
 "{" ALICE "," CALL("caf\xc3\xa9.x") "}", ALLOW, "r", 0, NULL},
{"escaped question mark is literal",
 "rule \"r\": allow anyone to call tool \"a\\\\?\";",
 "{" ALICE "," CALL("ab") "}", DENY, NULL, 0, NULL},
{"leading double star",
 "rule \"r\": allow anyone to call tool \"**.read\";",
 "{" ALICE "," CALL("a/b.read") "}", ALLOW, "r", 0, NULL},
{"star spans multibyte characters",
 "rule \"r\": allow anyone to call tool \"h*o\";",
 "{" ALICE "," CALL("h\xc3\xa9\xe2\x82\xacllo") "}", ALLOW, "r", 0, NULL},

/* ---- operators ------------------------------------------------------ */
{"string equality true",
 "rule \"r\": allow anyone to call tool \"a\" when context.env == \"prod\";",
 "{" ALICE "," CALL("a") ",'context':{'env':'prod'}}", ALLOW, "r", 0, NULL},
{"string equality false",
 "rule \"r\": allow anyone to call tool \"a\" when context.env == \"prod\";",
 "{" ALICE "," CALL("a") ",'context':{'env':'staging'}}", DENY, NULL, 0, NULL},
{"not equal",
 "rule \"r\": allow anyone to call tool \"a\" when context.env != \"prod\";",
 "{" ALICE "," CALL("a") ",'context':{'env':'staging'}}", ALLOW, "r", 0, NULL},
{"int ordering",
 "attribute args.n: int;\n"
 "rule \"r\": allow anyone to call tool \"a\" when args.n < 5 and args.n <= 4 and args.n > 2 and args.n >= 3;",
 "{" ALICE "," CALL("a") ",'args':{'n':3}}", ALLOW, "r", 0, NULL},
{"int ordering boundary",
 "attribute args.n: int;\nrule \"r\": allow anyone to call tool \"a\" when args.n < 3;",
 "{" ALICE "," CALL("a") ",'args':{'n':3}}", DENY, NULL, 0, NULL},
{"negative literal",
 "rule \"r\": allow anyone to call tool \"a\" when args.n > -5;",
 "{" ALICE "," CALL("a") ",'args':{'n':-4}}", ALLOW, "r", 0, NULL},
{"in list literal",
 "rule \"r\": allow anyone to call tool \"a\" when context.env in [\"dev\", \"staging\"];",
 "{" ALICE "," CALL("a") ",'context':{'env':'staging'}}", ALLOW, "r", 0, NULL},
{"in list literal miss",
 "rule \"r\": allow anyone to call tool \"a\" when context.env in [\"dev\", \"staging\"];",
 "{" ALICE "," CALL("a") ",'context':{'env':'prod'}}", DENY, NULL, 0, NULL},
{"in set value",
 "set envs = [\"dev\", \"staging\"];\n"
 "rule \"r\": allow anyone to call tool \"a\" when context.env in envs;",
 "{" ALICE "," CALL("a") ",'context':{'env':'staging'}}", ALLOW, "r", 0, NULL},
{"in set value miss",
 "set envs = [\"dev\", \"staging\"];\n"
 "rule \"r\": allow anyone to call tool \"a\" when context.env in envs;",
 "{" ALICE "," CALL("a") ",'context':{'env':'prod'}}", DENY, NULL, 0, NULL},
{"any in set value",
 "set blocked = [\"x\", \"y\"];\nattribute args.tags: list<string>;\n"
 "rule \"r\": deny anyone to call tool \"a\" when any args.tags in blocked;\n"
 "rule \"ok\": allow anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") ",'args':{'tags':['q','y']}}", DENY, "r", 0, NULL},
{"empty set value",
 "set none = [];\n"
 "rule \"r\": allow anyone to call tool \"a\" unless context.env in none;",
 "{" ALICE "," CALL("a") ",'context':{'env':'dev'}}", ALLOW, "r", 0, NULL},
{"set value read error denies",
 "set envs = [\"dev\"];\n"
 "rule \"r\": deny anyone to call tool \"a\" unless context.env in envs;",
 "{" ALICE "," CALL("a") "}", DENY, "r", 1, NULL},
{"int in list literal",
 "rule \"r\": allow anyone to call tool \"a\" when args.n in [1, 2, 3];",
 "{" ALICE "," CALL("a") ",'args':{'n':2}}", ALLOW, "r", 0, NULL},
{"in list attribute",
 "attribute principal.groups: list<string>;\n"
 "rule \"r\": allow anyone to call tool \"a\" when \"ops\" in principal.groups;",
 "{'principal':{'id':'a','groups':['dev','ops']}," CALL("a") "}", ALLOW, "r", 0, NULL},
{"contains list membership",
 "rule \"r\": allow anyone to call tool \"a\" when token.scopes contains \"w\";",
 "{" ALICE ",'token':{'scopes':['r','w']}," CALL("a") "}", ALLOW, "r", 0, NULL},
{"contains substring",
 "rule \"r\": allow anyone to call tool \"a\" when not (args.sql contains \";\");",
 "{" ALICE "," CALL("a") ",'args':{'sql':'SELECT 1; DROP'}}", DENY, NULL, 0, NULL},
{"like",
 "rule \"r\": allow anyone to call tool \"a\" when args.p like \"/srv/*.txt\";",
 "{" ALICE "," CALL("a") ",'args':{'p':'/srv/x.txt'}}", ALLOW, "r", 0, NULL},
{"like miss",
 "rule \"r\": allow anyone to call tool \"a\" when args.p like \"/srv/*.txt\";",
 "{" ALICE "," CALL("a") ",'args':{'p':'/srv/a/x.txt'}}", DENY, NULL, 0, NULL},
{"matches whole string",
 "rule \"r\": allow anyone to call tool \"a\" when args.to matches \"[a-z.]+@example\\\\.(com|org)\";",
 "{" ALICE "," CALL("a") ",'args':{'to':'ann.lee@example.org'}}", ALLOW, "r", 0, NULL},
{"matches is anchored",
 "rule \"r\": allow anyone to call tool \"a\" when args.to matches \"[a-z.]+@example\\\\.(com|org)\";",
 "{" ALICE "," CALL("a") ",'args':{'to':'ann@example.org.evil.net'}}", DENY, NULL, 0, NULL},
{"matches dot is one code point",
 "rule \"r\": allow anyone to call tool \"a\" when args.w matches \"caf.\";",
 "{" ALICE "," CALL("a") ",'args':{'w':'caf\\u00e9'}}", ALLOW, "r", 0, NULL},
{"matches dot stops at newline",
 "rule \"r\": allow anyone to call tool \"a\" when args.w matches \"a.b\";",
 "{" ALICE "," CALL("a") ",'args':{'w':'a\\nb'}}", DENY, NULL, 0, NULL},
{"matches on a non-string is an error",
 "rule \"r\": deny anyone to call tool \"a\" when args.n matches \"[0-9]+\";\n"
 "rule \"ok\": allow anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") ",'args':{'n':12}}", DENY, "r", 1, NULL},
{"any element matches",
 "rule \"r\": deny anyone to call tool \"a\" when any args.tags matches \"secret-[0-9]+\";\n"
 "rule \"ok\": allow anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") ",'args':{'tags':['x','secret-42']}}", DENY, "r", 0, NULL},
{"all elements match",
 "rule \"r\": allow anyone to call tool \"a\" when all args.ids matches \"[a-f0-9]{4}\";",
 "{" ALICE "," CALL("a") ",'args':{'ids':['beef','f00d','abc']}}", DENY, NULL, 0, NULL},
{"folded literal matches",
 "rule \"r\": allow anyone to call tool \"a\" when \"abc\" matches \"a.c\" and args.n == 1;",
 "{" ALICE "," CALL("a") ",'args':{'n':1}}", ALLOW, "r", 0, NULL},
/* ---- value quantifiers (docs/language.md §11) ------------------------- */
{"any value of args finds a nested string",
 "rule \"r\": deny anyone to call tool \"a\" when any value of args contains \"..\";\n"
 "rule \"ok\": allow anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") ",'args':{'x':{'y':['a',{'z':'../etc'}]}}}", DENY, "r", 0, NULL},
{"any value of args: keys are not values",
 "rule \"r\": deny anyone to call tool \"a\" when any value of args contains \"..\";\n"
 "rule \"ok\": allow anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") ",'args':{'..':1,'b':'x'}}", ALLOW, "ok", 0, NULL},
{"all value of args skips numbers for a string operator",
 "rule \"r\": allow anyone to call tool \"a\" when all value of args starts_with \"/srv/\";",
 "{" ALICE "," CALL("a") ",'args':{'p':'/srv/a','n':3,'f':1.5,'b':true,'z':null}}", ALLOW, "r", 0, NULL},
{"all value of args: one string outside",
 "rule \"r\": allow anyone to call tool \"a\" when all value of args starts_with \"/srv/\";",
 "{" ALICE "," CALL("a") ",'args':{'p':['/srv/a','/etc/x']}}", DENY, NULL, 0, NULL},
{"all value of args with no arguments is true",
 "rule \"r\": allow anyone to call tool \"a\" when all value of args <= 10;",
 "{" ALICE "," CALL("a") "}", ALLOW, "r", 0, NULL},
{"any value of args.opts over ints",
 "rule \"r\": allow anyone to call tool \"a\" when any value of args.opts in [7, 8];",
 "{" ALICE "," CALL("a") ",'args':{'opts':{'a':'7','b':[1,8]}}}", ALLOW, "r", 0, NULL},
{"value of an absent object is an error",
 "rule \"r\": deny anyone to call tool \"a\" when any value of args.opts == \"x\";\n"
 "rule \"ok\": allow anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") ",'args':{}}", DENY, "r", 1, NULL},
{"value of a string is an error",
 "rule \"r\": allow anyone to call tool \"a\" when all value of args.opts == \"x\";",
 "{" ALICE "," CALL("a") ",'args':{'opts':'x'}}", DENY, NULL, 1, NULL},
{"value of: under on an unclean path is an error",
 "rule \"r\": allow anyone to call tool \"a\" when all value of args under \"/srv\";",
 "{" ALICE "," CALL("a") ",'args':{'p':'/srv/../etc'}}", DENY, NULL, 1, NULL},
{"value of with matches",
 "rule \"r\": deny anyone to call tool \"a\" when any value of args matches \"/(proc|sys)(/.*)?\";\n"
 "rule \"ok\": allow anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") ",'args':{'l':[{'p':'/proc/1/mem'}]}}", DENY, "r", 0, NULL},
{"a set named value still works after any",
 "set value = [\"a\", \"b\"];\nrule \"r\": allow anyone to call tool \"a\" when any value == \"b\";",
 "{" ALICE "," CALL("a") "}", ALLOW, "r", 0, NULL},
{"starts_with and ends_with",
 "rule \"r\": allow anyone to call tool \"a\" when args.sql starts_with \"SELECT \" and args.sql ends_with \"1\";",
 "{" ALICE "," CALL("a") ",'args':{'sql':'SELECT 1'}}", ALLOW, "r", 0, NULL},
{"starts_with miss",
 "rule \"r\": allow anyone to call tool \"a\" when args.sql starts_with \"SELECT \";",
 "{" ALICE "," CALL("a") ",'args':{'sql':'select 1'}}", DENY, NULL, 0, NULL},
{"under below",
 "rule \"r\": allow anyone to call tool \"a\" when args.p under \"/srv/repos\";",
 "{" ALICE "," CALL("a") ",'args':{'p':'/srv/repos/x/y.c'}}", ALLOW, "r", 0, NULL},
{"under equal",
 "rule \"r\": allow anyone to call tool \"a\" when args.p under \"/srv/repos\";",
 "{" ALICE "," CALL("a") ",'args':{'p':'/srv/repos'}}", ALLOW, "r", 0, NULL},
{"under trailing slash",
 "rule \"r\": allow anyone to call tool \"a\" when args.p under \"/srv/repos\";",
 "{" ALICE "," CALL("a") ",'args':{'p':'/srv/repos/'}}", ALLOW, "r", 0, NULL},
{"under sibling prefix",
 "rule \"r\": allow anyone to call tool \"a\" when args.p under \"/srv/repos\";",
 "{" ALICE "," CALL("a") ",'args':{'p':'/srv/reposx'}}", DENY, NULL, 0, NULL},
{"under traversal is an error",
 "rule \"r\": allow anyone to call tool \"a\" when args.p under \"/srv/repos\";",
 "{" ALICE "," CALL("a") ",'args':{'p':'/srv/repos/../etc'}}", DENY, NULL, 1, NULL},
{"under relative is an error",
 "rule \"r\": allow anyone to call tool \"a\" when args.p under \"/srv/repos\";",
 "{" ALICE "," CALL("a") ",'args':{'p':'srv/repos/x'}}", DENY, NULL, 1, NULL},
{"under empty segment is an error in a deny",
 "rule \"d\": deny anyone to call tool \"a\" when not (args.p under \"/srv\");\n"
 "rule \"r\": allow anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") ",'args':{'p':'/srv//x'}}", DENY, "d", 1, NULL},
{"arithmetic",
 "rule \"r\": allow anyone to call tool \"a\" when token.exp - context.time <= 900 and args.a + 1 == 3;",
 "{" ALICE ",'token':{'exp':1900}," CALL("a") ",'context':{'time':1000},'args':{'a':2}}", ALLOW, "r", 0, NULL},
{"arithmetic overflow is an error",
 "rule \"r\": allow anyone to call tool \"a\" when args.a + 1 > 0;",
 "{" ALICE "," CALL("a") ",'args':{'a':9223372036854775807}}", DENY, NULL, 1, NULL},
{"subtraction overflow is an error in a deny",
 "rule \"d\": deny anyone to call tool \"a\" when args.a - 1 > 0;\n"
 "rule \"r\": allow anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") ",'args':{'a':-9223372036854775808}}", DENY, "d", 1, NULL},
{"list equality element-wise",
 "attribute principal.groups: list<string>;\n"
 "rule \"r\": allow anyone to call tool \"a\" when principal.groups == [\"a\", \"b\"];",
 "{'principal':{'id':'x','groups':['a','b']}," CALL("a") "}", ALLOW, "r", 0, NULL},
{"list equality order matters",
 "attribute principal.groups: list<string>;\n"
 "rule \"r\": allow anyone to call tool \"a\" when principal.groups == [\"a\", \"b\"];",
 "{'principal':{'id':'x','groups':['b','a']}," CALL("a") "}", DENY, NULL, 0, NULL},
{"bool annotation as condition",
 "rule \"d\": deny anyone to call any tool when tool.destructive;\n"
 "rule \"r\": allow anyone to call any tool;",
 "{" ALICE "," CALL("a") ",'tool':{'destructive':true}}", DENY, "d", 0, NULL},
{"nested args path",
 "rule \"r\": allow anyone to call tool \"a\" when args.options.force == false;",
 "{" ALICE "," CALL("a") ",'args':{'options':{'force':false}}}", ALLOW, "r", 0, NULL},
{"quoted args key",
 "rule \"r\": allow anyone to call tool \"a\" when args[\"content-type\"] == \"json\";",
 "{" ALICE "," CALL("a") ",'args':{'content-type':'json'}}", ALLOW, "r", 0, NULL},
{"request method, tool name and server",
 "rule \"r\": allow anyone to call any tool when request.method == \"tools/call\" "
 "and tool.name == \"gh.x\" and tool.server == \"gh\";",
 "{" ALICE "," CALL("gh.x") ",'server':'gh'}", ALLOW, "r", 0, NULL},
{"resource uri",
 "rule \"r\": allow anyone to read any resource when resource.uri ends_with \".md\";",
 "{" ALICE ",'method':'resources/read','target':'file:///a.md'}", ALLOW, "r", 0, NULL},
{"prompt name",
 "rule \"r\": allow anyone to get any prompt when prompt.name == \"plan\";",
 "{" ALICE ",'method':'prompts/get','target':'plan'}", ALLOW, "r", 0, NULL},
{"has present",
 "rule \"r\": allow anyone to call tool \"a\" when args has path;",
 "{" ALICE "," CALL("a") ",'args':{'path':'/x'}}", ALLOW, "r", 0, NULL},
{"has absent is false without error",
 "rule \"r\": allow anyone to call tool \"a\" when token has exp;",
 "{" ALICE "," CALL("a") "}", DENY, NULL, 0, NULL},
{"has quoted key and other-typed value",
 "rule \"r\": allow anyone to call tool \"a\" when args has \"x-y\";",
 "{" ALICE "," CALL("a") ",'args':{'x-y':1.5}}", ALLOW, "r", 0, NULL},
{"has on a path undefined for the method is false",
 "rule \"r\": allow anyone to list tools unless tool has destructive;",
 "{" ALICE ",'method':'tools/list'}", ALLOW, "r", 0, NULL},
{"has roles is always true",
 "rule \"r\": allow anyone to call tool \"a\" when principal has roles and token has scopes;",
 "{" ALICE "," CALL("a") "}", ALLOW, "r", 0, NULL},
{"is with inheritance",
 "role eng;\nrole admin: eng;\nrule \"r\": allow anyone to call tool \"a\" when principal is eng;",
 "{'principal':{'id':'a','roles':['admin']}," CALL("a") "}", ALLOW, "r", 0, NULL},
{"is not held",
 "role eng;\nrole admin: eng;\nrule \"r\": allow anyone to call tool \"a\" when principal is admin;",
 "{'principal':{'id':'a','roles':['eng']}," CALL("a") "}", DENY, NULL, 0, NULL},
{"all under",
 "rule \"r\": allow anyone to call tool \"a\" when all args.ps under \"/srv\";",
 "{" ALICE "," CALL("a") ",'args':{'ps':['/srv/a','/srv/b/c']}}", ALLOW, "r", 0, NULL},
{"all with one outside",
 "rule \"r\": allow anyone to call tool \"a\" when all args.ps under \"/srv\";",
 "{" ALICE "," CALL("a") ",'args':{'ps':['/srv/a','/etc/b']}}", DENY, NULL, 0, NULL},
{"all of empty list is true",
 "rule \"r\": allow anyone to call tool \"a\" when all args.ps under \"/srv\";",
 "{" ALICE "," CALL("a") ",'args':{'ps':[]}}", ALLOW, "r", 0, NULL},
{"any of empty list is false",
 "rule \"r\": allow anyone to call tool \"a\" when any args.ps == \"x\";",
 "{" ALICE "," CALL("a") ",'args':{'ps':[]}}", DENY, NULL, 0, NULL},
{"any int comparison",
 "attribute args.ns: list<int>;\nrule \"r\": allow anyone to call tool \"a\" when any args.ns > 10;",
 "{" ALICE "," CALL("a") ",'args':{'ns':[1, 20, 3]}}", ALLOW, "r", 0, NULL},
{"all short-circuits before an erroring element",
 "rule \"r\": allow anyone to call tool \"a\" when all args.ps under \"/srv\";",
 "{" ALICE "," CALL("a") ",'args':{'ps':['/etc','rel']}}", DENY, NULL, 0, NULL},
{"all reaches an erroring element",
 "rule \"r\": allow anyone to call tool \"a\" when all args.ps under \"/srv\";",
 "{" ALICE "," CALL("a") ",'args':{'ps':['/srv/a','rel']}}", DENY, NULL, 1, NULL},
{"any short-circuits on a true element",
 "rule \"r\": allow anyone to call tool \"a\" when any args.ps under \"/srv\";",
 "{" ALICE "," CALL("a") ",'args':{'ps':['/srv/a','rel']}}", ALLOW, "r", 0, NULL},

/* ---- fail closed ---------------------------------------------------- */
{"absent attribute in allow",
 "rule \"r\": allow anyone to call tool \"a\" when args.limit <= 10;",
 "{" ALICE "," CALL("a") "}", DENY, NULL, 1, NULL},
{"absent attribute in deny",
 "rule \"d\": deny anyone to call tool \"a\" when context.mfa == false;\n"
 "rule \"r\": allow anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") "}", DENY, "d", 1, NULL},
{"wrong declared type",
 "attribute args.limit: int;\nrule \"r\": allow anyone to call tool \"a\" when args.limit <= 10;",
 "{" ALICE "," CALL("a") ",'args':{'limit':'5'}}", DENY, NULL, 1, NULL},
{"wrong type on undeclared attribute",
 "rule \"r\": allow anyone to call tool \"a\" when args.x == \"a\";",
 "{" ALICE "," CALL("a") ",'args':{'x':5}}", DENY, NULL, 1, NULL},
{"other-typed value",
 "rule \"d\": deny anyone to call tool \"a\" when args.x != \"a\";\n"
 "rule \"r\": allow anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") ",'args':{'x':null}}", DENY, "d", 1, NULL},
{"out of declared domain",
 "attribute context.env: string in [\"dev\", \"prod\"];\n"
 "rule \"r\": allow anyone to call tool \"a\" when context.env != \"prod\";",
 "{" ALICE "," CALL("a") ",'context':{'env':'qa'}}", DENY, NULL, 1, NULL},
{"annotation read under a method without tool",
 "rule \"d\": deny anyone to do anything when tool.destructive;\n"
 "rule \"r\": allow anyone to list tools;",
 "{" ALICE ",'method':'tools/list'}", DENY, "d", 1, NULL},
{"absent annotation is an error",
 "rule \"r\": allow anyone to call any tool when tool.read_only;",
 "{" ALICE "," CALL("a") "}", DENY, NULL, 1, NULL},
{"error in an earlier allow is reported with a later allow",
 "rule \"e\": allow anyone to call tool \"a\" when args.x == 1;\n"
 "rule \"r\": allow anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") "}", ALLOW, "r", 1, NULL},
{"error in a later allow is not reported",
 "rule \"r\": allow anyone to call tool \"a\";\n"
 "rule \"e\": allow anyone to call tool \"a\" when args.x == 1;",
 "{" ALICE "," CALL("a") "}", ALLOW, "r", 0, NULL},
{"error in an allow whose subject did not match is not reported",
 "rule \"e\": allow principal \"bob\" to call tool \"a\" when args.x == 1;\n"
 "rule \"r\": allow anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") "}", ALLOW, "r", 0, NULL},
{"deny decision lists its error and earlier allow errors",
 "rule \"e\": allow anyone to call tool \"a\" when args.x == 1;\n"
 "rule \"e2\": allow anyone to call tool \"a\" when args.y == 1;\n"
 "rule \"d\": deny anyone to call tool \"a\" when args.z == 1;",
 "{" ALICE "," CALL("a") "}", DENY, "d", 3, NULL},
{"deny with false condition does not report",
 "rule \"d\": deny anyone to call tool \"a\" when args.z == 1;\n"
 "rule \"r\": allow anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") ",'args':{'z':2}}", ALLOW, "r", 0, NULL},

/* ---- short-circuit, not, unless --------------------------------------- */
{"false and ERR is false",
 "rule \"d\": deny anyone to call tool \"a\" when args.n == 1 and args.missing == 2;\n"
 "rule \"r\": allow anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") ",'args':{'n':2}}", ALLOW, "r", 0, NULL},
{"ERR and false is ERR",
 "rule \"d\": deny anyone to call tool \"a\" when args.missing == 2 and args.n == 1;\n"
 "rule \"r\": allow anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") ",'args':{'n':2}}", DENY, "d", 1, NULL},
{"ERR or true is ERR",
 "rule \"r\": allow anyone to call tool \"a\" when args.missing == 1 or args.n == 2;",
 "{" ALICE "," CALL("a") ",'args':{'n':2}}", DENY, NULL, 1, NULL},
{"true or ERR is true",
 "rule \"r\": allow anyone to call tool \"a\" when args.n == 2 or args.missing == 1;",
 "{" ALICE "," CALL("a") ",'args':{'n':2}}", ALLOW, "r", 0, NULL},
{"not ERR is ERR",
 "rule \"d\": deny anyone to call tool \"a\" when not (args.missing == 1);\n"
 "rule \"r\": allow anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") "}", DENY, "d", 1, NULL},
{"literal true or ERR folds to true",
 "rule \"r\": allow anyone to call tool \"a\" when (1 + 1 == 2) or args.missing == 1;",
 "{" ALICE "," CALL("a") "}", ALLOW, "r", 0, NULL},
{"ERR or literal true is ERR",
 "rule \"r\": allow anyone to call tool \"a\" when args.missing == 1 or true;",
 "{" ALICE "," CALL("a") "}", DENY, NULL, 1, NULL},
{"several when clauses",
 "rule \"r\": allow anyone to call tool \"a\" when args.a == 1 when args.b == 2;",
 "{" ALICE "," CALL("a") ",'args':{'a':1,'b':2}}", ALLOW, "r", 0, NULL},
{"second when false",
 "rule \"r\": allow anyone to call tool \"a\" when args.a == 1 when args.b == 2;",
 "{" ALICE "," CALL("a") ",'args':{'a':1,'b':3}}", DENY, NULL, 0, NULL},
{"unless true blocks",
 "rule \"r\": allow anyone to call tool \"a\" unless args.force == true;",
 "{" ALICE "," CALL("a") ",'args':{'force':true}}", DENY, NULL, 0, NULL},
{"unless false allows",
 "rule \"r\": allow anyone to call tool \"a\" unless args.force == true;",
 "{" ALICE "," CALL("a") ",'args':{'force':false}}", ALLOW, "r", 0, NULL},
{"unless error is an error",
 "rule \"r\": allow anyone to call tool \"a\" unless args.force == true;",
 "{" ALICE "," CALL("a") "}", DENY, NULL, 1, NULL},
{"false when skips an erroring unless",
 "rule \"d\": deny anyone to call tool \"a\" when args.n == 1 unless args.missing;\n"
 "rule \"r\": allow anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") ",'args':{'n':0}}", ALLOW, "r", 0, NULL},
{"deny with unless admin and mfa",
 "role admin;\n"
 "rule \"d\": deny anyone to call any tool when tool.destructive "
 "unless principal is admin and context.mfa because \"need admin with MFA\";\n"
 "rule \"r\": allow anyone to call any tool;",
 "{'principal':{'id':'a','roles':['admin']}," CALL("x") ",'tool':{'destructive':true},'context':{'mfa':false}}",
 DENY, "d", 0, "admin with MFA"},
{"deny with unless satisfied",
 "role admin;\n"
 "rule \"d\": deny anyone to call any tool when tool.destructive "
 "unless principal is admin and context.mfa because \"need admin with MFA\";\n"
 "rule \"r\": allow anyone to call any tool;",
 "{'principal':{'id':'a','roles':['admin']}," CALL("x") ",'tool':{'destructive':true},'context':{'mfa':true}}",
 ALLOW, "r", 0, NULL},

{"non-bool value as a condition is an error",
 "rule \"d\": deny anyone to call tool \"a\" when args.flag;\n"
 "rule \"r\": allow anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") ",'args':{'flag':'yes'}}", DENY, "d", 1, NULL},
{"int in empty list literal is false",
 "attribute args.n: int;\nrule \"r\": allow anyone to call tool \"a\" unless args.n in [];",
 "{" ALICE "," CALL("a") ",'args':{'n':1}}", ALLOW, "r", 0, NULL},
{"list attribute outside its domain",
 "attribute principal.groups: list<string> in [\"a\", \"b\"];\n"
 "rule \"r\": allow anyone to call tool \"a\" when principal.groups contains \"a\";",
 "{'principal':{'id':'x','groups':['a','c']}," CALL("a") "}", DENY, NULL, 1, NULL},
{"token claim read as an attribute",
 "rule \"r\": allow anyone to call tool \"a\" when token.client_id == \"cli\" and token.iss ends_with \".example\";",
 "{" ALICE ",'token':{'client_id':'cli','iss':'auth.example'}," CALL("a") "}", ALLOW, "r", 0, NULL},
{"invoke glob covers completion",
 "rule \"r\": allow anyone to invoke \"completion/*\";",
 "{" ALICE ",'method':'completion/complete'}", ALLOW, "r", 0, NULL},
{"all in list literal",
 "rule \"r\": allow anyone to call tool \"a\" when all args.xs in [\"a\", \"b\"];",
 "{" ALICE "," CALL("a") ",'args':{'xs':['b','a','b']}}", ALLOW, "r", 0, NULL},
{"any substring contains",
 "rule \"r\": allow anyone to call tool \"a\" when any args.xs contains \"ab\";",
 "{" ALICE "," CALL("a") ",'args':{'xs':['x','cabd']}}", ALLOW, "r", 0, NULL},
{"all with ill-typed elements is an error",
 "rule \"r\": allow anyone to call tool \"a\" when all args.ns > 1;",
 "{" ALICE "," CALL("a") ",'args':{'ns':['a']}}", DENY, NULL, 1, NULL},
{"any on a non-list is an error",
 "rule \"d\": deny anyone to call tool \"a\" when any args.x == 1;\n"
 "rule \"r\": allow anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") ",'args':{'x':5}}", DENY, "d", 1, NULL},
{"folded literal like",
 "rule \"r\": allow anyone to call tool \"a\" when \"a/b\" like \"a/*\" and args.n == 1;",
 "{" ALICE "," CALL("a") ",'args':{'n':1}}", ALLOW, "r", 0, NULL},
{"literal under with traversal stays an error",
 "rule \"r\": allow anyone to call tool \"a\" when \"/srv/../etc\" under \"/srv\";",
 "{" ALICE "," CALL("a") "}", DENY, NULL, 1, NULL},
{"ordering on strings is an error",
 "rule \"r\": allow anyone to call tool \"a\" when args.n < 3;",
 "{" ALICE "," CALL("a") ",'args':{'n':'2'}}", DENY, NULL, 1, NULL},
{"resource uri under a method without a resource is an error",
 "rule \"d\": deny anyone to do anything when resource.uri starts_with \"file:\";\n"
 "rule \"r\": allow anyone to call any tool;",
 "{" ALICE "," CALL("a") "}", DENY, "d", 1, NULL},
{"tool server absent is an error",
 "rule \"r\": allow anyone to call any tool when tool.server == \"gh\";",
 "{" ALICE "," CALL("a") "}", DENY, NULL, 1, NULL},
{"errors of several earlier allows with a default deny",
 "rule \"e1\": allow anyone to call tool \"a\" when args.x == 1;\n"
 "rule \"e2\": allow anyone to call tool \"*\" when args.y == 1;\n"
 "rule \"e3\": allow principal \"bob\" to call tool \"*\" when args.y == 1;",
 "{" ALICE "," CALL("a") "}", DENY, NULL, 2, NULL},

/* ---- decision order ------------------------------------------------- */
{"first deny in source order",
 "rule \"d1\": deny anyone to call tool \"a\" because \"one\";\n"
 "rule \"d2\": deny anyone to call tool \"*\" because \"two\";",
 "{" ALICE "," CALL("a") "}", DENY, "d1", 0, "one"},
{"deny overrides an earlier allow",
 "rule \"r\": allow anyone to call tool \"a\";\n"
 "rule \"d\": deny anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") "}", DENY, "d", 0, NULL},
{"first allow in source order",
 "rule \"r1\": allow anyone to call tool \"*\";\n"
 "rule \"r2\": allow anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") "}", ALLOW, "r1", 0, NULL},
{"default allow",
 "default allow;\nrule \"d\": deny anyone to call tool \"x\";",
 "{" ALICE "," CALL("a") "}", ALLOW, NULL, 0, NULL},
{"default allow overridden by deny",
 "default allow;\nrule \"d\": deny anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") "}", DENY, "d", 0, NULL},
{"explicit default deny",
 "default deny;\nrule \"r\": allow anyone to call tool \"x\";",
 "{" ALICE "," CALL("a") "}", DENY, NULL, 0, NULL},
{"unnamed rule is named FILE:LINE",
 "policy \"p\" version \"1\";\n\nallow anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") "}", ALLOW, "t.tg:3", 0, NULL},
{"deny subject mismatch evaluates nothing",
 "rule \"d\": deny principal \"bob\" to call tool \"a\" when args.missing;\n"
 "rule \"r\": allow anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") "}", ALLOW, "r", 0, NULL},
{"deny action mismatch evaluates nothing",
 "rule \"d\": deny anyone to call tool \"b\" when args.missing;\n"
 "rule \"r\": allow anyone to call tool \"a\";",
 "{" ALICE "," CALL("a") "}", ALLOW, "r", 0, NULL},
/* ---- found by differential testing (tests/diff) ---------------------- */
{"slash double star slash: the second slash is still needed after a run",
 "rule \"r\": allow anyone to call tool \"a/**/b\";",
 "{" ALICE "," CALL("a/xb") "}", DENY, NULL, 0, NULL},
{"slash double star slash at the end needs its last slash",
 "rule \"d\": deny anyone to call tool \"*?/**/\";\nrule \"r\": allow anyone to call any tool;",
 "{" ALICE "," CALL("ab/.") "}", ALLOW, "r", 0, NULL},
{"an action naming only an empty set compiles and matches nothing",
 "set none = [];\nrule \"e\": allow anyone to call tool none;\n"
 "rule \"r\": allow anyone to call tool \"x\";",
 "{" ALICE "," CALL("x") "}", ALLOW, "r", 0, NULL},
};

/* ---- compiling ---------------------------------------------------------- */

static tg_policy *compile_policy(const char *src)
{
	tg_arena arena;
	tg_diags diags;
	tg_arena_init(&arena);
	tg_diags_init(&diags, &arena);
	tg_policy *p = NULL;
	unsigned char *bc = NULL;
	size_t len = 0;
	tg_ast *ast = tg_parse(&arena, "t.tg", src, strlen(src), &diags);
	bool ok = ast && diags.nerrors == 0 && tg_check(ast, &diags) &&
		  tg_codegen(ast, &diags, &bc, &len);
	if (!ok) {
		tg_diags_print(stderr, "t.tg", src, strlen(src), &diags);
	} else {
		tg_load_diag err;
		if (tg_policy_load_diag(bc, len, &p, &err) != TG_OK)
			fprintf(stderr, "load: %s (pc %lld)\n", err.reason, (long long)err.pc);
	}
	free(bc);
	tg_arena_free(&arena);
	return p;
}

/* ---- requests ------------------------------------------------------------ */

/* Parses text (with ' for ") into a request for policy p, through the same
 * reader `toolgate eval` uses (mcp/request_json.c). */
static void fill_request(const tg_policy *p, const char *text, tg_json_request *r)
{
	char *js = strdup(text);
	char err[256];
	assert_non_null(js);
	for (char *c = js; *c; c++)
		if (*c == '\'')
			*c = '"';
	if (tg_json_request_parse(p, js, strlen(js), r, err, sizeof err) < 0)
		fail_msg("request %s: %s", js, err);
	free(js);
}

/* ---- decisions ---------------------------------------------------------- */

static void run_case(void **state)
{
	const struct sem_case *c = *state;
	tg_policy *p = compile_policy(c->policy);
	if (!p)
		fail_msg("policy did not compile: %s", c->policy);
	tg_json_request r;
	tg_decision d;
	fill_request(p, c->request, &r);
	tg_status s = tg_eval(p, &r.req, &d);
	if (s != TG_OK)
		fail_msg("tg_eval: %s (%s)", tg_strerror(s), d.reason ? d.reason : "");
	bool ok = (int)d.effect == c->decision && d.nerrors == c->errors &&
		  ((!c->rule && !d.rule_id) || (c->rule && d.rule_id && strcmp(c->rule, d.rule_id) == 0)) &&
		  (!c->reason || (d.reason && strstr(d.reason, c->reason)));
	if (!ok) {
		fprintf(stderr, "case '%s'\n  policy: %s\n  request: %s\n"
			"  expected %s rule %s errors %zu%s%s\n  got      %s rule %s errors %zu reason %s\n",
			c->name, c->policy, c->request, c->decision ? "allow" : "deny",
			c->rule ? c->rule : "(default)", c->errors, c->reason ? " reason ~ " : "",
			c->reason ? c->reason : "", d.effect == TG_ALLOW ? "allow" : "deny",
			d.rule_id ? d.rule_id : "(default)", d.nerrors, d.reason ? d.reason : "(none)");
		for (size_t i = 0; i < d.nerrors && i < TG_DECISION_MAX_ERRORS; i++)
			fprintf(stderr, "    error %s: %s\n", d.errors[i].rule_id, d.errors[i].message);
	}
	tg_json_request_free(&r);
	tg_policy_free(p);
	assert_true(ok);
}

/* ---- visibility --------------------------------------------------------- */

struct vis_case {
	const char *name;
	const char *policy;
	const char *request;	/* principal, token, context */
	tg_entry_kind kind;
	const char *entry;	/* name or URI */
	tg_hint destructive;	/* tools: other hints take MCP defaults */
	bool visible;
};

#define VIS_REQ "{'principal':{'id':'alice'},'method':'tools/list','context':{'env':'staging'}}"

static const struct vis_case vis_cases[] = {
{"matching allow is visible",
 "allow anyone to call tool \"gh.*\";", VIS_REQ, TG_ENTRY_TOOL, "gh.issues", TG_HINT_TRUE, true},
{"no matching allow is hidden",
 "allow anyone to call tool \"gh.*\";", VIS_REQ, TG_ENTRY_TOOL, "pg.query", TG_HINT_TRUE, false},
{"args read is UNKNOWN and shows the tool",
 "allow anyone to call tool \"a\" when args.limit <= 10;", VIS_REQ, TG_ENTRY_TOOL, "a", TG_HINT_TRUE, true},
{"args has is UNKNOWN, not of UNKNOWN too",
 "allow anyone to call tool \"a\" when not (args has path);", VIS_REQ, TG_ENTRY_TOOL, "a", TG_HINT_TRUE, true},
{"UNKNOWN and false is false",
 "allow anyone to call tool \"a\" when args.x == 1 and context.env == \"prod\";",
 VIS_REQ, TG_ENTRY_TOOL, "a", TG_HINT_TRUE, false},
{"false and UNKNOWN is false",
 "allow anyone to call tool \"a\" when context.env == \"prod\" and args.x == 1;",
 VIS_REQ, TG_ENTRY_TOOL, "a", TG_HINT_TRUE, false},
{"UNKNOWN or false is UNKNOWN",
 "allow anyone to call tool \"a\" when args.x == 1 or context.env == \"prod\";",
 VIS_REQ, TG_ENTRY_TOOL, "a", TG_HINT_TRUE, true},
{"UNKNOWN and an error is an error",
 "allow anyone to call tool \"a\" when args.x == 1 and context.missing == 1;",
 VIS_REQ, TG_ENTRY_TOOL, "a", TG_HINT_TRUE, false},
{"UNKNOWN operand does not hide an error on the other side",
 "allow anyone to call tool \"a\" when args.x == context.missing;",
 VIS_REQ, TG_ENTRY_TOOL, "a", TG_HINT_TRUE, false},
{"deny UNKNOWN does not hide",
 "deny anyone to call any tool when args.force == true;\nallow anyone to call any tool;",
 VIS_REQ, TG_ENTRY_TOOL, "a", TG_HINT_TRUE, true},
{"deny error hides",
 "deny anyone to call any tool when context.missing == 1;\nallow anyone to call any tool;",
 VIS_REQ, TG_ENTRY_TOOL, "a", TG_HINT_TRUE, false},
{"deny true on annotations hides",
 "deny anyone to call any tool when tool.destructive and context.env == \"staging\";\n"
 "allow anyone to call any tool;", VIS_REQ, TG_ENTRY_TOOL, "a", TG_HINT_TRUE, false},
{"deny false on annotations shows",
 "deny anyone to call any tool when tool.destructive;\nallow anyone to call any tool;",
 VIS_REQ, TG_ENTRY_TOOL, "a", TG_HINT_FALSE, true},
{"default allow shows",
 "default allow;\ndeny anyone to call tool \"x\";", VIS_REQ, TG_ENTRY_TOOL, "a", TG_HINT_TRUE, true},
{"default allow still hides a denied tool",
 "default allow;\ndeny anyone to call tool \"x\";", VIS_REQ, TG_ENTRY_TOOL, "x", TG_HINT_TRUE, false},
{"resource entry as resources/read",
 "allow anyone to read resource \"file:///w/**\";", VIS_REQ, TG_ENTRY_RESOURCE, "file:///w/a/b", TG_HINT_ABSENT, true},
{"resource entry outside",
 "allow anyone to read resource \"file:///w/**\";", VIS_REQ, TG_ENTRY_RESOURCE, "file:///x", TG_HINT_ABSENT, false},
{"resource entry with a dot-dot segment is hidden",
 "allow anyone to read any resource;", VIS_REQ, TG_ENTRY_RESOURCE, "file:///w/../etc", TG_HINT_ABSENT, false},
{"prompt entry as prompts/get",
 "allow anyone to get prompt \"plan*\";", VIS_REQ, TG_ENTRY_PROMPT, "planner", TG_HINT_ABSENT, true},
{"value quantifier over args is UNKNOWN and shows the tool",
 "allow anyone to call tool \"a\" when all value of args like \"/srv/*\";",
 VIS_REQ, TG_ENTRY_TOOL, "a", TG_HINT_TRUE, true},
{"value quantifier deny is UNKNOWN, which hides nothing",
 "deny anyone to call tool \"a\" when any value of args.opts contains \"..\";\n"
 "allow anyone to call any tool;", VIS_REQ, TG_ENTRY_TOOL, "a", TG_HINT_TRUE, true},
{"value quantifier: an error in V still hides",
 "allow anyone to call tool \"a\" when any value of args == context.missing;",
 VIS_REQ, TG_ENTRY_TOOL, "a", TG_HINT_TRUE, false},
{"role subject applies in visibility",
 "role eng;\nallow role eng to call any tool;", VIS_REQ, TG_ENTRY_TOOL, "a", TG_HINT_TRUE, false},
};

static void run_vis_case(void **state)
{
	const struct vis_case *c = *state;
	tg_policy *p = compile_policy(c->policy);
	if (!p)
		fail_msg("policy did not compile: %s", c->policy);
	tg_json_request r;
	fill_request(p, c->request, &r);
	tg_entry en;
	tg_entry_init(&en);
	en.kind = c->kind;
	en.name.ptr = c->entry;
	en.name.len = strlen(c->entry);
	if (c->kind == TG_ENTRY_TOOL) {
		en.read_only = TG_HINT_FALSE;
		en.destructive = c->destructive;
		en.idempotent = TG_HINT_FALSE;
		en.open_world = TG_HINT_TRUE;
	}
	bool visible = !c->visible;
	tg_visible(p, &r.req, &en, &visible);
	if (visible != c->visible)
		fprintf(stderr, "case '%s': expected %s, got %s\n", c->name,
			c->visible ? "visible" : "hidden", visible ? "visible" : "hidden");
	tg_json_request_free(&r);
	tg_policy_free(p);
	assert_true(visible == c->visible);
}

/* ---- main ---------------------------------------------------------------- */

int main(void)
{
	size_t ns = sizeof sem_cases / sizeof sem_cases[0];
	size_t nv = sizeof vis_cases / sizeof vis_cases[0];
	struct CMUnitTest *tests = calloc(ns + nv, sizeof *tests);
	if (!tests)
		return 1;
	for (size_t i = 0; i < ns; i++) {
		tests[i].name = sem_cases[i].name;
		tests[i].test_func = run_case;
		tests[i].initial_state = (void *)&sem_cases[i];
	}
	for (size_t i = 0; i < nv; i++) {
		tests[ns + i].name = vis_cases[i].name;
		tests[ns + i].test_func = run_vis_case;
		tests[ns + i].initial_state = (void *)&vis_cases[i];
	}
	int rc = _cmocka_run_group_tests("semantics", tests, ns + nv, NULL, NULL);
	free(tests);
	return rc;
}
