// e2e.mjs - `toolgate gateway` between real MCP peers: the TypeScript SDK's
// StreamableHTTPClientTransport in front; server-everything in its
// streamableHttp mode and server-filesystem as a stdio upstream behind.
// Run by tests/cli/gateway_e2e.sh:
//
//   node e2e.mjs TOOLGATE WORKDIR
//
// Prints one line per check and exits 1 when any failed.
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { check, children, failed, freePort, sseEvents, startGateway, waitFor } from "./harness.mjs";

const [toolgate, work] = process.argv.slice(2);
const here = path.dirname(fileURLToPath(import.meta.url));
const everything = path.join(here, "node_modules/@modelcontextprotocol/server-everything/dist/index.js");
const filesystem = path.join(here, "node_modules/@modelcontextprotocol/server-filesystem/dist/index.js");
const DENIED = -32003;

/* A denied tools/call comes back, by default, as a tool result the model
 * can read (isError, the denial in _meta), as the stdio proxy answers. */
function denial(r) {
	const d = r.result?.isError ? r.result._meta?.["toolgate/denial"] : null;
	return d ? { code: d.code, rule: d.rule, text: r.result.content?.[0]?.text } : { code: r.code, rule: r.data?.rule };
}




const repo = path.join(work, "repo");
fs.mkdirSync(repo, { recursive: true });
fs.writeFileSync(path.join(repo, "hello.txt"), "hello from disk\n");
fs.writeFileSync(path.join(work, "policy.tg"), `
policy "e2e" version "1";
role reader;
default deny;
allow anyone to list tools;
allow anyone to list resources;
allow anyone to list prompts;
rule "read-only": allow role reader to call any tool when tool.read_only;
rule "echo": allow role reader to call tool "echo", "trigger-long-running-operation";
rule "no-env": deny anyone to call tool "get-env" because "the environment is secret";
rule "features-doc": allow role reader to read resource "demo://resource/static/document/features.md";
rule "simple-prompt": allow role reader to get prompt "simple-prompt";
`);
fs.writeFileSync(path.join(work, "key"), "0123456789abcdef0123456789abcdef-e2e");

const evPort = await freePort();
const ev = spawn("node", [everything, "streamableHttp"], { env: { ...process.env, PORT: String(evPort) }, stdio: ["ignore", "ignore", "pipe"] });
children.push(ev);
let evErr = "";
ev.stderr.on("data", (d) => { evErr += d; });
check(await waitFor(() => evErr.includes("listening")), "server-everything started", evErr);

async function gateway(name, principal) {
	const port = await freePort();
	const conf = path.join(work, `${name}.yaml`);
	fs.writeFileSync(conf, `
listen: 127.0.0.1:${port}
resource: http://127.0.0.1:${port}
policy: policy.tg
audit: ${name}.audit.jsonl
origins: ["http://localhost"]
session_key_file: key
upstreams:
  - name: everything
    path: /everything/mcp
    url: http://127.0.0.1:${evPort}/mcp
  - name: files
    path: /files/mcp
    command: ["node", ${JSON.stringify(filesystem)}, ${JSON.stringify(repo)}]
identity:
  principal: {id: ${principal}, roles: [reader]}
`);
	return { url: `http://127.0.0.1:${port}`, ...(await startGateway(toolgate, conf, name)) };
}

async function connect(url) {
	const transport = new StreamableHTTPClientTransport(new URL(url));
	const client = new Client({ name: "toolgate-gateway-e2e", version: "1.0.0" });
	await client.connect(transport);
	return { client, transport };
}

async function callError(client, name, args, opts) {
	try {
		return { result: await client.callTool({ name, arguments: args }, undefined, opts) };
	} catch (e) {
		return { code: e.code, data: e.data, message: e.message };
	}
}

const A = await gateway("alice", "alice");
const B = await gateway("bob", "bob");
const C = await gateway("alice2", "alice");

// ---- server-everything over Streamable HTTP ------------------------------
{
	const { client, transport } = await connect(`${A.url}/everything/mcp`);
	const tools = (await client.listTools()).tools.map((t) => t.name);
	check(tools.includes("echo") && !tools.includes("get-env"), "tools/list is filtered (echo shown, get-env hidden)", tools);
	const echo = await client.callTool({ name: "echo", arguments: { message: "through the gateway" } });
	check(echo.content?.[0]?.text === "Echo: through the gateway", "an allowed call returns the server's real result", echo);
	const env = denial(await callError(client, "get-env", {}));
	check(env.code === DENIED && env.rule === "no-env" && /no-env|denied/.test(env.text ?? ""),
		"a denied call gets the proxy's answer: an isError result naming the rule", env);
	const progress = [];
	const long = await client.callTool({ name: "trigger-long-running-operation", arguments: { duration: 2, steps: 4 } },
		undefined, { onprogress: (p) => progress.push(p.progress) });
	check(progress.length >= 3 && /completed/.test(long.content?.[0]?.text ?? ""),
		"a streamed SSE answer is relayed as it streams (progress, then the result)", { progress, long });

	// resources/list and prompts/list keep what the identity may read or
	// get: one document of seven, one prompt of four.
	const resources = (await client.listResources()).resources.map((r) => r.uri);
	check(resources.length === 1 && resources[0] === "demo://resource/static/document/features.md",
		"resources/list is filtered to the resource the policy lets the identity read", resources);
	const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
	check(prompts.length === 1 && prompts[0] === "simple-prompt",
		"prompts/list is filtered to the prompt the policy lets the identity get", prompts);
	const read = await client.readResource({ uri: "demo://resource/static/document/features.md" });
	check(read.contents?.length === 1, "the listed resource is read through the gateway", read.contents?.length);

	// The session is the principal's: another principal presenting it is
	// refused (404); the same principal at another gateway process with the
	// same key is served (no shared memory).
	const sid = transport.sessionId;
	const body = JSON.stringify({ jsonrpc: "2.0", id: 99, method: "tools/list" });
	const headers = { "Content-Type": "application/json", Accept: "application/json, text/event-stream",
		"Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-06-18" };
	const asBob = await fetch(`${B.url}/everything/mcp`, { method: "POST", headers, body });
	check(asBob.status === 404, "a session presented by another principal is refused (404)", asBob.status);
	const atFiles = await fetch(`${A.url}/files/mcp`, { method: "POST", headers, body });
	check(atFiles.status === 404, "a session presented at another upstream is refused (404)", atFiles.status);
	const asAlice = await fetch(`${C.url}/everything/mcp`, { method: "POST", headers, body });
	check(asAlice.status === 200, "the same principal at another gateway process is served", asAlice.status);
	await transport.terminateSession();
	const after = await fetch(`${A.url}/everything/mcp`, { method: "POST", headers, body });
	// The gateway keeps no session state for HTTP upstreams: the upstream's
	// own refusal of a terminated session is relayed.
	check(after.status >= 400 && after.status < 500, "after DELETE the upstream refuses the session", after.status);
	await client.close();
}

