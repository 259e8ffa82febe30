// scenario.mjs - the benchmark scenario, once, rendered into every engine's
// own language, and the seeded request generator all harnesses share.
//
// The scenario is an MCP gateway: a role hierarchy guest < reader <
// engineer < admin, tenant isolation, a destructive-in-prod guard, token
// scopes, argument conditions (integer caps, path confinement with `..`
// traversal, channel prefixes), server-prefix and glob tool patterns, and
// deny-overrides. BASE_RULES are its 50 rules; `extra` adds synthetic tools
// (`svcK.verb_i`), each with 4 or 5 rules of the same shapes, so extra = 1000
// gives the 4,960-rule variant.
//
// Rules are kept as data (subject, tool patterns, condition tree) and each
// renderer writes them in its engine's idiom: toolgate source, Cedar
// policies + schema, a casbin model + policy CSV, CEL expressions. The
// renderers rely on what the request generator guarantees, so every engine
// must reach the same decision on every generated request:
//   - every request is a tools/call carrying every attribute any rule reads
//     (so toolgate's fail-closed errors on absent attributes never decide);
//   - tool names are `server.verb_x` or `search_x`: no `/`, so `*` in
//     Cedar `like` and casbin globMatch means what it means in toolgate;
//   - an unclean path only ever contains `..` as a segment, so "contains
//     '..'" is exactly toolgate's `under` error;
//   - `under` never appears under `or` or in an allow rule's `unless`.
//
// Usage: node scenario.mjs toolgate EXTRA            policy source
//        node scenario.mjs requests EXTRA COUNT SEED  JSON lines
//        node scenario.mjs tools EXTRA                catalogue, JSON lines
//        node scenario.mjs write DIR                  the 50-rule files

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// ---- catalogue ---------------------------------------------------------------

const BASE_TOOLS = [
	['github.get_issue', 0], ['github.list_issues', 0], ['github.search_code', 0],
	['github.create_issue', 0], ['github.update_issue', 0],
	['github.merge_pull_request', 1], ['github.delete_repo', 1],
	['jira.get_ticket', 0], ['jira.list_tickets', 0], ['jira.create_ticket', 0],
	['jira.delete_ticket', 1],
	['postgres.query', 0], ['postgres.list_tables', 0], ['postgres.get_schema', 0],
	['postgres.drop_table', 1],
	['fs.read_file', 0], ['fs.list_directory', 0], ['fs.write_file', 1], ['fs.delete_file', 1],
	['slack.list_channels', 0], ['slack.get_thread', 0], ['slack.post_message', 0],
	['slack.delete_message', 1],
	['k8s.get_pod', 0], ['k8s.list_pods', 0], ['k8s.scale_deployment', 0], ['k8s.exec', 1],
	['k8s.delete_namespace', 1],
	['billing.get_invoice', 0], ['billing.list_invoices', 0], ['billing.refund', 1],
	['search_docs', 0], ['search_web', 0],
];

const VERBS = ['get', 'list', 'run', 'update', 'create', 'sync', 'delete', 'export'];
const DESTRUCTIVE_VERBS = new Set(['run', 'update', 'delete']);

function serverOf(name) {
	const dot = name.indexOf('.');
	return dot < 0 ? null : name.slice(0, dot);
}

function dirOf(name) {
	const s = serverOf(name);
	return s === 'fs' ? '/srv/data' : `/srv/${s || 'none'}`;
}

export function tools(extra) {
	const out = BASE_TOOLS.map(([name, d]) => ({ name, server: serverOf(name), destructive: !!d }));
	for (let i = 0; i < extra; i++) {
		const verb = VERBS[i % VERBS.length];
		const name = `svc${Math.floor(i / 10)}.${verb}_${i}`;
		out.push({ name, server: serverOf(name), destructive: DESTRUCTIVE_VERBS.has(verb) });
	}
	return out;
}

// ---- rules ---------------------------------------------------------------------
// Condition trees: ['and', a, b, ...] ['or', ...] ['not', a]
// ['eq'|'ne', path, value|{path}] ['in', path, [values]] ['le'|'gt', path, int]
// ['starts', path, str] ['under', path, dir] ['scope', name] ['is', role]
// ['bool', path]. Paths: principal.tenant, context.{environment,tenant,mfa},
// tool.destructive, args.{limit,path,channel,amount,replicas}.

