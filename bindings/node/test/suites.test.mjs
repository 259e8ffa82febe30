// The binding decides every request of every example suite as `toolgate
// eval` does (the reference, run on the same lines), from JSON text and
// from a JS object. Needs TG_BINARY_DIR (a build tree with bin/toolgate and
// bin/suite_requests) and TG_SOURCE_DIR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tg from '../lib/index.js';

const BUILD = process.env.TG_BINARY_DIR;
const SOURCE = process.env.TG_SOURCE_DIR;

test('example suites: the same decisions as toolgate eval', { skip: !BUILD && 'TG_BINARY_DIR not set' }, () => {
  const toolgate = path.join(BUILD, 'bin', 'toolgate');
  const examples = path.join(SOURCE, 'policies', 'examples');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tgnode-'));
  let compared = 0;
  let lossy = 0;
  try {
    for (const suite of fs.readdirSync(examples).filter((f) => f.endsWith('.yaml')).sort()) {
      const lines = execFileSync(path.join(BUILD, 'bin', 'suite_requests'), [path.join(examples, suite)],
        { encoding: 'utf8' }).split('\n').filter(Boolean);
      const [source, ...requests] = lines;
      const tgb = path.join(tmp, path.basename(source, '.tg') + '.tgb');
      execFileSync(toolgate, ['compile', source, '-o', tgb]);
      // eval exits 2 when a request is invalid; its output is still the reference.
      let ref;
      try {
        ref = execFileSync(toolgate, ['eval', tgb], { input: requests.join('\n'), encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] });
      } catch (e) {
        ref = e.stdout;
      }
      ref = ref.split('\n').filter(Boolean).map((l) => JSON.parse(l));
      assert.equal(ref.length, requests.length, suite);
      const fromFile = tg.Policy.load(tgb);
      const fromSource = tg.Policy.compile(fs.readFileSync(source), { path: source });
      assert.equal(fromSource.info.hash, fromFile.info.hash, `${suite}: compile() differs from toolgate compile`);
      requests.forEach((req, i) => {
        for (const [how, got] of [['text', fromFile.evalJson(req)], ['object', fromFile.evalJson(JSON.parse(req))]]) {
          const want = ref[i];
          const shaped = { decision: got.decision, rule: got.invalid ? null : got.rule, reason: got.reason,
            errors: got.invalid ? [] : got.errors };
          if (got.invalid) shaped.invalid = true;
          if (got.byError) shaped.by_error = true;
          // A JS object cannot hold what JSON.parse drops (duplicate keys,
          // integers past 2^53, number spelling): where the round trip
          // changes the text, only the text is compared (docs/bindings/node.md).
          if (how === 'object' && JSON.stringify(JSON.parse(req)) !== req) {
            lossy++;
            continue;
          }
          assert.deepEqual(shaped, want, `${suite} (${how}): ${req}`);
        }
        compared++;
      });
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  assert.ok(compared >= 100, `only ${compared} requests compared`);
  console.log(`# ${compared} requests compared (${lossy} as text only)`);
});
