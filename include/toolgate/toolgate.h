/*
 * toolgate.h - the toolgate runtime: load verified policy bytecode and
 * authorize MCP requests with it. Depends on libc only.
 *
 * The life of a server using it:
 *
 *   tg_policy *p;
 *   tg_policy_load_file("policy.tgb", &p, NULL);        // verify once
 *   uint32_t env;                                        // resolve slots once
 *   tg_policy_slot_find(p, "context.environment", &env);
 *   tg_decision *d;
 *   tg_decision_create(&d);                              // once per thread
 *   // per request: fill a tg_request (tg_request_init) and its slot values
 *   tg_eval(p, &req, d);                                 // no allocation
 *   if (tg_decision_effect(d) == TG_ALLOW) ...
 *
 * A server that holds MCP JSON links libtoolgate-mcp (toolgate/mcp.h)
 * instead of filling requests itself.
 *
 * The ABI (docs/embedding.md, "ABI policy"), so that programs built against
 * this header keep working with later libraries of the same SOVERSION:
 *   - handles are opaque: tg_policy, tg_decision, tg_holder;
 *   - records the library hands out (tg_load_error, tg_slot_info,
 *     tg_trace_event) are read through a pointer; members may be appended,
 *     never removed or reordered, so never allocate or copy one;
 *   - records the caller builds (tg_request, tg_entry) start with a `size`
 *     member that their init function sets: the library reads only the
 *     members that fit in it, so new members are appended safely. A record
 *     whose size covers its first version is accepted; members past the
 *     size it gives are absent (zero). tg_request version 1 ends with
 *     `args` (size offsetof(tg_request, flags)); version 2 adds `flags`;
 *   - small value types (tg_str, tg_value, tg_node) are frozen; new kinds of
 *     value are new enumerators;
 *   - enumerators and status codes are appended, never renumbered.
 *
 * Conventions: a function that can fail returns tg_status and writes its
 * results through out-parameters, only on TG_OK (tg_eval and friends also
 * write their decision on failure: a deny); a function that cannot fail
 * returns its value (getters, predicates, snprintf-style formatters). Rule
 * and slot indices are uint32_t; TG_NO_RULE means none.
 *
 * Ownership: every string a request carries is borrowed from the caller for
 * the duration of the call. A getter's strings live as long as the policy.
 * A decision's strings (rule id, reason, error messages) live until the
 * decision's next evaluation or free, or the release of the policy that
 * decided it, whichever comes first.
 *
 * Thread safety: a loaded policy is immutable. Any number of threads may call
 * the tg_policy_* getters, tg_eval, tg_eval_trace, tg_visible,
 * tg_visible_many and tg_audit_format on one policy at once, each with its
 * own tg_decision. A tg_holder may be used from any thread.
 *
 * The library never prints and never aborts.
 */
#ifndef TOOLGATE_H
#define TOOLGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "toolgate/version.h"

