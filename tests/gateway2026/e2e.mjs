// e2e.mjs - `toolgate gateway` with MCP 2026-07-28 peers, and scaled out.
//
//   node e2e.mjs TOOLGATE WORKDIR
//
// Behind the gateway: a server written with @modelcontextprotocol/server
// 2.4.0 (createMcpHandler, serving 2026-07-28 and, statelessly, 2025), a
// stateful @modelcontextprotocol/sdk 1.32.2 server (2025 sessions), and
// upstream.mjs (a recording server that makes tasks; the 2.4.0 server
// package does not ship the tasks extension). In front:
// @modelcontextprotocol/client 2.4.0 and @modelcontextprotocol/sdk 1.32.2.
//
// 1. SDK v2 through one gateway: an allowed call; a denied call that never
//    reaches its handler; a filtered, private list; a header that disagrees
//    with the body refused (400 -32020); a task of alice refused to bob.
// 2. Scale-out: two gateway processes (same session key) behind nginx,
//    round-robin, no affinity; a 2025 client's session and a 2026 client's
//    requests alternate between them and keep working.
// 3. The same with bearer tokens: two processes with `auth` (jwks_file,
//    the test keys of tests/gateway/keys, tokens from tests/gateway/tokens.mjs)
//    whose resource is nginx's address; a 2025 session and a 2026 client
//    carry a token through both (each process's audit names its jti and
//    issuer); a token for another resource is refused with 401.
//
// Prints one line per check and exits 1 when any failed.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as z from "zod";
import { McpServer, createMcpHandler } from "@modelcontextprotocol/server";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { McpServer as McpServerV1 } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport as ServerTransportV1 } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { Client as ClientV1 } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport as TransportV1 } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { check, children, failed, freePort, startGateway, waitFor } from "../gateway/harness.mjs";

const [toolgate, work] = process.argv.slice(2);
const here = path.dirname(fileURLToPath(import.meta.url));
const body = (req) => new Promise((resolve) => { const c = []; req.on("data", (d) => c.push(d)); req.on("end", () => resolve(Buffer.concat(c))); });

// ---- the SDK v2 server ------------------------------------------------------
const invoked = {};
function v2server() {
	const s = new McpServer({ name: "v2-upstream", version: "1.0.0" });
	s.registerTool("echo", { description: "echo", inputSchema: z.object({ text: z.string().optional() }), annotations: { readOnlyHint: true } },
		async ({ text }) => { invoked.echo = (invoked.echo || 0) + 1; return { content: [{ type: "text", text: `echo ${text ?? ""}` }] }; });
	s.registerTool("secret", { description: "not for readers", inputSchema: z.object({}), annotations: { readOnlyHint: false } },
		async () => { invoked.secret = (invoked.secret || 0) + 1; return { content: [{ type: "text", text: "the secret" }] }; });
	return s;
}
const handler = createMcpHandler(() => v2server());
const v2 = http.createServer(async (req, res) => {
	const b = req.method === "POST" ? await body(req) : undefined;
	const r = await handler.fetch(new Request(`http://127.0.0.1${req.url}`, { method: req.method, headers: req.headers, body: b }));
	res.writeHead(r.status, Object.fromEntries(r.headers));
	if (r.body) for await (const chunk of r.body) res.write(chunk);
	res.end();
});
await new Promise((r) => v2.listen(0, "127.0.0.1", r));
const v2url = `http://127.0.0.1:${v2.address().port}/mcp`;

// ---- a stateful 2025 server (SDK v1): sessions live in this process --------
const v1sessions = {};
const v1 = http.createServer(async (req, res) => {
	const b = req.method === "POST" ? JSON.parse((await body(req)).toString() || "null") : undefined;
	const sid = req.headers["mcp-session-id"];
	let t = sid && v1sessions[sid];
	if (!t) {
		t = new ServerTransportV1({ sessionIdGenerator: () => `v1-${Math.random().toString(36).slice(2)}`, onsessioninitialized: (id) => { v1sessions[id] = t; } });
		const s = new McpServerV1({ name: "v1-upstream", version: "1.0.0" });
		s.registerTool("echo", { description: "echo", annotations: { readOnlyHint: true } }, async () => {
			invoked.v1echo = (invoked.v1echo || 0) + 1;
			return { content: [{ type: "text", text: "v1 echo" }] };
		});
		await s.connect(t);
	}
	await t.handleRequest(req, res, b);
});
await new Promise((r) => v1.listen(0, "127.0.0.1", r));
const v1url = `http://127.0.0.1:${v1.address().port}/mcp`;

