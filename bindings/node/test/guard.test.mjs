// The SDK guard on a real McpServer (tools, resources, prompts) driven by the
// SDK's Client over the in-memory transport: allowed calls reach their
// handler, denied ones never do, lists are filtered, a prompts/get argument
// rule applies, and a reload in flight finishes on the policy it started with.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import tg from '../lib/index.js';
import { guard } from '../lib/sdk.js';
import { policy, SOURCE } from './fixture.mjs';

function makeServer(calls, gates = {}) {
  const server = new McpServer({ name: 'guarded', version: '1.0.0' });
  const tool = (name, annotations) =>
    server.registerTool(name, { inputSchema: { x: z.number().optional() }, annotations }, async (args) => {
      calls.push(name);
      if (gates[name]) await gates[name];
      return { content: [{ type: 'text', text: `${name} ok` }] };
    });
  tool('get_weather', { readOnlyHint: true, destructiveHint: false });
  tool('set_note', { readOnlyHint: false, destructiveHint: false });
  tool('set_drop', {}); // no hints: destructive by MCP's default
  tool('admin_reset', { destructiveHint: true });
  for (const uri of ['docs://readme', 'secret://keys']) {
    server.registerResource(uri, uri, {}, async (u) => {
      calls.push(`read ${u.href}`);
      return { contents: [{ uri: u.href, text: 'content' }] };
    });
  }
  server.registerPrompt('greet', { argsSchema: { tone: z.string() } }, ({ tone }) => {
    calls.push(`greet ${tone}`);
    return { messages: [{ role: 'user', content: { type: 'text', text: `hello (${tone})` } }] };
  });
  server.registerPrompt('secret_prompt', {}, () => {
    calls.push('secret_prompt');
    return { messages: [] };
  });
  return server;
}

async function connect(identity, gates, pol = policy) {
  const calls = [];
  const decisions = [];
  const server = guard(makeServer(calls, gates), {
    policy: pol,
    identity: () => identity,
    onDecision: (d, m) => decisions.push([m.method, d.decision, d.rule]),
  });
  const [ct, st] = InMemoryTransport.createLinkedPair();
  await server.connect(st);
  const client = new Client({ name: 'test-client', version: '1.0.0' });
  await client.connect(ct);
  return { client, calls, decisions };
}

const writer = new tg.Identity({ principal: { id: 'wendy', roles: ['writer'] } });

test('allowed calls reach the handler, denied calls never do', async () => {
  const { client, calls } = await connect(writer);
  const ok = await client.callTool({ name: 'get_weather', arguments: {} });
  assert.equal(ok.content[0].text, 'get_weather ok');
  await client.callTool({ name: 'set_note', arguments: {} });
  for (const name of ['set_drop', 'admin_reset']) {
    await assert.rejects(client.callTool({ name, arguments: {} }), (e) => e.code === -32003);
  }
  await assert.rejects(client.callTool({ name: 'nonexistent', arguments: {} }), (e) => e.code === -32003);
  assert.deepEqual(calls, ['get_weather', 'set_note']);
});

test('a blocked principal is denied with the rule and reason', async () => {
  const { client, calls } = await connect({ principal: { id: 'mallory', roles: ['writer'] } });
  await assert.rejects(client.callTool({ name: 'get_weather', arguments: {} }),
    (e) => e.code === -32003 && e.data.reason === 'blocked');
  assert.deepEqual(calls, []);
});

test('lists are filtered to what the caller may use', async () => {
  const { client } = await connect(writer);
  const tools = (await client.listTools()).tools.map((t) => t.name).sort();
  assert.deepEqual(tools, ['get_weather', 'set_note']);
  const resources = (await client.listResources()).resources.map((r) => r.uri);
  assert.deepEqual(resources, ['docs://readme']);
  const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
  assert.deepEqual(prompts, ['greet']);
});

test('resources and a prompts/get argument rule', async () => {
  const { client, calls } = await connect(writer);
  await client.readResource({ uri: 'docs://readme' });
  await assert.rejects(client.readResource({ uri: 'secret://keys' }), (e) => e.code === -32003);
  const p = await client.getPrompt({ name: 'greet', arguments: { tone: 'polite' } });
  assert.match(p.messages[0].content.text, /polite/);
  await assert.rejects(client.getPrompt({ name: 'greet', arguments: { tone: 'rude' } }), (e) => e.code === -32003);
  await assert.rejects(client.getPrompt({ name: 'secret_prompt' }), (e) => e.code === -32003);
  assert.deepEqual(calls, ['read docs://readme', 'greet polite']);
});

test('no identity: every request is refused', async () => {
  // initialize itself is a request with no identity to decide it: refused.
  await assert.rejects(connect(null), (e) => refusedFor(e, 'no identity for this request'));
});

// The guard's own refusal: code -32003, the reason in data and once, after
// "toolgate: ", in the message (the SDK's McpError puts its prefix first).
function refusedFor(e, reason) {
  return e.code === -32003 && e.data.reason === reason && e.data.rule === null &&
    e.message.endsWith(` toolgate: ${reason}`) && !e.message.includes('toolgate: toolgate:');
}