const R = (id, effect, subject, targets, when, unless, because) =>
	({ id, effect, subject, targets, when: when || null, unless: unless || null, because: because || null });
const anyone = { kind: 'anyone' };
const role = (...names) => ({ kind: 'role', names });
const scope = (...names) => ({ kind: 'scope', names });
const principal = (...names) => ({ kind: 'principal', names });
const ANY = 'any';
const env = (v) => ['eq', 'context.environment', v];
const notEnv = (v) => ['ne', 'context.environment', v];
const WRITE_GLOBS = ['*.create_*', '*.update_*', '*.delete_*', '*.post_*'];

const BASE_RULES = [
	// guardrails
	R('blocked-principals', 'deny', principal('mallory', 'eve'), 'anything', null, null,
	  'account suspended'),
	R('tenant-isolation', 'deny', anyone, ANY, ['ne', 'principal.tenant', { path: 'context.tenant' }],
	  null, 'cross-tenant access'),
	R('no-destructive-in-prod', 'deny', anyone, ANY,
	  ['and', env('prod'), ['bool', 'tool.destructive']],
	  ['and', ['is', 'admin'], ['bool', 'context.mfa']],
	  'destructive tools in prod need an admin with MFA'),
	R('writes-need-scope', 'deny', anyone, WRITE_GLOBS, null, ['scope', 'tools:write'],
	  'writes need the tools:write scope'),
	R('sql-row-cap', 'deny', anyone, ['postgres.query'], ['gt', 'args.limit', 1000], null,
	  'queries return at most 1000 rows'),
	R('no-drop-table', 'deny', anyone, ['postgres.drop_table'], null, null, 'tables are never dropped'),
	R('fs-confined', 'deny', anyone, ['fs.*'], null, ['under', 'args.path', '/srv/data'],
	  'file tools are confined to /srv/data'),
	R('exec-needs-scope', 'deny', anyone, ['k8s.exec'], null, ['scope', 'k8s:exec'],
	  'exec needs the k8s:exec scope'),
	R('no-exec-channels', 'deny', anyone, ['slack.post_message'],
	  ['starts', 'args.channel', 'exec-'], null, 'no posting to executive channels'),
	R('refund-cap', 'deny', anyone, ['billing.refund'], ['gt', 'args.amount', 500], ['is', 'admin'],
	  'refunds above 500 need an admin'),
	R('scale-cap', 'deny', anyone, ['k8s.scale_deployment'], ['gt', 'args.replicas', 20], null,
	  'at most 20 replicas'),
	R('intern-not-in-prod', 'deny', principal('intern-bot'), ['github.*'], env('prod')),
	R('namespace-delete-dev-only', 'deny', anyone, ['k8s.delete_namespace'], notEnv('dev')),
	R('merge-needs-mfa', 'deny', anyone, ['github.merge_pull_request'], null, ['bool', 'context.mfa'],
	  'merging needs MFA'),
	R('auditor-read-only', 'deny', principal('auditor-bot'), WRITE_GLOBS),
	R('no-fs-delete-in-prod', 'deny', anyone, ['fs.delete_file'], env('prod')),
	R('slack-delete-admin-only', 'deny', anyone, ['slack.delete_message'], null, ['is', 'admin']),
	// grants
	R('readers-read', 'allow', role('reader'), ['*.get_*', '*.list_*', 'search_*']),
	R('guests-docs', 'allow', role('guest'), ['search_docs']),
	R('guests-jira-read', 'allow', role('guest'), ['jira.get_ticket']),
	R('guests-slack-channels', 'allow', role('guest'), ['slack.list_channels']),
	R('eng-github', 'allow', role('engineer'), ['github.*'], notEnv('prod')),
	R('eng-github-prod-issues', 'allow', role('engineer'), ['github.create_issue', 'github.update_issue'],
	  env('prod')),
	R('eng-jira', 'allow', role('engineer'), ['jira.*']),
	R('readers-jira-create', 'allow', role('reader'), ['jira.create_ticket']),
	R('eng-sql', 'allow', role('engineer'), ['postgres.query', 'postgres.list_tables', 'postgres.get_schema'],
	  ['in', 'context.environment', ['dev', 'staging']]),
	R('readers-small-sql', 'allow', role('reader'), ['postgres.query'],
	  ['and', ['le', 'args.limit', 100], env('dev')]),
	R('admin-sql', 'allow', role('admin'), ['postgres.*']),
	R('eng-fs-read', 'allow', role('engineer'), ['fs.read_file', 'fs.list_directory']),
	R('readers-public-files', 'allow', role('reader'), ['fs.read_file'],
	  ['under', 'args.path', '/srv/data/public']),
	R('eng-fs-write', 'allow', role('engineer'), ['fs.write_file'], env('dev')),
	R('eng-fs-tmp-delete', 'allow', role('engineer'), ['fs.delete_file'],
	  ['and', env('dev'), ['under', 'args.path', '/srv/data/tmp']]),
	R('admin-fs', 'allow', role('admin'), ['fs.*']),
	R('eng-slack', 'allow', role('engineer'), ['slack.post_message'], ['starts', 'args.channel', 'eng-']),
	R('support-slack', 'allow', scope('slack:write'), ['slack.post_message'],
	  ['starts', 'args.channel', 'help-']),
	R('eng-slack-delete', 'allow', role('engineer'), ['slack.delete_message']),
	R('admin-slack', 'allow', role('admin'), ['slack.*']),
	R('eng-k8s-scale', 'allow', role('engineer'), ['k8s.scale_deployment'],
	  ['and', notEnv('prod'), ['le', 'args.replicas', 10]]),
	R('eng-exec-dev', 'allow', role('engineer'), ['k8s.exec'], env('dev')),
	R('oncall-exec', 'allow', scope('k8s:exec'), ['k8s.exec'], ['bool', 'context.mfa']),
	R('admin-k8s', 'allow', role('admin'), ['k8s.*']),
	R('billing-read', 'allow', scope('billing:read'), ['billing.get_invoice', 'billing.list_invoices']),
	R('eng-small-refunds', 'allow', role('engineer'), ['billing.refund'],
	  ['and', ['le', 'args.amount', 100], env('prod')]),
	R('scoped-tiny-refunds', 'allow', scope('tools:admin'), ['billing.refund'], ['le', 'args.amount', 50]),
	R('eng-invoices', 'allow', role('engineer'), ['billing.get_invoice']),
	R('admin-billing', 'allow', role('admin'), ['billing.*']),
	R('ci-bot-merge', 'allow', principal('ci-bot'), ['github.merge_pull_request'], notEnv('prod')),
	R('web-search', 'allow', role('reader'), ['search_web'], ['scope', 'web']),
	R('admin-deletes', 'allow', role('admin'), ['jira.delete_ticket', 'github.delete_repo'],
	  ['bool', 'context.mfa']),
	R('public-docs', 'allow', anyone, ['search_docs'], ['scope', 'public']),
];

