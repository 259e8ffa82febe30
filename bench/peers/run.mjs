// run.mjs - the side-by-side benchmark: the scenario of scenario.mjs in
// toolgate, Cedar (cedar-wasm), casbin and CEL (cel-js), on the same seeded
// requests, in one run.
//
//   node bench/peers/run.mjs TG_BENCH_BINARY WORK_DIR [--requests N] [--seed S]
//
// For each variant (50 rules; 4,960 rules over 1,000 more tools) it writes
// the policy in every language into WORK_DIR, converts the requests into
// each engine's input ahead of time (not timed), times the decisions
// (best of several passes over all requests, each pass in request order),
// checks every engine's decision against toolgate's for every request, and
// prints one table. toolgate runs in C through tg-bench (bench/tg_bench.c);
// its ns/decision here is the same stream figure `make bench` prints. A peer
// that is not installed is reported and skipped.
//
// Exit status: 0, or 1 when any engine disagreed with toolgate.

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
	CASBIN_MODEL, CEDAR_SCHEMA, casbinPolicy, catalogue, cedarPolicies, cedarRoleEntities,
	celRules, requests, toolgatePolicy, writeScenario,
} from './scenario.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
	const i = args.indexOf(name);
	return i >= 0 ? args[i + 1] : dflt;
};
const [tgBench, workDir] = args;
if (!tgBench || !workDir) {
	process.stderr.write('usage: run.mjs TG_BENCH_BINARY WORK_DIR [--requests N] [--seed S]\n');
	process.exit(2);
}
const COUNT = Number(opt('--requests', 1000));
const SEED = Number(opt('--seed', 42));
const MIN_PASS_MS = 1000;	// keep passing over the requests for about this long
const MAX_PASSES = 20;
mkdirSync(workDir, { recursive: true });

// bench/peers/scenario-50/ is the readable copy of the 50-rule scenario in
// every language; say so when it no longer matches the generator.
{
	const here = dirname(fileURLToPath(import.meta.url));
	const fresh = join(workDir, 'scenario-50');
	writeScenario(fresh);
	for (const f of ['scenario.tg', 'scenario.cedar', 'scenario.cedarschema', 'casbin-model.conf',
			 'casbin-policy.csv', 'scenario.cel.json']) {
		let old = '';
		try {
			old = readFileSync(join(here, 'scenario-50', f), 'utf8');
		} catch { /* reported below */ }
		if (old !== readFileSync(join(fresh, f), 'utf8'))
			process.stdout.write(`note: bench/peers/scenario-50/${f} is stale; ` +
					     'regenerate it with `node bench/peers/scenario.mjs write bench/peers/scenario-50`\n');
	}
}

const now = () => process.hrtime.bigint();
const ms = (a, b) => Number(b - a) / 1e6;

// Best ns/decision over passes of `decide` on every input, in order. The
// first pass also gives the decisions; more passes run only while the whole
// has taken less than MIN_PASS_MS, so a slow engine is timed on one pass.
function time(inputs, decide) {
	const t0 = now();
	const out = inputs.map(decide);
	let best = Number(now() - t0) / inputs.length, passes = 1;
	while (passes < MAX_PASSES && ms(t0, now()) < MIN_PASS_MS) {
		const s = now();
		for (let i = 0; i < inputs.length; i++)
			decide(inputs[i]);
		best = Math.min(best, Number(now() - s) / inputs.length);
		passes++;
	}
	return { ns: best, decisions: out, passes };
}

async function tryImport(name) {
	try {
		return await import(name);
	} catch (e) {
		return { missing: `${name} is not installed (${e.code || e.message}); run bench/peers/install` };
	}
}

// ---- engines -------------------------------------------------------------

function runToolgate(dir, variant) {
	const policy = join(dir, `scenario-${variant}.tg`);
	const reqs = join(dir, `requests-${variant}.jsonl`);
	const dec = join(dir, `decisions-${variant}.toolgate`);
	const out = execFileSync(tgBench, ['scenario', policy, reqs, '--decisions', dec, '--json'],
				 { encoding: 'utf8' });
	const r = JSON.parse(out.trim().split('\n').pop());
	const decisions = readFileSync(dec, 'utf8').trim().split('\n').map((d) => d === 'allow');
	return { ns: r.stream_ns, median: r.median_ns, load: r.load_ms, compile: r.compile_ms, decisions };
}

