/*
 * test_runtime_abi.c - the runtime's public ABI as a program built against
 * toolgate.h sees it: the reusable opaque decision and its accessors, the
 * library-allocated load error, size-versioned requests and entries (entry
 * arrays laid out at the caller's stride), nested trees (validated,
 * digested, and read by operators as values of no policy type), slot
 * records, and the tg_status convention of tg_path_under.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "policy_fixture.h"
#include "toolgate/toolgate.h"

#define S(lit) ((tg_str){ (lit), sizeof(lit) - 1 })

static const char src[] =
	"policy \"abi\";\n"
	"role engineer;\n"
	"rule \"deny-broken\": deny anyone to call tool \"x.*\" when args.o == \"v\"\n"
	"  because \"objects are not strings\";\n"
	"rule \"has-o\": allow anyone to call tool \"y.*\" when args has o;\n"
	"rule \"eng\": allow role engineer to call tool \"fs.*\";\n";

static tg_policy *P;

static int setup(void **state)
{
	P = compile_policy(src);
	return 0;
}

static int teardown(void **state)
{
	tg_policy_free(P);
	return 0;
}

static void call(tg_request *r, const char *tool)
{
	tg_request_init(r);
	r->principal_id = S("alice");
	r->method = S("tools/call");
	r->target.ptr = tool;
	r->target.len = strlen(tool);
}

static void test_decision_accessors(void **state)
{
	static const tg_str roles[] = { { "engineer", 8 } };
	tg_decision *d;
	tg_request r;
	uint32_t rule = 0;
	const char *id = NULL, *msg = NULL;

	assert_int_equal(tg_decision_create(&d), TG_OK);
	/* A new decision is a deny by the default. */
	assert_int_equal(tg_decision_effect(d), TG_DENY);
	assert_int_equal(tg_decision_rule(d), TG_NO_RULE);
	assert_null(tg_decision_rule_id(d));

	call(&r, "fs.read");
	r.roles = roles;
	r.nroles = 1;
	assert_int_equal(tg_eval(P, &r, d), TG_OK);
	assert_int_equal(tg_decision_effect(d), TG_ALLOW);
	assert_string_equal(tg_decision_rule_id(d), "eng");
	assert_string_equal(tg_policy_rule_id(P, tg_decision_rule(d)), "eng");
	assert_false(tg_decision_invalid(d));
	assert_false(tg_decision_by_error(d));
	assert_int_equal(tg_decision_error_count(d), 0);

	/* Reused: an absent args.o is an error in a deny rule, which applies. */
	call(&r, "x.run");
	assert_int_equal(tg_eval(P, &r, d), TG_OK);
	assert_int_equal(tg_decision_effect(d), TG_DENY);
	assert_string_equal(tg_decision_reason(d), "objects are not strings");
	assert_true(tg_decision_by_error(d));
	assert_int_equal(tg_decision_error_count(d), 1);
	assert_int_equal(tg_decision_error_total(d), 1);
	assert_int_equal(tg_decision_error(d, 0, &rule, &id, &msg), TG_OK);
	assert_int_equal(rule, 0);
	assert_string_equal(id, "deny-broken");
	assert_non_null(strstr(msg, "args.o"));
	assert_int_equal(tg_decision_error(d, 1, NULL, NULL, NULL), TG_EINVAL);

	/* Decisions a transport makes itself. */
	tg_decision_set_invalid(d, "invalid request: a test");
	assert_true(tg_decision_invalid(d));
	assert_false(tg_decision_by_error(d));
	assert_string_equal(tg_decision_reason(d), "invalid request: a test");
	assert_int_equal(tg_decision_error_count(d), 0);
	tg_decision_set_denied(d, "refused by the transport");
	assert_false(tg_decision_invalid(d));
	assert_int_equal(tg_decision_effect(d), TG_DENY);
	assert_string_equal(tg_decision_reason(d), "refused by the transport");

	/* NULL arguments deny. */
	assert_int_equal(tg_eval(NULL, &r, d), TG_EINVAL);
	assert_int_equal(tg_decision_effect(d), TG_DENY);
	assert_int_equal(tg_eval(P, &r, NULL), TG_EINVAL);
	tg_decision_free(d);
	tg_decision_free(NULL);
	assert_int_equal(tg_decision_effect(NULL), TG_DENY);
}