const LEVELS = ['reader', 'engineer', 'admin'];

export function rules(extra) {
	const out = BASE_RULES.slice();
	for (let i = 0; i < extra; i++) {
		const name = catalogue(extra)[BASE_TOOLS.length + i].name;
		const srv = serverOf(name);
		out.push(R(`x${i}-use`, 'allow', role(LEVELS[i % 3]), [name], ['le', 'args.limit', 50 + (i % 500)]));
		out.push(R(`x${i}-scoped`, 'allow', scope(`${srv}:use`), [name], ['under', 'args.path', `/srv/${srv}`]));
		out.push(R(`x${i}-cap`, 'deny', anyone, [name], ['gt', 'args.limit', 900 + (i % 200)], null,
			   `${name} returns at most ${900 + (i % 200)} rows`));
		out.push(R(`x${i}-eng`, 'allow', role('engineer'), [name],
			   ['and', ['in', 'context.environment', ['dev', 'staging']],
			    ['starts', 'args.channel', `${srv}-`]]));
		if (i % 100 >= 9)
			out.push(R(`x${i}-prod-mfa`, 'deny', anyone, [name], env('prod'), ['bool', 'context.mfa']));
	}
	return out;
}

// Roles that hold `r` (inheritance included): who a `role r` subject reaches.
const HIERARCHY = ['guest', 'reader', 'engineer', 'admin'];
const holders = (r) => HIERARCHY.slice(HIERARCHY.indexOf(r));