// ---- SSE resumption: Last-Event-ID replays through the same filter ------------
// server-everything stores every event of a session and replays those after
// the Last-Event-ID a GET names. Replayed from the session's first event, a
// tools/list result comes back as filtered as it was the first time, and a
// call's progress and result arrive with the upstream's event ids.
{
	const url = `${A.url}/everything/mcp`;
	const H = { "Content-Type": "application/json", Accept: "application/json, text/event-stream",
		"MCP-Protocol-Version": "2025-06-18" };
	const post = (msg) => fetch(url, { method: "POST", headers: H, body: JSON.stringify({ jsonrpc: "2.0", ...msg }) });
	const init = await post({ id: 1, method: "initialize", params: { protocolVersion: "2025-06-18",
		capabilities: {}, clientInfo: { name: "toolgate-gateway-e2e", version: "1.0.0" } } });
	H["Mcp-Session-Id"] = init.headers.get("mcp-session-id");
	const first = await sseEvents(init, (e) => e.some((x) => x.msg?.id === 1));
	await (await post({ method: "notifications/initialized" })).text();
	const names = (e) => e.msg?.result?.tools?.map((t) => t.name);
	const listed = await sseEvents(await post({ id: 2, method: "tools/list" }), (e) => e.some(names));
	const call = await sseEvents(await post({ id: 3, method: "tools/call", params: {
		name: "trigger-long-running-operation", arguments: { duration: 1, steps: 2 }, _meta: { progressToken: "r" } } }),
		(e) => e.some((x) => x.msg?.id === 3));
	check(first[0]?.id && listed.every((e) => e.id) && call.every((e) => e.id),
		"SSE events through the gateway carry the upstream's event ids", { first, listed, call });
	const replay = await sseEvents(await fetch(url, { method: "GET", headers: { ...H, "Last-Event-ID": first[0]?.id } }),
		(e) => e.some((x) => x.msg?.id === 3));
	const relisted = replay.map(names).find(Boolean);
	check(relisted && relisted.includes("echo") && !relisted.includes("get-env") &&
		relisted.join() === names(listed.find(names)).join(),
		"a tools/list result replayed after Last-Event-ID is filtered as it was (get-env hidden)", relisted);
	check(replay.some((e) => e.msg?.id === 3 && /completed/.test(e.msg.result?.content?.[0]?.text ?? "")) &&
		replay.filter((e) => e.msg?.method === "notifications/progress").length === 2,
		"the call's progress and result are replayed", replay.map((e) => e.msg?.method ?? e.msg?.id));
	await fetch(url, { method: "DELETE", headers: H });
}

// ---- server-filesystem as a stdio upstream ------------------------------------
{
	const { client, transport } = await connect(`${A.url}/files/mcp`);
	const tools = (await client.listTools()).tools.map((t) => t.name);
	check(tools.includes("read_text_file") && !tools.includes("write_file"), "stdio upstream: tools/list is filtered", tools);
	const read = await client.callTool({ name: "read_text_file", arguments: { path: path.join(repo, "hello.txt") } });
	check(/hello from disk/.test(read.content?.[0]?.text ?? ""), "stdio upstream: an allowed call reads the real file", read);
	const target = path.join(repo, "written.txt");
	const write = denial(await callError(client, "write_file", { path: target, content: "nope" }));
	check(write.code === DENIED && !fs.existsSync(target), "stdio upstream: a denied write leaves the disk untouched", write);
	await transport.terminateSession();
	await client.close();
}

const audit = fs.readFileSync(path.join(work, "alice.audit.jsonl"), "utf8");
check(/"target":"get-env","decision":"deny".*"upstream":"everything"/.test(audit), "the denial is audited with its upstream");
check(/"target":"write_file","decision":"deny".*"upstream":"files"/.test(audit), "the stdio denial is audited with its upstream");

for (const g of [A, B, C]) g.proc.kill("SIGTERM");
const stopped = await waitFor(() => [A, B, C].every((g) => g.proc.exitCode !== null), 12000);
check(stopped && [A, B, C].every((g) => g.proc.exitCode === 0), "SIGTERM stops every gateway cleanly",
	[A, B, C].map((g) => g.proc.exitCode));
ev.kill("SIGTERM");
process.exit(failed() ? 1 : 0);