static void test_load_error_record(void **state)
{
	static const unsigned char junk[64] = "not bytecode";
	tg_load_error *err = (tg_load_error *)1;
	tg_policy *p = NULL;

	assert_int_equal(tg_policy_load(junk, sizeof junk, &p, &err), TG_EBADMAGIC);
	assert_null(p);
	assert_non_null(err);
	assert_int_equal(err->status, TG_EBADMAGIC);
	assert_int_equal(err->pc, -1);
	assert_true(err->reason[0] != '\0');
	tg_load_error_free(err);
	/* Without a place for the record, nothing is allocated. */
	assert_int_equal(tg_policy_load(junk, sizeof junk, &p, NULL), TG_EBADMAGIC);
	err = (tg_load_error *)1;
	assert_int_equal(tg_policy_load_file("/nonexistent.tgb", &p, &err), TG_EIO);
	assert_non_null(err);
	assert_memory_equal(err->reason, "cannot open: ", 13);
	tg_load_error_free(err);
	tg_load_error_free(NULL);
}

static void test_request_size(void **state)
{
	tg_decision *d;
	tg_request r;
	const char *why = NULL;

	assert_int_equal(tg_decision_create(&d), TG_OK);
	call(&r, "fs.read");
	assert_int_equal(r.size, sizeof r);
	r.size = 0;	/* built without tg_request_init */
	assert_int_equal(tg_request_check(&r, &why), TG_EINVALID_REQUEST);
	assert_non_null(strstr(why, "tg_request_init"));
	assert_int_equal(tg_eval(P, &r, d), TG_EINVALID_REQUEST);
	assert_true(tg_decision_invalid(d));
	/* A later, larger tg_request is read up to what this library knows. */
	r.size = sizeof r + 64;
	assert_int_equal(tg_request_check(&r, NULL), TG_OK);
	tg_decision_free(d);
}

static void test_entry_stride(void **state)
{
	/* A caller whose tg_entry is larger (a later header): the library
	 * steps by the entries' own size. */
	struct bigger {
		tg_entry e;
		char later_members[40];
	} list[3];
	static const char *const names[] = { "fs.read", "db.query", "fs.write" };
	static const tg_str roles[] = { { "engineer", 8 } };
	bool vis[3] = { false, true, false };
	tg_request r;

	call(&r, "unused");
	r.method = S("tools/list");
	r.roles = roles;
	r.nroles = 1;
	for (int i = 0; i < 3; i++) {
		tg_entry_init(&list[i].e);
		list[i].e.size = sizeof list[i];
		list[i].e.name.ptr = names[i];
		list[i].e.name.len = strlen(names[i]);
	}
	assert_int_equal(tg_visible_many(P, &r, &list[0].e, 3, vis), TG_OK);
	assert_true(vis[0]);
	assert_false(vis[1]);
	assert_true(vis[2]);
	/* Mixed sizes in one call: refused, hidden. */
	list[1].e.size = sizeof(tg_entry);
	assert_int_equal(tg_visible_many(P, &r, &list[0].e, 3, vis), TG_EINVAL);
	assert_false(vis[1]);
	/* An entry without its size. */
	list[0].e.size = 0;
	assert_int_equal(tg_visible(P, &r, &list[0].e, &vis[0]), TG_EINVAL);
	assert_false(vis[0]);
}

/* {"k": [true, {"z": "s"}]} as an OBJECT of 4 nodes. */
static void tree(tg_node n[4], tg_value *v)
{
	memset(n, 0, 4 * sizeof *n);
	n[0].key = S("k");
	n[0].value.type = TG_VALUE_ARRAY;
	n[0].value.u.tree.nodes = &n[1];
	n[0].value.u.tree.n = 3;
	n[1].value.type = TG_VALUE_BOOL;
	n[1].value.u.b = true;
	n[2].value.type = TG_VALUE_OBJECT;
	n[2].value.u.tree.nodes = &n[3];
	n[2].value.u.tree.n = 1;
	n[3].key = S("z");
	n[3].value.type = TG_VALUE_STRING;
	n[3].value.u.s = S("s");
	memset(v, 0, sizeof *v);
	v->type = TG_VALUE_OBJECT;
	v->u.tree.nodes = n;
	v->u.tree.n = 4;
}