async function runCedar(extra, reqs, dir, variant) {
	const cedar = await tryImport('@cedar-policy/cedar-wasm/nodejs');
	if (cedar.missing)
		return { error: cedar.missing };
	const text = cedarPolicies(extra);
	writeFileSync(join(dir, `scenario-${variant}.cedar`), text);
	writeFileSync(join(dir, 'scenario.cedarschema'), CEDAR_SCHEMA);
	// The policies are valid against the schema (checked once, not timed).
	const v = cedar.validate({ validationSettings: { mode: 'strict' }, schema: CEDAR_SCHEMA,
				   policies: { staticPolicies: text } });
	if (v.type !== 'success' || v.validationErrors.length)
		return { error: `cedar validation failed: ${JSON.stringify(v).slice(0, 400)}` };
	const t0 = now();
	const parsed = cedar.preparsePolicySet(`bench-${variant}`, { staticPolicies: text });
	const load = ms(t0, now());
	if (parsed.type !== 'success')
		return { error: `cedar cannot parse: ${JSON.stringify(parsed.errors).slice(0, 400)}` };
	const roles = cedarRoleEntities();
	const inputs = reqs.map((r) => ({
		principal: { type: 'User', id: r.principal.id },
		action: { type: 'Action', id: 'call' },
		resource: { type: 'Tool', id: r.target },
		context: {
			environment: r.context.environment, tenant: r.context.tenant, mfa: r.context.mfa,
			scopes: r.token.scopes, args: r.args,
		},
		preparsedPolicySetId: `bench-${variant}`,
		entities: [
			{ uid: { type: 'User', id: r.principal.id }, attrs: { tenant: r.principal.tenant },
			  parents: r.principal.roles.map((x) => ({ type: 'Role', id: x })) },
			{ uid: { type: 'Tool', id: r.target }, attrs: { name: r.target, destructive: r.tool.destructive },
			  parents: r.server ? [{ type: 'Server', id: r.server }] : [] },
			...(r.server ? [{ uid: { type: 'Server', id: r.server }, attrs: {}, parents: [] }] : []),
			...roles,
		],
	}));
	let errors = 0;
	const res = time(inputs, (call) => {
		const a = cedar.statefulIsAuthorized(call);
		if (a.type !== 'success')
			throw new Error(`cedar: ${JSON.stringify(a.errors).slice(0, 400)}`);
		errors += a.response.diagnostics.errors.length;
		return a.response.decision === 'allow';
	});
	return { ...res, load, note: errors ? `${errors} policy errors` : '' };
}

async function runCasbin(extra, reqs, dir, variant) {
	const casbin = await tryImport('casbin');
	if (casbin.missing)
		return { error: casbin.missing };
	const policy = casbinPolicy(extra);
	writeFileSync(join(dir, `casbin-policy-${variant}.csv`), policy);
	writeFileSync(join(dir, 'casbin-model.conf'), CASBIN_MODEL);
	const t0 = now();
	const e = await casbin.newEnforcer(casbin.newModelFromString(CASBIN_MODEL),
					   new casbin.StringAdapter(policy));
	const load = ms(t0, now());
	const inputs = reqs.map((r) => [
		{ role: `role:${r.principal.roles[0]}`, uid: `user:${r.principal.id}`,
		  tenant: r.principal.tenant, scopes: r.token.scopes.map((s) => `scope:${s}`) },
		{ name: r.target, destructive: r.tool.destructive },
		{ ...r.context, args: r.args },
	]);
	const res = time(inputs, (a) => e.enforceSync(a[0], a[1], a[2]));
	return { ...res, load };
}

