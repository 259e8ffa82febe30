/*
 * vm.h - the interpreter's state and entry points (internal).
 *
 * One tg_vm lives on the C stack of tg_eval / tg_visible and is reused for
 * every rule of that evaluation. Its size is fixed by the format's limits
 * (TG_BC_MAX_STACK operand entries, TG_BC_MAX_ROLES held-role bits); the
 * verifier has proved each rule stays within the policy's declared depth,
 * which is at most that.
 */
#ifndef TG_VM_H
#define TG_VM_H

#include "decision.h"
#include "policy.h"

/* Value tags. Lists are borrowed: from the request (LSTR, LINT) or from
 * the policy's pools (PSTR: a REFS range of strings, PINT: an INTS range).
 * TREE is an object or array of the request's args tree (LOAD_ARGS), the
 * subject of a value quantifier: u.nodes, n nodes. */
enum {
	TG_V_BOOL,
	TG_V_INT,
	TG_V_STR,
	TG_V_LSTR,
	TG_V_LINT,
	TG_V_PSTR,
	TG_V_PINT,
	TG_V_OTHER,
	TG_V_TREE,
	TG_V_UNKNOWN
};

/* Where a value was read from, for error messages: 0 nowhere (a constant
 * or a result), slot + 1, or TG_VM_ORIGIN_BUILTIN | builtin. */
#define TG_VM_ORIGIN_BUILTIN 0x8000u

typedef struct tg_vm_val {
	uint8_t t;
	uint8_t b;		/* TG_V_BOOL */
	uint16_t origin;
	uint32_t n;		/* string length, list length */
	union {
		const char *s;
		int64_t i;
		const tg_str *strs;
		const int64_t *ints;
		uint32_t first;	/* PSTR / PINT */
		const tg_node *nodes;	/* TREE */
	} u;
} tg_vm_val;

typedef struct tg_vm {
	const tg_layout *l;
	const tg_request *req;
	uint8_t cls;		/* tg_bc_class of req->method */
	bool visibility;	/* args reads are UNKNOWN */
	bool internal;		/* an impossible state was met */
	uint32_t insns;		/* instructions executed since tg_vm_init */
	bool have_pairs;	/* target_pairs is computed (lazily, once) */
	uint64_t target_pairs;	/* tg_glob_pairs of req->target */
	uint64_t in_domain;	/* slot i < 64 passed its domain check */
	/* bit (len % 64) of principal.id, of the client id (0 when absent)
	 * and of each scope (0 until a scope subject needs it): against a
	 * rule's subj_lens, a subject none of whose strings has a matching
	 * length is ruled out with one AND */
	uint64_t id_len, client_len, scope_lens;
	/* the keys (REFS first, n) of the last LOAD_ARGS: the quantifier
	 * that pops its value names it in errors */
	uint32_t subj_first, subj_n;
	uint64_t held[TG_BC_MAX_ROLES / 64];	/* declared roles the principal holds */
	tg_vm_val stack[TG_BC_MAX_STACK];
	char msg[TG_ERROR_MESSAGE_MAX];		/* the last error */
} tg_vm;

/* Prepares vm for evaluating rules of p on req (a valid request whose
 * method has class cls). */
void tg_vm_init(tg_vm *vm, const tg_layout *l, const tg_request *req, tg_bc_class cls,
		bool visibility);

/* Runs one rule's condition. TRUE, FALSE, UNKNOWN (visibility only) or
 * ERROR with vm->msg set (vm->internal too for an impossible state). */
tg_cond_result tg_vm_run(tg_vm *vm, uint32_t code_off, uint32_t code_len);

/* Writes a, b, c, d (NULLs skipped) into vm->msg, truncating. */
void tg_vm_say(tg_vm *vm, const char *a, const char *b, const char *c, const char *d);

/* decision.c's: reset to deny, append an error, fill in the decider. */
void tg_decision_deny(tg_decision *d);
void tg_decision_error_add(tg_decision *d, const tg_layout *l, uint32_t rule, const char *msg);
void tg_decision_decide(tg_decision *d, const tg_layout *l, int64_t decider, bool by_deny,
			size_t allow_nerrors, uint32_t insns);

/* tg_eval of a valid request of class cls over the load-time candidates
 * (l->pool set), or over the index postings merged at run time. */
tg_status tg_vm_listed(const tg_layout *l, const tg_request *req, tg_bc_class cls, tg_decision *d);
tg_status tg_vm_merged(const tg_layout *l, const tg_request *req, tg_bc_class cls, tg_decision *d);

/* ---- quick.c: conditions as decision graphs -------------------------------- */