static void test_trees(void **state)
{
	tg_node n[4];
	tg_value slots[8];
	tg_request r;
	tg_decision *d;
	uint32_t o;
	char before[65], after[65];
	const char *why;

	assert_int_equal(tg_decision_create(&d), TG_OK);
	assert_int_equal(tg_policy_slot_find(P, "args.o", &o), TG_OK);
	assert_true(o < 8);
	memset(slots, 0, sizeof slots);
	tree(n, &slots[o]);
	call(&r, "x.run");
	r.slots = slots;
	r.nslots = tg_policy_slot_count(P);
	assert_int_equal(tg_request_check(&r, NULL), TG_OK);

	/* An operator on a tree is a type error, so the deny applies ... */
	assert_int_equal(tg_eval(P, &r, d), TG_OK);
	assert_string_equal(tg_decision_rule_id(d), "deny-broken");
	assert_int_equal(tg_decision_error_count(d), 1);
	/* ... and `has` sees it. */
	r.target = S("y.run");
	assert_int_equal(tg_eval(P, &r, d), TG_OK);
	assert_string_equal(tg_decision_rule_id(d), "has-o");

	/* The digest covers the tree's contents. */
	tg_request_digest(&r, before);
	n[3].value.u.s = S("t");
	tg_request_digest(&r, after);
	assert_string_not_equal(before, after);

	/* Malformed trees are invalid requests. */
	n[3].value.u.s = S("\xff");
	assert_int_equal(tg_request_check(&r, &why), TG_EINVALID_REQUEST);
	assert_non_null(strstr(why, "UTF-8"));
	tree(n, &slots[o]);
	n[1].key = S("stray");	/* a key inside an array */
	assert_int_equal(tg_request_check(&r, &why), TG_EINVALID_REQUEST);
	tree(n, &slots[o]);
	n[2].value.u.tree.n = 2;	/* runs past its parent */
	assert_int_equal(tg_request_check(&r, &why), TG_EINVALID_REQUEST);
	assert_non_null(strstr(why, "does not fit"));
	tree(n, &slots[o]);
	n[3].key.ptr = NULL;	/* an object member without a key */
	assert_int_equal(tg_request_check(&r, &why), TG_EINVALID_REQUEST);
	assert_int_equal(tg_eval(P, &r, d), TG_EINVALID_REQUEST);
	assert_int_equal(tg_decision_effect(d), TG_DENY);

	/* The whole args object, when given, must be an object. */
	tree(n, &slots[o]);
	r.args.type = TG_VALUE_STRING;
	r.args.u.s = S("no");
	assert_int_equal(tg_request_check(&r, &why), TG_EINVALID_REQUEST);
	r.args = slots[o];
	assert_int_equal(tg_request_check(&r, NULL), TG_OK);
	tg_decision_free(d);
}

static void test_deep_tree(void **state)
{
	enum { DEPTH = 70 };
	tg_node n[DEPTH];
	tg_value v;
	tg_request r;
	const char *why;

	call(&r, "fs.read");
	r.slots = &v;
	r.nslots = 1;
	/* [[[...]]] `levels` deep: each array holds the next. */
	for (int levels = 64; levels <= 66; levels++) {
		memset(n, 0, sizeof n);
		for (int i = 0; i < levels - 1; i++) {
			n[i].value.type = TG_VALUE_ARRAY;
			n[i].value.u.tree.nodes = i + 2 < levels ? &n[i + 1] : NULL;
			n[i].value.u.tree.n = (size_t)(levels - 2 - i);
		}
		memset(&v, 0, sizeof v);
		v.type = TG_VALUE_ARRAY;
		v.u.tree.nodes = n;
		v.u.tree.n = (size_t)(levels - 1);
		if (levels <= 64) {
			why = NULL;
			tg_request_check(&r, &why);
			if (why)
				fail_msg("%d levels: %s", levels, why);
		} else {
			assert_int_equal(tg_request_check(&r, &why), TG_EINVALID_REQUEST);
			assert_non_null(strstr(why, "nested"));
		}
	}
}

static void test_slots_and_under(void **state)
{
	const tg_slot_info *info;
	uint32_t slot = 7;
	bool under = false;

	assert_int_equal(tg_policy_slot_find(P, "args.o", &slot), TG_OK);
	info = tg_policy_slot(P, slot);
	assert_non_null(info);
	assert_string_equal(info->name, "args.o");
	assert_int_equal(info->root, TG_SLOT_ARGS);
	assert_null(tg_policy_slot(P, tg_policy_slot_count(P)));
	assert_int_equal(tg_policy_slot_find(P, "args.none", &slot), TG_ENOENT);
	assert_int_equal(tg_policy_slot_find(P, NULL, &slot), TG_EINVAL);
	assert_int_equal(tg_policy_rule_count(P), 3);
	assert_null(tg_policy_rule_id(P, TG_NO_RULE));

	assert_int_equal(tg_path_under("/srv/a/b", 8, "/srv", 4, &under), TG_OK);
	assert_true(under);
	assert_int_equal(tg_path_under("/srvx", 5, "/srv", 4, &under), TG_OK);
	assert_false(under);
	under = true;
	assert_int_equal(tg_path_under("/srv/../etc", 11, "/srv", 4, &under), TG_EINVAL);
	assert_true(under);	/* untouched on error */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decision_accessors),
		cmocka_unit_test(test_load_error_record),
		cmocka_unit_test(test_request_size),
		cmocka_unit_test(test_entry_stride),
		cmocka_unit_test(test_trees),
		cmocka_unit_test(test_deep_tree),
		cmocka_unit_test(test_slots_and_under),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