// ---- the task-making upstream -------------------------------------------------
const recPortFile = path.join(work, "rec.port");
fs.rmSync(recPortFile, { force: true });
children.push(spawn("node", [path.join(here, "upstream.mjs"), recPortFile], { stdio: "ignore" }));
check(await waitFor(() => fs.existsSync(recPortFile) && fs.readFileSync(recPortFile, "utf8").length > 0), "task upstream started");
const recPort = fs.readFileSync(recPortFile, "utf8");

// ---- gateways ---------------------------------------------------------------------
fs.writeFileSync(path.join(work, "policy.tg"), `
policy "e2e26" version "1";
role reader;
default deny;
allow anyone to list tools;
rule "ro": allow role reader to call any tool when tool.read_only;
allow anyone to invoke "tasks/*";
`);
fs.writeFileSync(path.join(work, "key"), "0123456789abcdef0123456789abcdef-e2e-2026");
// identity: a fixed development principal, or, with auth = {resource,
// issuer}, bearer tokens (keys in tests/gateway/keys) for that resource
async function gateway(name, principal, auth) {
	const port = await freePort();
	const who = auth ? `auth:
  issuer: ${auth.issuer}
  jwks_file: ${path.join(here, "../gateway/keys/jwks.json")}
  scopes: [tools:read]
  require_at_jwt: true
` : `identity:
  principal: {id: ${principal}, roles: [reader]}
`;
	fs.writeFileSync(path.join(work, `${name}.yaml`), `
listen: 127.0.0.1:${port}
resource: ${auth ? auth.resource : `http://127.0.0.1:${port}`}
policy: policy.tg
audit: ${name}.audit.jsonl
session_key_file: key
upstreams:
  - {name: v2, path: /v2/mcp, url: "${v2url}"}
  - {name: v1, path: /v1/mcp, url: "${v1url}"}
  - {name: rec, path: /rec/mcp, url: "http://127.0.0.1:${recPort}/mcp"}
${who}`);
	await startGateway(toolgate, path.join(work, `${name}.yaml`), name);
	return port;
}
const alice = await gateway("alice", "alice");
const bob = await gateway("bob", "bob");

// nginx round-robin (no affinity) on port lb in front of the gateway ports
async function nginx(name, lb, ports) {
	const prefix = path.join(work, name);
	fs.mkdirSync(path.join(prefix, "logs"), { recursive: true });
	fs.writeFileSync(path.join(prefix, "nginx.conf"), `
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  upstream gateways { ${ports.map((p) => `server 127.0.0.1:${p};`).join(" ")} }
  server {
    listen 127.0.0.1:${lb};
    location / {
      proxy_pass http://gateways;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }
}
`);
	const ng = spawn("nginx", ["-p", prefix, "-c", path.join(prefix, "nginx.conf"), "-g", "daemon off;"], { stdio: ["ignore", "ignore", "pipe"] });
	ng.exitSignal = "SIGTERM";
	children.push(ng);
	let ngErr = "";
	ng.stderr.on("data", (d) => { ngErr += d; });
	check(await waitFor(async () => { try { return (await fetch(`http://127.0.0.1:${lb}/healthz`)).ok; } catch { return false; } }), `${name} started`, ngErr);
}

async function v2client(port, p = "/v2/mcp", fetchWrap, token) {
	const c = new Client({ name: "e2e-v2", version: "1.0.0" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
	const opts = fetchWrap ? { fetch: fetchWrap } : {};
	if (token) opts.requestInit = { headers: { Authorization: `Bearer ${token}` } };
	await c.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}${p}`), opts));
	return c;
}
const errOf = async (f) => { try { await f(); return null; } catch (e) { return e; } };
// A denied tools/call is, by default, a tool result the model can read
// (isError, the denial in _meta), as the stdio proxy answers; a thrown
// JSON-RPC error otherwise. Either way: its code, or null when allowed.
const denialOf = async (f) => {
	try {
		const r = await f();
		const d = r?.isError ? r._meta?.["toolgate/denial"] : null;
		return d ? { code: d.code } : null;
	} catch (e) {
		return e;
	}
};

/* How many of n echo calls a client made through the load balancer were
 * answered by the upstream (v1) or allowed (v2). */
async function v1Echoes(client, n) {
	let ok = 0;
	for (let i = 0; i < n; i++) {
		const r = await errOf(async () => {
			const res = await client.callTool({ name: "echo", arguments: {} });
			if (res.content?.[0]?.text !== "v1 echo") throw new Error(JSON.stringify(res));
		});
		if (!r) ok++;
	}
	return ok;
}
async function v2Echoes(client, n) {
	let ok = 0;
	for (let i = 0; i < n; i++)
		if (!(await denialOf(() => client.callTool({ name: "echo", arguments: { text: String(i) } }))))
			ok++;
	return ok;
}

// ---- 1. SDK v2 through one gateway ------------------------------------------------
{
	const dbg = process.env.E2E_DEBUG ? async (url, init) => {
		console.log(">>", JSON.stringify(Object.fromEntries(new Headers(init?.headers))), init?.body);
		const r = await fetch(url, init);
		console.log("<<", r.status, (await r.clone().text()).slice(0, 400));
		return r;
	} : undefined;
	const c = await v2client(alice, "/v2/mcp", dbg);
	check(c.getNegotiatedProtocolVersion() === "2026-07-28", "v2 client speaks 2026-07-28 through the gateway", c.getNegotiatedProtocolVersion());
	const list = await c.listTools();
	const names = list.tools.map((t) => t.name).sort();
	check(JSON.stringify(names) === '["echo"]', "tools/list filtered to what alice may call", names);
	check(list.cacheScope === "private", "the filtered list is marked private", list.cacheScope);
	const r = await c.callTool({ name: "echo", arguments: { text: "hi" } });
	check(r.content?.[0]?.text === "echo hi" && invoked.echo === 1, "allowed call reaches the handler", r);
	const e = await denialOf(() => c.callTool({ name: "secret", arguments: {} }));
	check(e && e.code === -32003 && !invoked.secret, "denied call never reaches the handler", { code: e?.code, invoked });
	await c.close();

	// a header that disagrees with the body: the body asks for secret, the
	// Mcp-Name header claims echo
	let status = 0;
	const tamper = async (url, init) => {
		const b = typeof init?.body === "string" ? init.body : "";
		if (b.includes('"tools/call"')) {
			const h = new Headers(init.headers);
			h.set("mcp-name", "echo");
			init = { ...init, headers: h, body: b.replace('"name":"echo"', '"name":"secret"') };
		}
		const res = await fetch(url, init);
		if (b.includes('"tools/call"')) status = res.status;
		return res;
	};
	const t = await v2client(alice, "/v2/mcp", tamper);
	const me = await errOf(() => t.callTool({ name: "echo", arguments: {} }));
	check(status === 400 && me && (me.code === -32020 || String(me.message).includes("-32020") || String(me.message).includes("mismatch")) && !invoked.secret,
		"header/body mismatch refused with 400 HeaderMismatch, nothing forwarded", { status, code: me?.code, msg: String(me?.message) });
	await t.close();

	// tasks: alice's task cannot be read by bob
	const ca = await v2client(alice, "/rec/mcp");
	const any = z.object({}).passthrough();
	// the 2.4.0 client refuses resultType "task" unless the tasks extension
	// is wired, so the task is created with a plain POST (the headers a
	// 2026-07-28 client sends), then fetched with the SDK clients
	const meta = { "io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {} };
	const created = (await (await fetch(`http://127.0.0.1:${alice}/rec/mcp`, {
		method: "POST",
		headers: { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/call", "mcp-name": "slow" },
		body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "slow", arguments: {}, _meta: meta } }),
	})).json()).result ?? {};
	const tid = created.task?.taskId;
	check(typeof tid === "string" && !tid.startsWith("t-"), "task id sealed by the gateway", created);
	const mine = await errOf(() => ca.request({ method: "tasks/get", params: { taskId: tid } }, any));
	check(mine === null, "alice reads her own task", String(mine));
	const cb = await v2client(bob, "/rec/mcp");
	const stolen = await errOf(() => cb.request({ method: "tasks/get", params: { taskId: tid } }, any));
	check(stolen && String(stolen.message).includes("no such task"), "bob cannot tasks/get alice's task", String(stolen));
	const cancel = await errOf(() => cb.request({ method: "tasks/cancel", params: { taskId: tid } }, any));
	check(cancel && String(cancel.message).includes("no such task"), "bob cannot tasks/cancel alice's task", String(cancel));
	const counts = await (await fetch(`http://127.0.0.1:${recPort}/count`)).json();
	check(counts.tasks_get?.["t-1"] === 1, "only alice's tasks/get reached the upstream", counts);
	await ca.close();
	await cb.close();
}