/*
 * Most conditions are a few comparisons of request values with constants,
 * joined by and/or/not. quick.c translates the code of such a rule at load
 * into a quick program: a graph whose nodes are tests (an instruction that
 * reads and compares, or a LOAD with the `in` list, LIKE, UNDER or MATCH that
 * follows it) with native operands (string pointers, integers, the value
 * type a slot must hold), and whose edges say, for a false and a true
 * outcome, which test comes next - or the condition's value - and how
 * many bytecode instructions the interpreter would have run on the way,
 * so tg_decision.instructions does not change. The and/or/not/jump
 * instructions between tests are thereby run once, at load. Whatever a
 * test does not expect (an absent attribute, a value of another type or
 * out of its domain, an unclean path) hands the rule to tg_vm_run, which
 * starts over and reports it exactly: a test has no effect but the
 * in_domain memo, which tg_vm_run keeps too, so starting over is safe.
 *
 * In visibility mode a test of `args` values is UNKNOWN, as the
 * interpreter makes every `args` read, and the and/or/not/jumps after it
 * follow Kleene logic: such a test has a third edge, for UNKNOWN, leading
 * on to the condition's value (TG_Q_UNKNOWN among them). A program with
 * those edges serves both modes (tg_rule_view.quick_vis); the normal mode
 * never takes them.
 */
enum {
	TG_Q_CONST,	/* cmp (0 or 1): only in translation, and as the entry */
	TG_Q_IS,	/* held[a] & mask */
	TG_Q_HAS,	/* slot a present */
	TG_Q_HASB,	/* built-in a present */
	TG_Q_BOOL,	/* slot a, a bool */
	TG_Q_BOOLB,	/* built-in a, a bool */
	TG_Q_STR,	/* slot a  OP  string s/n */
	TG_Q_STRB,	/* built-in a  OP  string s/n */
	TG_Q_INT,	/* slot a  OP  k */
	TG_Q_SLOTS,	/* slot a  OP  slot b */
	TG_Q_LIST,	/* slot a  OP  the STRS or INTS list (first c, n b; is_ints) */
	TG_Q_LIKE,	/* slot a (built-in when builtin) like pattern c */
	TG_Q_UNDER,	/* slot a (built-in when builtin) under the string c */
	TG_Q_MATCH,	/* slot a (built-in when builtin) matches DFA c */
	/* TG_Q_LIST, LIKE, UNDER and MATCH with quant set test every (all) or some
	 * (any) element of a list instead: `all args.paths under "/data"` */
	TG_Q_TESTS,	/* (kinds of test before this one) */
	/* Only in translation (quick.c), never in a program: */
	TG_Q_NOT = TG_Q_TESTS,
	TG_Q_AND,
	TG_Q_OR,
	TG_Q_JFALSE,	/* to instruction a */
	TG_Q_JTRUE,
	TG_Q_RET
};

enum { TG_Q_ALL = 1, TG_Q_ANY };

/* Where an edge may lead besides another node: the condition's value. */
#define TG_Q_UNKNOWN 0xFFFDu
#define TG_Q_FALSE 0xFFFEu
#define TG_Q_TRUE 0xFFFFu

/* The edges of a node: the test's outcome. */
enum { TG_Q_EDGE_FALSE, TG_Q_EDGE_TRUE, TG_Q_EDGE_UNKNOWN, TG_Q_EDGES };

/* What a test reads of `args` (tg_qinsn.args). */
enum {
	TG_Q_ARGS_NONE,	/* nothing: the same value in both modes */
	TG_Q_ARGS_ONLY,	/* only `args` slots: UNKNOWN in visibility mode */
	TG_Q_ARGS_MIXED	/* an `args` slot and another (which may be absent, an
			 * error the interpreter reports): the interpreter's */
};

/* Quick programs keep at most this many bools on the stack they stand
 * for, and have at most this many nodes. */
#define TG_Q_MAX_DEPTH 16
#define TG_Q_MAX_NODES 64

typedef struct tg_qinsn {
	uint8_t op, cmp;	/* TG_Q_*, tg_bc_cmp */
	uint8_t vt;		/* the tg_value_type slot a must hold */
	uint8_t vt2;		/* for TG_Q_SLOTS: slot b's */
	bool dom, dom2;		/* slot a, b has a declared domain (TG_Q_STR:
				 * dom2, the string is one of a's values) */
	bool builtin, is_ints;
	uint8_t quant;		/* 0, TG_Q_ALL or TG_Q_ANY */
	uint8_t count;		/* bytecode instructions the test stands for */
	uint8_t cnt[TG_Q_EDGES];	/* instructions run on each edge */
	uint8_t args;		/* TG_Q_ARGS_* */
	uint16_t next[TG_Q_EDGES];	/* node of each edge, or TG_Q_FALSE/TRUE/UNKNOWN */
	uint32_t a, b, c;
	union {
		const char *s;	/* n in b */
		int64_t k;
		uint64_t mask;
	} u;
} tg_qinsn;