const toolCache = new Map();
export function catalogue(extra) {
	if (!toolCache.has(extra))
		toolCache.set(extra, tools(extra));
	return toolCache.get(extra);
}

// ---- toolgate ----------------------------------------------------------------

const q = (s) => JSON.stringify(s);

function tgCond(c) {
	switch (c[0]) {
	case 'and': return c.slice(1).map((x) => tgAtom(x)).join(' and ');
	case 'or': return c.slice(1).map((x) => tgAtom(x)).join(' or ');
	case 'not': return `not ${tgAtom(c[1])}`;
	case 'eq': return `${c[1]} == ${typeof c[2] === 'object' ? c[2].path : q(c[2])}`;
	case 'ne': return `${c[1]} != ${typeof c[2] === 'object' ? c[2].path : q(c[2])}`;
	case 'in': return `${c[1]} in [${c[2].map(q).join(', ')}]`;
	case 'le': return `${c[1]} <= ${c[2]}`;
	case 'gt': return `${c[1]} > ${c[2]}`;
	case 'starts': return `${c[1]} starts_with ${q(c[2])}`;
	case 'under': return `${c[1]} under ${q(c[2])}`;
	case 'scope': return `token.scopes contains ${q(c[1])}`;
	case 'is': return `principal is ${c[1]}`;
	case 'bool': return c[1];
	}
	throw new Error(`unknown condition ${c[0]}`);
}

function tgAtom(c) {
	return c[0] === 'and' || c[0] === 'or' ? `(${tgCond(c)})` : tgCond(c);
}

export function toolgatePolicy(extra) {
	const lines = [
		`# The benchmark scenario (bench/peers/scenario.mjs), ${extra} extra tools.`,
		`policy "mcp-bench" version "${extra}";`,
		'',
		'attribute principal.tenant: string;',
		'attribute context.tenant: string;',
		'attribute context.environment: string in ["dev", "staging", "prod"];',
		'attribute context.mfa: bool;',
		'attribute args.limit: int;',
		'attribute args.amount: int;',
		'attribute args.replicas: int;',
		'attribute args.path: string;',
		'attribute args.channel: string;',
		'',
		'role guest;',
		'role reader: guest;',
		'role engineer: reader;',
		'role admin: engineer;',
		'',
		'default deny;',
		'',
	];
	for (const r of rules(extra)) {
		let s = `rule ${q(r.id)}: ${r.effect} `;
		switch (r.subject.kind) {
		case 'anyone': s += 'anyone'; break;
		case 'role': s += `role ${r.subject.names.join(', ')}`; break;
		case 'scope': s += `scope ${r.subject.names.map(q).join(', ')}`; break;
		case 'principal': s += `principal ${r.subject.names.map(q).join(', ')}`; break;
		}
		if (r.targets === 'anything')
			s += ' to do anything';
		else if (r.targets === ANY)
			s += ' to call any tool';
		else
			s += ` to call tool ${r.targets.map(q).join(', ')}`;
		if (r.when)
			s += `\n  when ${tgCond(r.when)}`;
		if (r.unless)
			s += `\n  unless ${tgCond(r.unless)}`;
		if (r.because)
			s += `\n  because ${q(r.because)}`;
		lines.push(s + ';');
	}
	return lines.join('\n') + '\n';
}

// ---- Cedar -------------------------------------------------------------------
// principal User::"id" (attrs tenant; parents: its roles), roles Role::"r"
// with the hierarchy as parents, resource Tool::"name" (attrs name,
// destructive; parent Server::"srv"), action Action::"call", context
// {environment, tenant, mfa, scopes, args: {...}}.

