/*
 * decision.h - what a tg_decision holds. Public callers see an opaque type
 * and accessors (toolgate.h), so this layout can change with any release;
 * the runtime and the tests read it directly.
 *
 * Errors are kept inline (the first TG_DECISION_MAX_ERRORS, each message
 * cut at TG_ERROR_MESSAGE_MAX bytes) so that evaluating into a decision
 * never allocates; tg_eval touches only the counters it needs, never the
 * whole structure.
 */
#ifndef TG_DECISION_H
#define TG_DECISION_H

#include "toolgate/toolgate.h"

#define TG_DECISION_MAX_ERRORS 16
#define TG_ERROR_MESSAGE_MAX 120
#define TG_REASON_MAX 256

typedef struct tg_rule_error {
	const char *rule_id;		/* borrowed from the policy */
	uint32_t rule_index;
	char message[TG_ERROR_MESSAGE_MAX];
} tg_rule_error;

struct tg_decision {
	tg_access effect;
	const char *rule_id;	/* deciding rule (borrowed), NULL for the default */
	const char *reason;	/* its `because` text, a static "invalid request: ..."
				 * message, reason_buf, or NULL */
	uint32_t rule_index;	/* deciding rule, TG_NO_RULE for the default */
	bool invalid;		/* the request was invalid */
	bool by_error;		/* a deny rule decided because its condition was an
				 * error, not true */
	size_t nerrors;		/* errors listed by DESIGN rule 4, all counted */
	bool truncated;		/* nerrors > TG_DECISION_MAX_ERRORS */
	tg_rule_error errors[TG_DECISION_MAX_ERRORS];	/* the first ones, source order */
	uint32_t instructions;	/* instructions this evaluation executed; never more
				 * than tg_policy_max_instructions() */
	char reason_buf[TG_REASON_MAX];	/* tg_decision_set_invalid's copy */
};

#endif