// ---- 2. scale-out: two gateway processes behind nginx ----------------------------------
{
	const g1 = await gateway("lb1", "carol");
	const g2 = await gateway("lb2", "carol");
	const lb = await freePort();
	await nginx("nginx", lb, [g1, g2]);

	const decisions = () => ["lb1", "lb2"].map((n) => {
		const f = path.join(work, `${n}.audit.jsonl`);
		return fs.existsSync(f) ? fs.readFileSync(f, "utf8").split("\n").filter(Boolean).length : 0;
	});
	// 2025: a session opened through one process is honoured by the other
	const c1 = new ClientV1({ name: "e2e-v1", version: "1.0.0" });
	const tr = new TransportV1(new URL(`http://127.0.0.1:${lb}/v1/mcp`));
	await c1.connect(tr);
	check(typeof tr.sessionId === "string" && !tr.sessionId.startsWith("v1-"), "2025 client got a sealed session through nginx", tr.sessionId);
	const ok = await v1Echoes(c1, 6);
	const l1 = await c1.listTools();
	check(ok === 6 && l1.tools.length === 1, "2025 client: 6 calls and a list alternate between processes", { ok, invoked });
	const d1 = decisions();
	check(d1[0] > 0 && d1[1] > 0, "both gateway processes decided 2025 requests", d1);
	await c1.close();

	// 2026: stateless; nothing pins the client either
	const c2 = await v2client(lb);
	const ok2 = await v2Echoes(c2, 6);
	const denied = await denialOf(() => c2.callTool({ name: "secret", arguments: {} }));
	check(ok2 === 6 && denied?.code === -32003 && !invoked.secret, "2026 client: 6 calls allowed, secret denied, across processes", { ok2, code: denied?.code });
	const d2 = decisions();
	check(d2[0] > d1[0] && d2[1] > d1[1], "both gateway processes decided 2026 requests", { before: d1, after: d2 });
	await c2.close();
}

