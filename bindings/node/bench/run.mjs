// Per-decision cost through the binding against the C call, in one run.
//   TG_BINARY_DIR=build node bench/run.mjs [N]
// The C side is bench/eval_json.c (tg_eval_json in a loop), compiled here
// against the same build. Each figure is the best of 5 rounds of N.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import tg from '../lib/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const build = path.resolve(process.env.TG_BINARY_DIR ?? path.join(here, '../../../build'));
const source = path.resolve(here, '../../..');
const N = Number(process.argv[2] ?? 200000);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tgbench-'));
const tgb = path.join(tmp, 'p.tgb');
execFileSync(path.join(build, 'bin/toolgate'), ['compile', path.join(source, 'policies/examples/engineering.tg'), '-o', tgb]);

const request = {
  principal: { id: 'alice', roles: ['engineer'], tenant: 'acme' },
  token: { scopes: ['tools:read'], client_id: 'desktop-app' },
  method: 'tools/call', target: 'postgres.query',
  tool: { destructive: false, read_only: true },
  args: { sql: 'SELECT 1', limit: 10 },
  context: { environment: 'staging', mfa: false, tenant: 'acme', time: 1764140000 },
};
const text = JSON.stringify(request);
fs.writeFileSync(path.join(tmp, 'req.json'), text);
const exe = path.join(tmp, 'eval_json');
execFileSync('cc', ['-O2', '-std=c11', '-o', exe, path.join(here, 'eval_json.c'), `-I${source}/include`, `-I${build}/include`,
  `-L${build}/lib`, `-Wl,-rpath,${build}/lib`, '-ltoolgate-mcp', '-ltoolgate']);

const best = (f) => {
  let b = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    f();
    b = Math.min(b, Number(process.hrtime.bigint() - t0) / N);
  }
  return b;
};
const p = tg.Policy.load(tgb);
const id = new tg.Identity({ principal: request.principal, token: request.token, context: request.context });
const message = { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'postgres.query', arguments: request.args } };
const want = p.evalJson(text);
if (want.decision !== 'allow') throw new Error(JSON.stringify(want));
const rows = [
  ['C tg_eval_json (bench/eval_json.c)', () => null],
  ['evalJson(JSON text)', () => best(() => { for (let i = 0; i < N; i++) p.evalJson(text); })],
  ['evalJson(JS object)', () => best(() => { for (let i = 0; i < N; i++) p.evalJson(request); })],
  ['authorize(message object, prepared Identity)', () => best(() => { for (let i = 0; i < N; i++) p.authorize(message, id, { now: 1764140000 }); })],
  ['authorize(message object, identity object)', () => best(() => { for (let i = 0; i < N; i++) p.authorize(message, { principal: request.principal, token: request.token, context: request.context }, { now: 1764140000 }); })],
];
let c = Infinity;
for (let r = 0; r < 5; r++) c = Math.min(c, Number(execFileSync(exe, [tgb, path.join(tmp, 'req.json'), String(N)], { encoding: 'utf8' }).split(' ')[0]));
console.log(`engineering.tg, ${N} decisions x 5 rounds (best), node ${process.version}`);
for (const [name, f] of rows) console.log(`${name.padEnd(48)} ${(name.startsWith('C ') ? c : f()).toFixed(0).padStart(6)} ns/decision`);
fs.rmSync(tmp, { recursive: true, force: true });
