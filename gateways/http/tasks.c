/*
 * tasks.c - task ids bound to the principal that created them.
 *
 * A task (2025-11-25's tasks, 2026-07-28's io.modelcontextprotocol/tasks
 * extension) is fetched later by its id alone: tasks/get, tasks/result,
 * tasks/update, tasks/cancel. An upstream that hands the same id space to
 * every caller would let one principal read another's results by guessing
 * or stealing an id, and the upstream cannot tell principals apart behind
 * the gateway. So the client never sees an upstream task id: every taskId
 * in a server message is replaced by a sealed one (session.c's seal: HMAC
 * over upstream, principal, expiry and "task:" + the upstream id), and
 * every taskId in a client request must open for this principal at this
 * upstream, or the request is refused before anything is forwarded. Any
 * gateway process with the key checks it; nothing is remembered. The
 * "task:" prefix keeps a session id from passing as a task id and back.
 *
 * Where task ids travel: result.taskId, result.task.taskId, params.taskId
 * of notifications/tasks, and `_meta` entries such as
 * io.modelcontextprotocol/related-task. The walk looks at every "taskId"
 * member except inside tool arguments and tool output (content,
 * structuredContent), which are the tool's own data.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway.h"

#define TASK_PREFIX "task:"
#define WALK_DEPTH  6

bool tg_gw_is_task_method(const char *method)
{
	return method && strncmp(method, "tasks/", 6) == 0;
}

int tg_gw_task_seal(const tg_gw_key *k, const char *upstream, const char *principal,
		    const char *task, int64_t expires, char *out, size_t outlen)
{
	tg_gw_session s;

	memset(&s, 0, sizeof s);
	if (strlen(upstream) >= sizeof s.upstream || strlen(principal) >= sizeof s.principal ||
	    strlen(TASK_PREFIX) + strlen(task) >= sizeof s.up_session)
		return -1;
	snprintf(s.upstream, sizeof s.upstream, "%s", upstream);
	snprintf(s.principal, sizeof s.principal, "%s", principal);
	snprintf(s.up_session, sizeof s.up_session, "%s%s", TASK_PREFIX, task);
	s.expires = expires;
	return tg_gw_session_seal(k, &s, out, outlen);
}

tg_gw_unseal tg_gw_task_open(const tg_gw_key *k, const char *text, const char *upstream,
			     const char *principal, int64_t now, char *task, size_t tasklen)
{
	tg_gw_session s;
	tg_gw_unseal u = tg_gw_session_open(k, text, upstream, principal, now, &s);

	task[0] = '\0';
	if (u != TG_GW_SESSION_OK)
		return u;
	if (strncmp(s.up_session, TASK_PREFIX, strlen(TASK_PREFIX)) != 0 ||
	    strlen(s.up_session) - strlen(TASK_PREFIX) >= tasklen)
		return TG_GW_SESSION_MALFORMED;
	snprintf(task, tasklen, "%s", s.up_session + strlen(TASK_PREFIX));
	return TG_GW_SESSION_OK;
}

static bool skipped(const char *key)
{
	return strcmp(key, "content") == 0 || strcmp(key, "structuredContent") == 0 ||
	       strcmp(key, "arguments") == 0;
}

typedef struct walk {
	const tg_gw_key *k;
	const char *upstream, *principal;
	int64_t at;		/* expiry when sealing, now when opening */
	bool open;
	long changed;
	bool failed;
} walk;

static void visit(walk *w, json_t *v, int depth)
{
	const char *key;
	json_t *child;
	size_t i;

	if (depth > WALK_DEPTH || w->failed)
		return;
	if (json_is_array(v)) {
		json_array_foreach(v, i, child) visit(w, child, depth + 1);
		return;
	}
	if (!json_is_object(v))
		return;
	json_object_foreach(v, key, child) {
		if (skipped(key))
			continue;
		if (strcmp(key, "taskId") != 0) {
			visit(w, child, depth + 1);
			continue;
		}
		if (!json_is_string(child)) {
			/* a task id the gateway cannot bind is never passed */
			w->failed = true;
			return;
		}
		{
			char out[TG_GW_SESSION_MAX + 1];
			int r;

			if (w->open)
				r = tg_gw_task_open(w->k, json_string_value(child), w->upstream,
						    w->principal, w->at, out, sizeof out) ==
						    TG_GW_SESSION_OK
					? 0
					: -1;
			else
				r = tg_gw_task_seal(w->k, w->upstream, w->principal,
						    json_string_value(child), w->at, out, sizeof out);
			if (r != 0 || json_string_set(child, out) != 0) {
				w->failed = true;
				return;
			}
			w->changed++;
		}
	}
}

long tg_gw_tasks_seal(const tg_gw_key *k, const char *upstream, const char *principal,
		      int64_t expires, json_t *msg)
{
	walk w = {k, upstream, principal, expires, false, 0, false};

	visit(&w, json_object_get(msg, "result"), 0);
	visit(&w, json_object_get(msg, "params"), 0);
	visit(&w, json_object_get(json_object_get(msg, "error"), "data"), 0);
	return w.failed ? -1 : w.changed;
}

long tg_gw_tasks_open(const tg_gw_key *k, const char *upstream, const char *principal,
		      int64_t now, json_t *msg)
{
	walk w = {k, upstream, principal, now, true, 0, false};

	visit(&w, json_object_get(msg, "params"), 0);
	return w.failed ? -1 : w.changed;
}