// ---- 3. scale-out with bearer tokens ---------------------------------------------------
// Two processes with the same session key and auth (jwks_file), whose
// resource is nginx's address: the audience is what the client sees.
{
	const lb = await freePort();
	const resource = `http://127.0.0.1:${lb}`;
	const issuer = "http://127.0.0.1:9/issuer";
	const g1 = await gateway("oa1", null, { resource, issuer });
	const g2 = await gateway("oa2", null, { resource, issuer });
	await nginx("nginx-oauth", lb, [g1, g2]);
	const mint = (aud) => execFileSync("node", [path.join(here, "../gateway/tokens.mjs"), "good", issuer, aud], { encoding: "utf8" });
	const jtiOf = (t) => JSON.parse(Buffer.from(t.split(".")[1], "base64url").toString()).jti;
	// per process: the decisions whose auth member names this token
	const decided = (jti) => ["oa1", "oa2"].map((n) => {
		const f = path.join(work, `${n}.audit.jsonl`);
		if (!fs.existsSync(f)) return 0;
		return fs.readFileSync(f, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l))
			.filter((d) => d.auth?.jti === jti && d.auth?.iss === issuer).length;
	});

	// 2025: the session and the token travel together through both processes
	const t1 = mint(`${resource}/v1/mcp`);
	const c1 = new ClientV1({ name: "e2e-v1-oauth", version: "1.0.0" });
	const tr = new TransportV1(new URL(`${resource}/v1/mcp`), { requestInit: { headers: { Authorization: `Bearer ${t1}` } } });
	await c1.connect(tr);
	check(typeof tr.sessionId === "string" && !tr.sessionId.startsWith("v1-"), "oauth: 2025 client got a sealed session through nginx", tr.sessionId);
	const ok = await v1Echoes(c1, 6);
	const l1 = await c1.listTools();
	check(ok === 6 && l1.tools.length === 1, "oauth: 2025 client with a bearer token: 6 calls and a list across processes", { ok });
	const d1 = decided(jtiOf(t1));
	check(d1[0] > 0 && d1[1] > 0, "oauth: both processes' audit logs show the 2025 token's decisions (jti, iss)", d1);
	await c1.close();

	// 2026: stateless, the same token on every request
	const t2 = mint(`${resource}/v2/mcp`);
	const c2 = await v2client(lb, "/v2/mcp", undefined, t2);
	const ok2 = await v2Echoes(c2, 6);
	const denied = await denialOf(() => c2.callTool({ name: "secret", arguments: {} }));
	check(ok2 === 6 && denied?.code === -32003 && !invoked.secret, "oauth: 2026 client: 6 calls allowed, secret denied, across processes", { ok2, code: denied?.code });
	const d2 = decided(jtiOf(t2));
	check(d2[0] > 0 && d2[1] > 0, "oauth: both processes' audit logs show the 2026 token's decisions (jti, iss)", d2);
	await c2.close();

	// a token for another resource (the v2 upstream) at /v1/mcp: 401 from
	// whichever process nginx picks (twice, so both are asked)
	const statuses = [];
	for (let i = 0; i < 2; i++) {
		const r = await fetch(`${resource}/v1/mcp`, {
			method: "POST",
			headers: { "content-type": "application/json", accept: "application/json, text/event-stream", authorization: `Bearer ${t2}` },
			body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "1" } } }),
		});
		statuses.push([r.status, (r.headers.get("www-authenticate") || "").includes("invalid_token")]);
	}
	check(statuses.every(([st, inv]) => st === 401 && inv), "oauth: a token for another resource is refused with 401 invalid_token through nginx", statuses);
}

console.log(failed() ? `${failed()} check(s) failed` : "all checks passed");
process.exit(failed() ? 1 : 0);