const CEDAR_PATH = {
	'principal.tenant': 'principal.tenant',
	'context.tenant': 'context.tenant',
	'context.environment': 'context.environment',
	'context.mfa': 'context.mfa',
	'tool.destructive': 'resource.destructive',
};
const cedarPath = (p) => CEDAR_PATH[p] || (p.startsWith('args.') ? `context.${p}` : null);

function cedarCond(c) {
	switch (c[0]) {
	case 'and': return c.slice(1).map((x) => `(${cedarCond(x)})`).join(' && ');
	case 'or': return c.slice(1).map((x) => `(${cedarCond(x)})`).join(' || ');
	case 'not': return `!(${cedarCond(c[1])})`;
	case 'eq': return `${cedarPath(c[1])} == ${typeof c[2] === 'object' ? cedarPath(c[2].path) : q(c[2])}`;
	case 'ne': return `${cedarPath(c[1])} != ${typeof c[2] === 'object' ? cedarPath(c[2].path) : q(c[2])}`;
	case 'in': return `[${c[2].map(q).join(', ')}].contains(${cedarPath(c[1])})`;
	case 'le': return `${cedarPath(c[1])} <= ${c[2]}`;
	case 'gt': return `${cedarPath(c[1])} > ${c[2]}`;
	case 'starts': return `${cedarPath(c[1])} like ${q(likeEscape(c[2]) + '*')}`;
	case 'under': {
		const p = cedarPath(c[1]);
		return `(${p} == ${q(c[2])} || ${p} like ${q(likeEscape(c[2]) + '/*')}) && !(${p} like "*..*")`;
	}
	case 'scope': return `context.scopes.contains(${q(c[1])})`;
	case 'is': return `principal in Role::${q(c[1])}`;
	case 'bool': return cedarPath(c[1]);
	}
	throw new Error(`unknown condition ${c[0]}`);
}

const likeEscape = (s) => s.replace(/\*/g, '\\*');

function cedarTarget(p) {
	if (!/[*?]/.test(p))
		return `resource == Tool::${q(p)}`;
	const m = /^([a-z0-9]+)\.\*$/.exec(p);
	if (m)
		return `resource in Server::${q(m[1])}`;
	return `resource.name like ${q(p)}`;
}

export function cedarPolicies(extra) {
	const out = [];
	for (const r of rules(extra)) {
		const scopeParts = ['principal', 'action', 'resource'];
		const conds = [];
		switch (r.subject.kind) {
		case 'role':
			if (r.subject.names.length === 1)
				scopeParts[0] = `principal in Role::${q(r.subject.names[0])}`;
			else
				conds.push(r.subject.names.map((n) => `principal in Role::${q(n)}`).join(' || '));
			break;
		case 'principal':
			if (r.subject.names.length === 1)
				scopeParts[0] = `principal == User::${q(r.subject.names[0])}`;
			else
				conds.push(`[${r.subject.names.map((n) => `User::${q(n)}`).join(', ')}].contains(principal)`);
			break;
		case 'scope':
			conds.push(r.subject.names.map((n) => `context.scopes.contains(${q(n)})`).join(' || '));
			break;
		}
		if (r.targets !== 'anything')
			scopeParts[1] = 'action == Action::"call"';
		if (Array.isArray(r.targets)) {
			if (r.targets.length === 1 && !/[*?]/.test(r.targets[0]))
				scopeParts[2] = `resource == Tool::${q(r.targets[0])}`;
			else
				conds.push(r.targets.map(cedarTarget).join(' || '));
		}
		if (r.when)
			conds.push(cedarCond(r.when));
		let s = `@id(${q(r.id)})\n${r.effect === 'deny' ? 'forbid' : 'permit'} (\n  ${scopeParts.join(',\n  ')}\n)`;
		for (const c of conds)
			s += `\nwhen { ${c} }`;
		if (r.unless)
			s += `\nunless { ${cedarCond(r.unless)} }`;
		out.push(s + ';');
	}
	return out.join('\n\n') + '\n';
}