// A guarded server and a connected client with the given guard options.
async function connectWith(opts) {
  const calls = [];
  const server = guard(makeServer(calls), { identity: () => writer, ...opts });
  const [ct, st] = InMemoryTransport.createLinkedPair();
  await server.connect(st);
  const client = new Client({ name: 'c', version: '1' });
  await client.connect(ct);
  return { client, calls };
}

test('a decision onDecision cannot record is refused, never served', async () => {
  let failing = true;
  const { client, calls } = await connectWith({
    policy,
    onDecision: (d, m) => { if (failing && m.method === 'tools/call') throw new Error('the log is full'); },
  });
  await assert.rejects(client.callTool({ name: 'get_weather', arguments: {} }),
    (e) => refusedFor(e, 'the decision could not be recorded: the log is full'));
  assert.deepEqual(calls, []);
  failing = false;
  await client.callTool({ name: 'get_weather', arguments: {} });
  assert.deepEqual(calls, ['get_weather']);
});

test('a decision that cannot be made is refused, never served', async () => {
  // A policy object whose authorize throws once initialize went through.
  let n = 0;
  const flaky = {
    authorize: (m, id, o) => { if (n++ > 1) throw new Error('boom'); return policy.authorize(m, id, o); },
    filterList: (...a) => policy.filterList(...a),
  };
  const { client, calls } = await connectWith({ policy: flaky });
  await assert.rejects(client.callTool({ name: 'get_weather', arguments: {} }),
    (e) => refusedFor(e, 'the decision could not be made: boom'));
  assert.deepEqual(calls, []);
});

test('the server gets only the roots the identity may read', async () => {
  // roots are file:// URIs (the SDK's schema): a policy that grants a tree
  const files = tg.Policy.compile(`${SOURCE}rule "srv": allow role reader to read resource "file:///srv/**";\n`,
    { path: 'files.tg' });
  const mcp = makeServer([]);
  const server = guard(mcp, { policy: files, identity: () => writer });
  const [ct, st] = InMemoryTransport.createLinkedPair();
  await server.connect(st);
  const client = new Client({ name: 'c', version: '1' }, { capabilities: { roots: {} } });
  client.setRequestHandler(ListRootsRequestSchema, async () => ({
    roots: [{ uri: 'file:///srv/repo', name: 'repo' }, { uri: 'file:///' }, { uri: 'file:///etc' }],
  }));
  await client.connect(ct);
  const { roots } = await mcp.server.listRoots();
  assert.deepEqual(roots, [{ uri: 'file:///srv/repo', name: 'repo' }]);
});

test('checkRoots: an answer, a retry, and roots that are not roots', () => {
  const answer = { jsonrpc: '2.0', id: 7, result: { roots: [{ uri: 'docs://a' }, { uri: 'file:///etc' }] } };
  assert.deepEqual(policy.checkRoots(answer, writer).result.roots, [{ uri: 'docs://a' }]);
  const retry = { jsonrpc: '2.0', id: 8, method: 'tools/call',
    params: { name: 'get_weather', inputResponses: { r: { roots: [{ uri: 'file:///' }] } } } };
  assert.deepEqual(policy.checkRoots(retry, writer).params.inputResponses.r.roots, []);
  assert.equal(policy.checkRoots({ jsonrpc: '2.0', id: 9, result: {} }, writer), null);
  assert.equal(typeof policy.checkRoots(JSON.stringify(answer), writer), 'string');
  assert.throws(() => policy.checkRoots({ jsonrpc: '2.0', id: 10, result: { roots: 'file:///' } }, writer),
    (e) => e instanceof tg.ToolgateError);
});

test('the identity comes from authInfo when no function is given', async () => {
  const calls = [];
  const server = guard(makeServer(calls), { policy });
  const [ct, st] = InMemoryTransport.createLinkedPair();
  await server.connect(st);
  const client = new Client({ name: 'c', version: '1' });
  // InMemoryTransport carries authInfo per message (send(message, {authInfo})).
  const send = ct.send.bind(ct);
  ct.send = (m, o) => send(m, { ...o, authInfo: { token: 't', clientId: 'app', scopes: [], extra: { sub: 'mallory' } } });
  await client.connect(ct);
  await assert.rejects(client.callTool({ name: 'get_weather', arguments: {} }), (e) => /blocked/.test(e.message));
  assert.deepEqual(calls, []);
});

test('a reload while a request is in flight', async () => {
  const holder = new tg.Holder(policy);
  let release;
  const gate = new Promise((r) => (release = r));
  const { client, calls } = await connect(writer, { get_weather: gate }, holder);
  const inflight = client.callTool({ name: 'get_weather', arguments: {} });
  while (!calls.includes('get_weather')) await new Promise((r) => setImmediate(r));
  // The new policy grants nothing: the call in flight was decided already
  // and completes; the next one is decided by the new policy.
  holder.swap(tg.Policy.compile('policy "none"; default deny;', { path: 'none.tg' }));
  release();
  assert.equal((await inflight).content[0].text, 'get_weather ok');
  await assert.rejects(client.callTool({ name: 'get_weather', arguments: {} }), (e) => e.code === -32003);
  assert.equal(holder.current().info.name, 'none');
  assert.deepEqual(calls, ['get_weather']);
});