async function runCel(extra, reqs, dir, variant) {
	const cel = await tryImport('@marcbachmann/cel-js');
	if (cel.missing)
		return { error: cel.missing };
	const rules = celRules(extra);
	writeFileSync(join(dir, `scenario-${variant}.cel.json`), JSON.stringify(rules, null, 1));
	// CEL has no policy model: the application keeps the rules, parses each
	// expression once, and looks rules up by exact tool name (a Map), the
	// glob and `any` rules being checked for every request. Deny-overrides
	// is the application's loop below.
	const t0 = now();
	const byTool = new Map(), always = [];
	for (const r of rules) {
		const c = { deny: r.effect === 'deny', fn: cel.parse(r.expr) };
		if (!r.tools)
			always.push(c);
		else
			for (const t of r.tools) {
				if (!byTool.has(t))
					byTool.set(t, []);
				byTool.get(t).push(c);
			}
	}
	const load = ms(t0, now());
	const inputs = reqs.map((r) => ({
		vars: {
			principal: { id: r.principal.id, roles: r.principal.roles, tenant: r.principal.tenant },
			token: { scopes: r.token.scopes },
			tool: { name: r.target, destructive: r.tool.destructive },
			context: r.context,
			args: Object.fromEntries(Object.entries(r.args).map(([k, v]) =>
				[k, typeof v === 'number' ? BigInt(v) : v])),
		},
		rules: always.concat(byTool.get(r.target) || []),
	}));
	const res = time(inputs, (x) => {
		let allow = false;
		for (const c of x.rules) {
			if (c.fn(x.vars) === true) {
				if (c.deny)
					return false;
				allow = true;
			}
		}
		return allow;
	});
	return { ...res, load };
}

// ---- the run --------------------------------------------------------------

const fmt = (x, d = 0) => (x === undefined || x === null ? '-' : x.toFixed(d));
const rows = [];
let mismatches = 0;

for (const [variant, extra] of [['50', 0], ['4960', 1000]]) {
	const reqs = requests(extra, COUNT, SEED);
	writeFileSync(join(workDir, `scenario-${variant}.tg`), toolgatePolicy(extra));
	writeFileSync(join(workDir, `requests-${variant}.jsonl`), reqs.map((r) => JSON.stringify(r)).join('\n') + '\n');
	const tg = runToolgate(workDir, variant);
	const allowed = tg.decisions.filter(Boolean).length;
	process.stdout.write(`variant ${variant} rules: ${reqs.length} requests over ${catalogue(extra).length} tools, ` +
			     `${allowed} allowed by toolgate\n`);
	rows.push({ variant, engine: 'toolgate', ns: tg.ns, load: tg.load,
		    note: `C; median ${fmt(tg.median, 0)} ns; compile ${fmt(tg.compile, 1)} ms` });
	for (const [engine, run] of [['cedar-wasm', runCedar], ['casbin', runCasbin], ['cel-js', runCel]]) {
		let r;
		try {
			r = await run(extra, reqs, workDir, variant);
		} catch (e) {
			r = { error: `${engine} failed: ${e.message.slice(0, 300)}` };
		}
		if (r.error) {
			rows.push({ variant, engine, error: r.error });
			process.stdout.write(`  ${engine}: ${r.error}\n`);
			continue;
		}
		let diff = 0;
		for (let i = 0; i < reqs.length; i++) {
			if (r.decisions[i] === tg.decisions[i])
				continue;
			if (diff++ < 5)
				process.stdout.write(`  MISMATCH ${engine} request ${i + 1}: toolgate ${tg.decisions[i] ? 'allow' : 'deny'}, ` +
						     `${engine} ${r.decisions[i] ? 'allow' : 'deny'}: ${JSON.stringify(reqs[i])}\n`);
		}
		mismatches += diff;
		rows.push({ variant, engine, ns: r.ns, load: r.load, ratio: r.ns / tg.ns, mismatches: diff,
			    note: [r.note, `${r.passes} passes`].filter(Boolean).join('; ') });
	}
}

process.stdout.write('\n| rules | engine | ns/decision | decisions/s | load ms | x toolgate | mismatches | notes |\n' +
		     '| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |\n');
for (const r of rows) {
	if (r.error) {
		process.stdout.write(`| ${r.variant} | ${r.engine} | - | - | - | - | - | not run: ${r.error} |\n`);
		continue;
	}
	process.stdout.write(`| ${r.variant} | ${r.engine} | ${fmt(r.ns, 0)} | ${fmt(1e9 / r.ns, 0)} | ${fmt(r.load, 2)} | ` +
			     `${r.ratio ? fmt(r.ratio, 1) : '1.0'} | ${r.mismatches ?? 0} | ${r.note || ''} |\n`);
}
process.stdout.write(`\n${mismatches} mismatching decisions in total (0 expected)\n`);
process.exit(mismatches ? 1 : 0);