export const CEDAR_SCHEMA = `// The benchmark scenario's Cedar schema.
entity Role in [Role];
entity User in [Role] { tenant: String };
entity Server;
entity Tool in [Server] { name: String, destructive: Bool };
type Args = { limit: Long, amount: Long, replicas: Long, path: String, channel: String };
action call appliesTo {
  principal: User,
  resource: Tool,
  context: { environment: String, tenant: String, mfa: Bool, scopes: Set<String>, args: Args }
};
`;

// Role entities with the hierarchy as parents (static).
export function cedarRoleEntities() {
	return HIERARCHY.map((r, i) => ({
		uid: { type: 'Role', id: r },
		attrs: {},
		parents: i > 0 ? [{ type: 'Role', id: HIERARCHY[i - 1] }] : [],
	}));
}

// ---- casbin ------------------------------------------------------------------
// r = sub, obj, ctx: sub {role, uid, scopes} with "role:", "user:", "scope:"
// prefixes; obj {name}. One policy line per (subject, tool pattern);
// the condition is a JS-like expression run through the matcher's eval().

export const CASBIN_MODEL = `# The benchmark scenario's casbin model: RBAC with a role hierarchy (g),
# tool globs, per-line ABAC conditions (eval) and deny-overrides.
[request_definition]
r = sub, obj, ctx

[policy_definition]
p = sub, obj, eft, cond

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = (p.sub == "*" || g(r.sub.role, p.sub) || p.sub == r.sub.uid || r.sub.scopes.includes(p.sub)) && (p.obj == "*" || globMatch(r.obj.name, p.obj)) && eval(p.cond)
`;

const CASBIN_PATH = {
	'principal.tenant': 'r.sub.tenant',
	'tool.destructive': 'r.obj.destructive',
};
const casbinPath = (p) => CASBIN_PATH[p] || `r.ctx.${p.replace(/^context\./, '')}`;
const sq = (s) => `'${s}'`;

function casbinCond(c) {
	switch (c[0]) {
	case 'and': return c.slice(1).map((x) => `(${casbinCond(x)})`).join(' && ');
	case 'or': return c.slice(1).map((x) => `(${casbinCond(x)})`).join(' || ');
	case 'not': return `!(${casbinCond(c[1])})`;
	case 'eq': return `${casbinPath(c[1])} == ${typeof c[2] === 'object' ? casbinPath(c[2].path) : sq(c[2])}`;
	case 'ne': return `${casbinPath(c[1])} != ${typeof c[2] === 'object' ? casbinPath(c[2].path) : sq(c[2])}`;
	case 'in': return c[2].map((v) => `${casbinPath(c[1])} == ${sq(v)}`).join(' || ');
	case 'le': return `${casbinPath(c[1])} <= ${c[2]}`;
	case 'gt': return `${casbinPath(c[1])} > ${c[2]}`;
	case 'starts': return `${casbinPath(c[1])}.startsWith(${sq(c[2])})`;
	case 'under': {
		const p = casbinPath(c[1]);
		return `(${p} == ${sq(c[2])} || ${p}.startsWith(${sq(c[2] + '/')})) && !${p}.includes('..')`;
	}
	case 'scope': return `r.sub.scopes.includes(${sq('scope:' + c[1])})`;
	case 'is': return `g(r.sub.role, ${sq('role:' + c[1])})`;
	case 'bool': return casbinPath(c[1]);
	}
	throw new Error(`unknown condition ${c[0]}`);
}