#ifdef __cplusplus
extern "C" {
#endif

#if defined(TG_BUILDING_LIBRARY) && defined(__GNUC__)
#define TG_API __attribute__((visibility("default")))
#else
#define TG_API
#endif

/* The library's version, e.g. "0.1.0"; a static string. Thread-safe. */
TG_API const char *tg_version(void);

/* ---- status codes ------------------------------------------------------
 * Part of the ABI: new codes are appended, existing ones never renumbered. */
typedef enum tg_status {
	TG_OK = 0,
	TG_EINVAL,		/* a NULL or otherwise unusable argument */
	TG_ENOMEM,		/* out of memory (loading only; eval never allocates) */
	TG_EIO,			/* a file could not be read */
	TG_EBADMAGIC,		/* not toolgate bytecode */
	TG_EVERSION,		/* bytecode of an unsupported format version */
	TG_ETRUNCATED,		/* bytecode shorter than its header says */
	TG_ECHECKSUM,		/* bytecode checksum mismatch */
	TG_EMALFORMED,		/* a header, section, table entry or index is out of bounds or inconsistent */
	TG_EVERIFY,		/* code failed verification (opcode, operand, jump, stack, cost) */
	TG_ELIMIT,		/* bytecode exceeds a runtime limit (stack depth, roles, glob size) */
	TG_EINVALID_REQUEST,	/* the request is invalid (DESIGN "A request is invalid"); decision is deny */
	TG_EINTERNAL,		/* the interpreter met an impossible state; decision is deny */
	TG_ENOSPC,		/* reserved: no call returns it today */
	TG_EEMPTY,		/* reserved: no call returns it today */
	TG_ENOENT		/* no such item (a slot the policy does not read) */
} tg_status;

/* A static English description of a status, e.g. "bytecode checksum
 * mismatch"; never NULL (unknown codes give "unknown status"). */
TG_API const char *tg_strerror(tg_status status);

/* ---- limits (the same numbers the compiler and the CLI enforce) ------- */
#define TG_MAX_STRING_BYTES	(64u * 1024)	/* any request string */
#define TG_MAX_LIST_ITEMS	4096u		/* any request list */
#define TG_MAX_DEPTH		64u		/* nested objects and arrays */

/* ---- loading ------------------------------------------------------------ */

typedef struct tg_policy tg_policy;

/* One index type for rules and slots; TG_NO_RULE: no rule (the default). */
#define TG_NO_RULE UINT32_MAX

/*
 * Why bytecode was rejected (library-allocated; see the ABI rules above).
 * `offset` is the byte offset in the bytecode where the problem was found;
 * `pc` is the offset of the offending instruction inside the code section,
 * or -1 when the problem is not in code. `reason` is a lowercase message
 * such as "jump at pc 17 targets the middle of an instruction".
 */
typedef struct tg_load_error {
	tg_status status;
	uint32_t offset;
	int64_t pc;
	const char *reason;
} tg_load_error;

/*
 * Verifies bytes[0..len) and, when it is valid bytecode, stores a new policy
 * in *out. The bytes are copied: the caller may free them on return.
 * Returns TG_OK, or an error with *out untouched; then, when err is not
 * NULL, *err receives a new tg_load_error saying why (NULL when even that
 * could not be allocated), to be freed with tg_load_error_free. The new
 * policy holds one reference, dropped by tg_policy_free.
 */
TG_API tg_status tg_policy_load(const void *bytes, size_t len, tg_policy **out,
				tg_load_error **err);

/* tg_policy_load on the contents of a file. TG_EIO when it cannot be read. */
TG_API tg_status tg_policy_load_file(const char *path, tg_policy **out, tg_load_error **err);

/* NULL is ignored. */
TG_API void tg_load_error_free(tg_load_error *err);

/* Drops one reference to p (the one tg_policy_load gave, or one from
 * tg_holder_acquire via tg_holder_release); frees it with the last one.
 * NULL is ignored. */
TG_API void tg_policy_free(tg_policy *p);

/* Getters. Returned strings belong to the policy. */
TG_API const char *tg_policy_name(const tg_policy *p);		/* "" when unnamed, NULL for NULL */
TG_API const char *tg_policy_version(const tg_policy *p);	/* NULL when none */
TG_API const char *tg_policy_hash(const tg_policy *p);		/* SHA-256 of the bytecode, 64 hex digits */
TG_API const char *tg_policy_source_hash(const tg_policy *p);	/* SHA-256 of the source, 64 hex digits */
TG_API bool tg_policy_default_allow(const tg_policy *p);
TG_API uint32_t tg_policy_rule_count(const tg_policy *p);
TG_API const char *tg_policy_rule_id(const tg_policy *p, uint32_t rule);	/* NULL when out of range */
TG_API uint32_t tg_policy_rule_line(const tg_policy *p, uint32_t rule);	/* 0 when out of range */
TG_API uint32_t tg_policy_max_stack(const tg_policy *p);
/* The policy's cost bound, known before it serves: the worst-case number
 * of instructions one tg_eval or tg_visible executes, where a `matches`
 * counts one DFA step per byte of the longest string it can be given and
 * a `value of` quantifier one comparison per value it may walk, 65,536
 * (docs/bytecode.md). tg_policy_max_instructions is the same figure,
 * UINT32_MAX when it does not fit (a policy with `matches`). */
TG_API uint64_t tg_policy_max_cost(const tg_policy *p);
TG_API uint32_t tg_policy_max_instructions(const tg_policy *p);
/* Whether the policy reads tg_request.args, the whole arguments tree: it
 * has a `value of` quantifier (`any value of args contains ".."`). A
 * transport must then fill args (an absent tree makes the quantifier an
 * error, so a deny applies); otherwise the slots are all it reads. False
 * for NULL. */
TG_API bool tg_policy_reads_args_tree(const tg_policy *p);

/* ---- attribute slots ---------------------------------------------------
 * The policy lists the request attributes it reads under principal, token,
 * context and args (built-ins such as principal.id, token.scopes, tool.*,
 * resource.uri come from tg_request's fixed fields instead). A transport
 * resolves the slots once per policy and fills values by index per request. */

typedef enum tg_slot_root {
	TG_SLOT_PRINCIPAL = 0,
	TG_SLOT_TOKEN = 1,
	TG_SLOT_CONTEXT = 2,
	TG_SLOT_ARGS = 3
} tg_slot_root;

/* The declared type of a slot; TG_ATTR_ANY when the policy reads the path
 * without an `attribute` declaration (its value is type-checked when an
 * operator uses it). */
typedef enum tg_attr_type {
	TG_ATTR_ANY = 0,
	TG_ATTR_STRING,
	TG_ATTR_INT,
	TG_ATTR_BOOL,
	TG_ATTR_STRING_LIST,
	TG_ATTR_INT_LIST
} tg_attr_type;

/* A byte string; not NUL-terminated in general. ptr == NULL means absent
 * where a field is optional. */
typedef struct tg_str {
	const char *ptr;
	size_t len;
} tg_str;

/* One slot (library-allocated; see the ABI rules above). */
typedef struct tg_slot_info {
	tg_slot_root root;
	size_t ncomponents;		/* path components after the root, >= 1 */
	const tg_str *components;	/* e.g. {"options", "force"} for args.options.force */
	const char *name;		/* display name: "args.options.force", `args["content-type"]` */
	tg_attr_type type;
} tg_slot_info;

TG_API uint32_t tg_policy_slot_count(const tg_policy *p);

/* Slot i, owned by the policy; NULL when i is out of range. */
TG_API const tg_slot_info *tg_policy_slot(const tg_policy *p, uint32_t i);

/* Stores in *slot the slot whose display name is `name`
 * ("context.environment"): TG_OK, or TG_ENOENT when the policy reads no such
 * attribute (a request need not carry it). */
TG_API tg_status tg_policy_slot_find(const tg_policy *p, const char *name, uint32_t *slot);

/* ---- values and requests ------------------------------------------------ */

/* A request value. A zero-initialised tg_value is absent. OTHER is a
 * present value of no policy type (a float, null): `has` sees it, every
 * operator on it is an error. OBJECT and ARRAY carry nested data (a JSON
 * object, or an array that is not a list of strings or of ints: records,
 * mixed values) as a borrowed tree; today's operators treat them as OTHER,
 * so they are there for transports to hand over what they hold without
 * losing it. */
typedef enum tg_value_type {
	TG_VALUE_ABSENT = 0,
	TG_VALUE_STRING,
	TG_VALUE_INT,
	TG_VALUE_BOOL,
	TG_VALUE_STRING_LIST,
	TG_VALUE_INT_LIST,
	TG_VALUE_OTHER,
	TG_VALUE_OBJECT,
	TG_VALUE_ARRAY
} tg_value_type;

struct tg_node;

typedef struct tg_value {
	tg_value_type type;
	union {
		tg_str s;			/* STRING */
		int64_t i;			/* INT */
		bool b;				/* BOOL */
		struct {
			const tg_str *items;
			size_t n;
		} strs;				/* STRING_LIST */
		struct {
			const int64_t *items;
			size_t n;
		} ints;				/* INT_LIST */
		struct {
			const struct tg_node *nodes;
			size_t n;
		} tree;				/* OBJECT, ARRAY: the n nodes below it
						 * (nodes may be NULL when n is 0) */
	} u;
} tg_value;

/*
 * A node of a borrowed tree, laid out in preorder: an OBJECT or ARRAY value
 * is followed in the same array by the u.tree.n nodes of its subtree, so
 * its first child is nodes[0] and a child's next sibling comes after the
 * child's own subtree. Inside an object, `key` names the member (ptr never
 * NULL); inside an array it is absent. Keys are unique within an object.
 *
 *   {"a": 1, "b": [true, {"c": "x"}]}  as an OBJECT with n = 5:
 *   [0] key "a"  INT 1
 *   [1] key "b"  ARRAY n = 3
 *   [2]          BOOL true
 *   [3]          OBJECT n = 1
 *   [4] key "c"  STRING "x"
 */
typedef struct tg_node {
	tg_str key;
	tg_value value;
} tg_node;

/* A tool annotation hint: absent, false or true. */
typedef enum tg_hint {
	TG_HINT_ABSENT = 0,
	TG_HINT_FALSE,
	TG_HINT_TRUE
} tg_hint;

/*
 * One request, owned by the caller; every pointer is borrowed for the call.
 * Strings need not be NUL-terminated. Absent optional strings have
 * ptr == NULL. Initialise it with tg_request_init, which sets `size`.
 *
 * client_id: the token's `client_id` claim as used by `client` subjects.
 * Set it from token.client_id when that claim is a string; leave it absent
 * otherwise (a non-string claim counts as absent). An expression that reads
 * token.client_id reads its slot like any other token claim.
 */
typedef struct tg_request {
	size_t size;			/* sizeof(tg_request) as the caller knows it */
	tg_str principal_id;		/* required */
	const tg_str *roles;		/* principal.roles; NULL/0 = empty */
	size_t nroles;
	const tg_str *scopes;		/* token.scopes; NULL/0 = empty */
	size_t nscopes;
	tg_str client_id;		/* optional, see above */
	tg_str method;			/* required: "tools/call", ... */
	tg_str target;			/* tool name, resource URI or prompt name */
	tg_str server;			/* optional upstream server name */
	tg_hint read_only, destructive, idempotent, open_world;	/* `tool` */
	const tg_value *slots;		/* indexed by slot; entries past nslots are absent */
	size_t nslots;			/* normally tg_policy_slot_count() */
	tg_value args;			/* the whole `args` object (OBJECT), or absent */
	/* ---- version 2: read only when `size` covers it ---- */
	uint32_t flags;			/* TG_REQUEST_* */
} tg_request;

/*
 * tg_request.flags. TG_REQUEST_VALIDATED: every string in the request
 * (slot values and trees included) is already known to be valid UTF-8
 * without U+0000, as libtoolgate-mcp's reader guarantees, so the runtime
 * does not read their bytes again. It still checks everything else:
 * required fields, the method's target, resource URIs, hint values,
 * string lengths, list sizes and tree shapes. A caller that sets it for
 * strings it has not validated gets undefined matching, never a crash.
 * Unknown flags make a request invalid.
 */
#define TG_REQUEST_VALIDATED 0x1u

/* Zeroes *req (every field absent, no flags) and sets its size. */
TG_API void tg_request_init(tg_request *req);

/*
 * Checks a request against DESIGN's validity rules that apply to the C
 * struct: principal_id and method present; target present for tools/call,
 * resources/read|subscribe|unsubscribe and prompts/get; resource URIs free
 * of `.`/`..` segments and %2F %5C %2E %25; every string (slot values and
 * trees included) valid UTF-8 without U+0000 and at most
 * TG_MAX_STRING_BYTES; every list at most TG_MAX_LIST_ITEMS; trees at most
 * TG_MAX_DEPTH deep. Returns TG_OK or TG_EINVALID_REQUEST with *why (if
 * given) set to a static message such as "invalid request: missing
 * principal.id" (a NULL request, or one whose size was never set by
 * tg_request_init, is invalid too). tg_eval runs the same check.
 */
TG_API tg_status tg_request_check(const tg_request *req, const char **why);

/* ---- decisions ---------------------------------------------------------- */

typedef enum tg_access {
	TG_DENY = 0,
	TG_ALLOW = 1
} tg_access;

/*
 * A decision: what tg_eval decided and why. Opaque and reusable: create one
 * per thread (or per evaluation loop) and pass it to any number of
 * evaluations; each overwrites it. Evaluating into it allocates nothing.
 * Strings it returns live until its next evaluation or its free.
 */
typedef struct tg_decision tg_decision;

/* TG_OK with a new decision (a deny by the default) in *out; TG_ENOMEM. */
TG_API tg_status tg_decision_create(tg_decision **out);
/* NULL is ignored. */
TG_API void tg_decision_free(tg_decision *d);

TG_API tg_access tg_decision_effect(const tg_decision *d);
/* The deciding rule; TG_NO_RULE for the default (and invalid requests). */
TG_API uint32_t tg_decision_rule(const tg_decision *d);
/* The deciding rule's id, or NULL. */
TG_API const char *tg_decision_rule_id(const tg_decision *d);
/* The deciding rule's `because` text, the "invalid request: ..." message,
 * or NULL. */
TG_API const char *tg_decision_reason(const tg_decision *d);
/* The request was invalid (never allowed). */
TG_API bool tg_decision_invalid(const tg_decision *d);
/* A deny rule decided because its condition was an error (an absent
 * attribute, a type mismatch, ...), not true; its error is listed. False
 * for every other decision. The reason is still the rule's `because`. */
TG_API bool tg_decision_by_error(const tg_decision *d);

/*
 * The errors DESIGN rule 4 lists, in source order (a rule records only the
 * first error it meets). tg_decision_error_count is how many the decision
 * kept (the first 16 or more), tg_decision_error_total how many there were.
 * tg_decision_error stores error i's rule, rule id and message (each
 * out-parameter may be NULL): TG_OK, or TG_EINVAL when i is past the kept
 * ones.
 */
TG_API size_t tg_decision_error_count(const tg_decision *d);
TG_API size_t tg_decision_error_total(const tg_decision *d);
TG_API tg_status tg_decision_error(const tg_decision *d, size_t i, uint32_t *rule,
				   const char **rule_id, const char **message);

/*
 * Decisions a transport makes itself, so that they audit and print like
 * any other: tg_decision_set_invalid for a request it could not read (deny,
 * no rule, invalid), tg_decision_set_denied for one it refuses for another
 * reason (deny, no rule). `reason` is copied; at most 255 bytes are kept.
 */
TG_API void tg_decision_set_invalid(tg_decision *d, const char *reason);
TG_API void tg_decision_set_denied(tg_decision *d, const char *reason);

/*
 * Authorizes one request into d (always written, also on error) and
 * returns TG_OK; TG_EINVALID_REQUEST for an invalid request (deny,
 * invalid); TG_EINVAL for NULL arguments (deny when d is given);
 * TG_EINTERNAL if the interpreter meets an impossible state (deny).
 * Thread-safe; allocates nothing; uses a fixed-size state on the C stack.
 */
TG_API tg_status tg_eval(const tg_policy *p, const tg_request *req, tg_decision *d);

/* ---- explain ------------------------------------------------------------ */

typedef enum tg_cond_result {
	TG_COND_NOT_EVALUATED = 0,	/* subject or action did not match */
	TG_COND_TRUE,
	TG_COND_FALSE,
	TG_COND_ERROR,
	TG_COND_UNKNOWN			/* visibility only */
} tg_cond_result;

/* What happened to one candidate rule (library-allocated; see the ABI
 * rules above). Pointers are valid during the callback only (rule_id: as
 * long as the policy). */
typedef struct tg_trace_event {
	uint32_t rule_index;
	const char *rule_id;
	tg_access effect;
	uint32_t line;
	bool subject_matched;
	bool action_matched;
	tg_cond_result condition;
	const char *message;	/* the error when condition == TG_COND_ERROR */
	bool applied;		/* the rule applies (DESIGN rule 2) */
} tg_trace_event;

typedef void (*tg_trace_fn)(const tg_trace_event *ev, void *userdata);

/* tg_eval that also reports, in source order, every candidate rule the
 * index found for the request's method and target. Evaluation does not stop
 * at the first applying deny, so every candidate is reported; the decision
 * is the same as tg_eval's. */
TG_API tg_status tg_eval_trace(const tg_policy *p, const tg_request *req, tg_decision *d,
			       tg_trace_fn fn, void *userdata);

/* ---- visibility (tools/list, resources/list, prompts/list) ------------- */

typedef enum tg_entry_kind {
	TG_ENTRY_TOOL = 0,	/* evaluated as tools/call of name */
	TG_ENTRY_RESOURCE,	/* evaluated as resources/read of name (the URI) */
	TG_ENTRY_PROMPT		/* evaluated as prompts/get of name */
} tg_entry_kind;

/* One list entry, built by the caller; initialise it with tg_entry_init. */
typedef struct tg_entry {
	size_t size;		/* sizeof(tg_entry) as the caller knows it */
	tg_entry_kind kind;
	tg_str name;		/* tool name, resource URI or prompt name */
	tg_str server;		/* tools: optional upstream server */
	/* Tools: annotations with MCP defaults already filled in by the caller
	 * (read_only false, destructive true, idempotent false, open_world
	 * true); an absent hint is read as absent. */
	tg_hint read_only, destructive, idempotent, open_world;
} tg_entry;

/* Zeroes *e (a tool entry, everything absent) and sets its size. */
TG_API void tg_entry_init(tg_entry *e);

/*
 * Decides whether `entry` is shown to the requester of a list request. `req`
 * gives principal, token, context (its method, target, server and tool
 * fields are ignored); every `args` read is UNKNOWN and combined with
 * Kleene logic (DESIGN "Visibility"). Stores the answer in *visible and
 * returns TG_OK; on TG_EINVALID_REQUEST (invalid request or an entry URI a
 * read would reject) and every other error *visible is false. Thread-safe,
 * allocates nothing.
 */
TG_API tg_status tg_visible(const tg_policy *p, const tg_request *req, const tg_entry *entry,
			    bool *visible);

/*
 * tg_visible for a whole list: visible[i] (n entries, owned by the caller)
 * gets what tg_visible would store for entries[i]. Every entry of one call
 * has the size of entries[0]. What depends only on the requester -
 * checking principal, token and slot values, resolving roles - is done
 * once, so filtering a list of n entries costs much less than n tg_visible
 * calls. Returns TG_OK when every entry was judged (an entry a read would
 * reject, or with an invalid name or server, is simply hidden);
 * TG_EINVALID_REQUEST when req is invalid, TG_EINVAL for NULL arguments
 * (entries may be NULL when n is 0) or an entry of unknown kind or size,
 * TG_EINTERNAL when the interpreter met an impossible state - the entries
 * concerned (all, for the first three) are hidden. Thread-safe, allocates
 * nothing.
 */
TG_API tg_status tg_visible_many(const tg_policy *p, const tg_request *req, const tg_entry *entries,
				 size_t n, bool *visible);

/* ---- audit -------------------------------------------------------------- */

/*
 * Writes one JSON audit line (no trailing newline) for a decision:
 *   {"time":"2026-11-26T06:40:00Z","principal":"alice","method":"tools/call",
 *    "target":"postgres.query","decision":"allow","rule":"eng-sql",
 *    "reason":null,"errors":[{"rule":"r","message":"m"}],"errors_total":1,
 *    "invalid":false,
 *    "policy":{"name":"platform","version":"2026.11","hash":"<64 hex>"},
 *    "request_digest":"<64 hex>"}
 * `unix_time` is seconds since the epoch (UTC). Like snprintf: writes at
 * most len bytes including the NUL (when len > 0) and returns the length the
 * whole line needs, excluding the NUL; the output is complete when the
 * result is < len. Strings are JSON-escaped; invalid UTF-8 is written as
 * U+FFFD. Thread-safe, allocates nothing.
 */
TG_API size_t tg_audit_format(const tg_policy *p, const tg_request *req, const tg_decision *d,
			      int64_t unix_time, char *buf, size_t len);

/* SHA-256 over the request's canonical fields (principal id, roles,
 * scopes, client id, method, target, server, annotations, slot values in
 * slot order, the args tree; each length-prefixed), as 64 hex digits plus
 * NUL in hex[65]. The digest an audit line carries. */
TG_API void tg_request_digest(const tg_request *req, char hex[65]);

/* ---- hot reload ----------------------------------------------------------
 * A holder publishes the current policy. Requests acquire a reference,
 * evaluate, release; tg_holder_swap installs a new policy, and the old one
 * is freed when its last user releases it. */

typedef struct tg_holder tg_holder;

/* Creates an empty holder. TG_ENOMEM or TG_OK. */
TG_API tg_status tg_holder_create(tg_holder **out);

/* Drops the holder's reference to its policy and frees the holder. Policies
 * acquired from it stay valid until released. NULL is ignored. */
TG_API void tg_holder_free(tg_holder *h);

/* Returns the current policy with one more reference, or NULL when the
 * holder is empty. Pair with tg_holder_release. Thread-safe. */
TG_API const tg_policy *tg_holder_acquire(tg_holder *h);

/* Drops a reference from tg_holder_acquire; frees a swapped-out policy on
 * its last release. Thread-safe. */
TG_API void tg_holder_release(tg_holder *h, const tg_policy *p);

/* Installs p (may be NULL to empty the holder), taking over the caller's
 * reference to it; the previous policy loses the holder's reference.
 * Thread-safe. */
TG_API void tg_holder_swap(tg_holder *h, tg_policy *p);

/* ---- the language's matchers -------------------------------------------
 * `like` and `under` exactly as policies evaluate them, for transports that
 * pre-filter and for the compiler's constant folding. Thread-safe; no
 * allocation. */

/* true when subject[0..subject_len) matches the glob (language reference,
 * "Globs"). A glob whose part from its first wildcard exceeds 512 bytes
 * matches nothing. */
TG_API bool tg_glob_match(const char *glob, size_t glob_len, const char *subject,
			  size_t subject_len);

/* `path under dir`: stores in *under whether path equals or lies below dir
 * and returns TG_OK; TG_EINVAL when path is not a clean absolute path (an
 * error in a policy). */
TG_API tg_status tg_path_under(const char *path, size_t path_len, const char *dir,
			       size_t dir_len, bool *under);

#ifdef __cplusplus
}
#endif

#endif