/* Runs rule r's quick program (r->quick must not be TG_BC_NONE, and in
 * visibility mode r->quick_vis must be set): TG_COND_TRUE, _FALSE, _UNKNOWN
 * (visibility mode), _ERROR (an unclean path: vm->msg and vm->insns as
 * tg_vm_run leaves them), or -1 when the interpreter must run the rule. A program starts in
 * its rule view (quick_first, quick_cnt: the first test and what runs before it). */
int tg_vm_quick(tg_vm *vm, const tg_rule_view *r);

/* Rule r's condition: its quick program when it has one and it runs to
 * the end, else tg_vm_run. */
tg_cond_result tg_vm_cond(tg_vm *vm, const tg_rule_view *r);

/* ---- match.c: candidate rules, subjects, actions ------------------------ */

#define TG_CANDS_MAX_LISTS (TG_INDEX_PREFIX + 3)

/* Merges the index postings that apply to a request into one ascending
 * sequence of rule indices (source order, no duplicates). */
typedef struct tg_cands {
	const unsigned char *post[TG_CANDS_MAX_LISTS];	/* little-endian u32 rule indices */
	uint32_t n[TG_CANDS_MAX_LISTS], pos[TG_CANDS_MAX_LISTS];
	int nlists;
	int64_t last;
} tg_cands;

void tg_cands_init(tg_cands *c, const tg_layout *l, unsigned cls, const char *target, size_t tlen);
bool tg_cands_next(tg_cands *c, uint32_t *rule);

/* tg_cands_init without the exact-target postings when !exact: the
 * candidates of a target that merely starts with `target`. */
void tg_cands_init_keys(tg_cands *c, const tg_layout *l, unsigned cls, const char *target,
			size_t tlen, bool exact);

/* An entry of a load-time candidate list (cands.c): a rule index, with
 * TG_CAND_KNOWN set when the rule's action is known to match every
 * request the list serves (only its subject and condition are left). */
#define TG_CAND_KNOWN 0x80000000u
/* Set on an entry when neither it nor any entry after it is a deny rule:
 * once an allow applies there, nothing later can change the decision or
 * its errors. Rule indices are below 2^30: rules are bounded by the 16 MiB
 * source (docs/limits.md). */
#define TG_CAND_NO_DENY 0x40000000u
#define TG_CAND_RULE 0x3FFFFFFFu

enum { TG_SUBJ_NO = 0, TG_SUBJ_YES = 1, TG_SUBJ_NO_CLIENT = 2 };

/* Whether the rule's subject matches: TG_SUBJ_NO_CLIENT for a `client`
 * subject when the request has no client id (DESIGN: a deny rule then
 * applies with an error, an allow rule does not match). */
int tg_subject_match(const tg_vm *vm, const tg_rule_view *r);
bool tg_action_match(tg_vm *vm, const tg_rule_view *r);

/* tg_subject_match, deciding the common cases inline: anyone, a role
 * subject within one bitset word, a string subject whose lengths rule it
 * out (subj_lens). */
static inline int tg_subject_quick(tg_vm *vm, const tg_rule_view *r)
{
	/* the two common subjects before a jump table */
	if (r->subject == TG_BC_SUBJ_ROLE && r->role_word != TG_BC_NONE)
		return (vm->held[r->role_word] & r->role_mask) != 0;
	if (r->subject == TG_BC_SUBJ_ANYONE)
		return TG_SUBJ_YES;
	switch (r->subject) {
	case TG_BC_SUBJ_SCOPE:
		for (size_t i = vm->scope_lens ? vm->req->nscopes : 0; i < vm->req->nscopes; i++)
			vm->scope_lens |= (uint64_t)1 << (vm->req->scopes[i].len % 64);
		if (!(r->subj_lens & vm->scope_lens))
			return TG_SUBJ_NO;
		break;
	case TG_BC_SUBJ_PRINCIPAL:
		if (!(r->subj_lens & vm->id_len))
			return TG_SUBJ_NO;
		break;
	case TG_BC_SUBJ_CLIENT:
		if (vm->client_len && !(r->subj_lens & vm->client_len))
			return TG_SUBJ_NO;
		break;
	}
	return tg_subject_match(vm, r);
}

#endif