const csv = (s) => (/[",]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export function casbinPolicy(extra) {
	const lines = [];
	for (let i = 1; i < HIERARCHY.length; i++)
		lines.push(`g, role:${HIERARCHY[i]}, role:${HIERARCHY[i - 1]}`);
	for (const r of rules(extra)) {
		let cond = 'true';
		if (r.when && r.unless)
			cond = `(${casbinCond(r.when)}) && !(${casbinCond(r.unless)})`;
		else if (r.when)
			cond = casbinCond(r.when);
		else if (r.unless)
			cond = `!(${casbinCond(r.unless)})`;
		const subs = r.subject.kind === 'anyone' ? ['*']
			: r.subject.names.map((n) => `${{ role: 'role', scope: 'scope', principal: 'user' }[r.subject.kind]}:${n}`);
		const objs = Array.isArray(r.targets) ? r.targets : ['*'];
		for (const s of subs)
			for (const o of objs)
				lines.push(['p', s, o, r.effect, cond].map(csv).join(', '));
	}
	return lines.join('\n') + '\n';
}

// ---- CEL -----------------------------------------------------------------------
// One expression per rule over principal {id, roles, tenant}, token {scopes},
// tool {name, destructive}, context {...}, args {...}; the role hierarchy is
// spelled out as the set of roles that hold a role. The harness applies
// deny-overrides over the rules whose expression is true.

const CEL_PATH = { 'tool.destructive': 'tool.destructive' };
const celPath = (p) => CEL_PATH[p] || p;
const reEscape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function celGlob(p) {
	if (!/[*?]/.test(p))
		return `tool.name == ${q(p)}`;
	const m = /^([^*?]*)\*$/.exec(p);
	if (m && !m[1].includes('*'))
		return `tool.name.startsWith(${q(m[1])})`;
	const re = '^' + p.split('*').map(reEscape).join('[^/]*') + '$';
	return `tool.name.matches(${q(re)})`;
}

function celCond(c) {
	switch (c[0]) {
	case 'and': return c.slice(1).map((x) => `(${celCond(x)})`).join(' && ');
	case 'or': return c.slice(1).map((x) => `(${celCond(x)})`).join(' || ');
	case 'not': return `!(${celCond(c[1])})`;
	case 'eq': return `${celPath(c[1])} == ${typeof c[2] === 'object' ? celPath(c[2].path) : q(c[2])}`;
	case 'ne': return `${celPath(c[1])} != ${typeof c[2] === 'object' ? celPath(c[2].path) : q(c[2])}`;
	case 'in': return `${celPath(c[1])} in [${c[2].map(q).join(', ')}]`;
	case 'le': return `${celPath(c[1])} <= ${c[2]}`;
	case 'gt': return `${celPath(c[1])} > ${c[2]}`;
	case 'starts': return `${celPath(c[1])}.startsWith(${q(c[2])})`;
	case 'under': {
		const p = celPath(c[1]);
		return `(${p} == ${q(c[2])} || ${p}.startsWith(${q(c[2] + '/')})) && !${p}.contains("..")`;
	}
	case 'scope': return `${q(c[1])} in token.scopes`;
	case 'is': return `principal.roles.exists(r, r in [${holders(c[1]).map(q).join(', ')}])`;
	case 'bool': return celPath(c[1]);
	}
	throw new Error(`unknown condition ${c[0]}`);
}

// [{id, effect, tools: exact names or null, expr}]; `tools` lets a harness
// dispatch by tool name (CEL itself has no policy model).
export function celRules(extra) {
	return rules(extra).map((r) => {
		const parts = [];
		switch (r.subject.kind) {
		case 'role':
			parts.push(`principal.roles.exists(r, r in [${[...new Set(r.subject.names.flatMap(holders))].map(q).join(', ')}])`);
			break;
		case 'scope':
			parts.push(r.subject.names.map((n) => `${q(n)} in token.scopes`).join(' || '));
			break;
		case 'principal':
			parts.push(`principal.id in [${r.subject.names.map(q).join(', ')}]`);
			break;
		}
		let exact = null;
		if (Array.isArray(r.targets)) {
			parts.push(r.targets.map(celGlob).join(' || '));
			if (r.targets.every((t) => !/[*?]/.test(t)))
				exact = r.targets;
		}
		if (r.when)
			parts.push(celCond(r.when));
		if (r.unless)
			parts.push(`!(${celCond(r.unless)})`);
		const expr = parts.length ? parts.map((p) => `(${p})`).join(' && ') : 'true';
		return { id: r.id, effect: r.effect, tools: exact, expr };
	});
}

// ---- requests ------------------------------------------------------------------

// mulberry32: small, seedable, identical in every JS engine.
function rng(seed) {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6D2B79F5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

const USERS = [];
{
	const tenants = ['acme', 'globex'];
	const counts = { guest: 4, reader: 5, engineer: 7, admin: 3 };
	let k = 0;
	for (const [r, n] of Object.entries(counts))
		for (let i = 0; i < n; i++)
			USERS.push({ id: `${r}-${i}@example.com`, role: r, tenant: tenants[k++ % 2] });
	USERS.push({ id: 'mallory', role: 'engineer', tenant: 'acme' });
	USERS.push({ id: 'ci-bot', role: 'guest', tenant: 'acme' });
	USERS.push({ id: 'intern-bot', role: 'engineer', tenant: 'globex' });
	USERS.push({ id: 'auditor-bot', role: 'reader', tenant: 'acme' });
}

const SCOPES = ['tools:write', 'k8s:exec', 'slack:write', 'billing:read', 'web', 'public', 'tools:admin'];

export function requests(extra, count, seed) {
	const rand = rng(seed);
	const pick = (a) => a[Math.floor(rand() * a.length)];
	const cat = catalogue(extra);
	const out = [];
	for (let n = 0; n < count; n++) {
		const u = pick(USERS);
		const t = pick(cat);
		const scopes = SCOPES.filter(() => rand() < 0.3);
		if (t.server && t.server.startsWith('svc') && rand() < 0.5)
			scopes.push(`${t.server}:use`);
		const dir = dirOf(t.name);
		const path = pick([`${dir}/report.txt`, `${dir}/public/readme.md`, `${dir}/tmp/x.log`,
				   `${dir}/../etc/passwd`, `${dir}/a/../../etc/shadow`, '/etc/passwd',
				   `${dir}x/file`, dir]);
		out.push({
			principal: { id: u.id, roles: [u.role], tenant: u.tenant },
			token: { scopes },
			method: 'tools/call',
			target: t.name,
			...(t.server ? { server: t.server } : {}),
			tool: { destructive: t.destructive, read_only: !t.destructive },
			args: {
				limit: pick([10, 50, 100, 101, 500, 999, 1000, 1001, 5000, Math.floor(rand() * 1200)]),
				amount: pick([20, 50, 51, 80, 100, 150, 600]),
				replicas: pick([2, 10, 11, 15, 25]),
				path,
				channel: pick(['eng-backend', 'help-desk', 'exec-staff', 'general',
					       `${t.server || 'none'}-ops`]),
			},
			context: {
				environment: pick(['dev', 'staging', 'prod']),
				tenant: rand() < 0.9 ? u.tenant : (u.tenant === 'acme' ? 'globex' : 'acme'),
				mfa: rand() < 0.4,
			},
		});
	}
	return out;
}

// The 50-rule scenario in every language, into directory dir.
export function writeScenario(dir) {
	mkdirSync(dir, { recursive: true });
	writeFileSync(join(dir, 'scenario.tg'), toolgatePolicy(0));
	writeFileSync(join(dir, 'scenario.cedar'), cedarPolicies(0));
	writeFileSync(join(dir, 'scenario.cedarschema'), CEDAR_SCHEMA);
	writeFileSync(join(dir, 'casbin-model.conf'), CASBIN_MODEL);
	writeFileSync(join(dir, 'casbin-policy.csv'), casbinPolicy(0));
	writeFileSync(join(dir, 'scenario.cel.json'), JSON.stringify(celRules(0), null, 1) + '\n');
}

// ---- command line --------------------------------------------------------------

function main(argv) {
	const [cmd, a, b, c] = argv;
	const out = (s) => process.stdout.write(s);
	switch (cmd) {
	case 'toolgate':
		out(toolgatePolicy(Number(a || 0)));
		break;
	case 'requests':
		out(requests(Number(a || 0), Number(b || 1000), Number(c || 1)).map((r) => JSON.stringify(r)).join('\n') + '\n');
		break;
	case 'tools':
		out(catalogue(Number(a || 0)).map((t) => JSON.stringify(t)).join('\n') + '\n');
		break;
	case 'write':
		writeScenario(a);
		break;
	default:
		process.stderr.write('usage: scenario.mjs toolgate|requests|tools|write ...\n');
		process.exit(2);
	}
}

if (import.meta.url === `file://${process.argv[1]}`)
	main(process.argv.slice(2));
