// e2e.mjs - `toolgate proxy` between real MCP peers: a client written with
// the TypeScript SDK in front, the reference servers (server-everything,
// server-filesystem) behind. Run by tests/cli/proxy_e2e.sh:
//
//   node e2e.mjs TOOLGATE WORKDIR
//
// Prints one line per check and exits 1 when any failed.
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ListRootsRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const [toolgate, work] = process.argv.slice(2);
if (!toolgate || !work) {
	console.error("usage: node e2e.mjs TOOLGATE WORKDIR");
	process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const everything = path.join(here, "node_modules/@modelcontextprotocol/server-everything/dist/index.js");
const filesystem = path.join(here, "node_modules/@modelcontextprotocol/server-filesystem/dist/index.js");
const DENIED = -32003, INVALID = -32600, PARSE = -32700;

let failures = 0;
function check(ok, what, detail) {
	console.log(`${ok ? "ok  " : "FAIL"} ${what}${ok || detail === undefined ? "" : ": " + JSON.stringify(detail)}`);
	if (!ok) failures++;
}

// Compiles policy source to WORKDIR/NAME.tgb through a temporary file and a
// rename, the way a deployment replaces a live policy.
function compile(name, source) {
	const src = path.join(work, `${name}.tg`), tmp = path.join(work, `${name}.tmp.tgb`);
	fs.writeFileSync(src, source);
	execFileSync(toolgate, ["compile", src, "-o", tmp]);
	fs.renameSync(tmp, path.join(work, `${name}.tgb`));
	return path.join(work, `${name}.tgb`);
}

// roots: the roots the client answers roots/list with (it then declares the
// capability); asked resolves once the server has asked.
async function connect(policy, server, extra = [], roots = null) {
	const transport = new StdioClientTransport({
		command: toolgate,
		args: ["proxy", "--policy", policy, "--principal", "alice", "--role", "reader",
			"--audit", path.join(work, "audit.log"), ...extra, "--", "node", ...server],
		stderr: "pipe",
	});
	let stderr = "", asked = () => {};
	const rootsAsked = new Promise((r) => { asked = r; });
	transport.stderr?.on("data", (d) => { stderr += d; });
	const client = new Client({ name: "toolgate-e2e", version: "1.0.0" },
		roots ? { capabilities: { roots: { listChanged: true } } } : {});
	if (roots)
		client.setRequestHandler(ListRootsRequestSchema, async () => { asked(); return { roots }; });
	await client.connect(transport);
	return { client, stderr: () => stderr, rootsAsked };
}

async function callError(client, name, args) {
	try {
		const r = await client.callTool({ name, arguments: args });
		// A denial comes back as a tool result with isError (the model reads
		// the reason); the proxy's details are in _meta.
		const denial = r.isError ? r._meta?.["toolgate/denial"] : undefined;
		if (denial)
			return { code: denial.code, data: denial, message: r.content?.[0]?.text, result: r };
		return { result: r };
	} catch (e) {
		return { code: e.code, data: e.data, message: e.message };
	}
}

const base = `
policy "e2e" version "1";
role reader;
role writer: reader;
default deny;
allow anyone to list tools;
allow anyone to list resources;
allow anyone to list prompts;
rule "read-only": allow role reader to call any tool when tool.read_only;
rule "no-env": deny anyone to call tool "get-env" because "the environment is secret";
`;

// ---- server-everything: allow, deny, visibility, hot reload -------------
async function everythingChecks() {
	const policy = compile("everything", base);
	const { client, stderr } = await connect(policy, [everything, "stdio"]);

	const listed = (await client.listTools()).tools.map((t) => t.name);
	check(listed.includes("echo") && listed.includes("get-sum"), "tools/list shows read-only tools", listed);
	check(!listed.includes("get-env"), "tools/list hides a denied tool (get-env)", listed);
	check(!listed.includes("toggle-simulated-logging") && !listed.includes("gzip-file-as-resource"),
		"tools/list hides tools that are not read-only", listed);

	const echo = await client.callTool({ name: "echo", arguments: { message: "through the gate" } });
	check(echo.content?.[0]?.text === "Echo: through the gate", "an allowed call returns the server's result", echo);

	const env = await callError(client, "get-env", {});
	check(env.code === DENIED && env.data?.rule === "no-env" && /secret/.test(env.data?.reason ?? "") &&
		env.result?.isError === true && env.message === "toolgate: denied by rule 'no-env': the environment is secret",
		"a denied call gets a result with isError, the reason as text, the rule in _meta", env);
	const toggle = await callError(client, "toggle-simulated-logging", {});
	check(toggle.code === DENIED && toggle.data?.rule === null &&
		toggle.message === "toolgate: denied: no rule allows tools/call toggle-simulated-logging",
		"a call no rule allows is denied by default, saying so", toggle);

	// Hot reload under continuous traffic: four calls in flight at a time;
	// after a while the policy is replaced by one that denies echo, then by
	// broken bytes. Every call must be answered, each either echo's result
	// or the new rule's deny, and once denied never allowed again.
	let sent = 0, allowed = 0, denied = 0, other = [], flippedAt = -1, brokeAt = -1;
	const start = Date.now();
	let seenDeny = false, regress = false, batchNo = 0, denyBatch = -1;
	while (Date.now() - start < 15000) {
		const batch = [], b = batchNo++;
		for (let i = 0; i < 4; i++) {
			const n = sent++;
			batch.push(callError(client, "echo", { message: `m${n}` }).then((r) => {
				if (r.result?.content?.[0]?.text === `Echo: m${n}`) {
					allowed++;
					// Within one batch, calls forwarded before the swap may
					// answer after a deny; a later batch must not be allowed.
					if (denyBatch >= 0 && b > denyBatch) regress = true;
				} else if (r.code === DENIED && r.data?.rule === "no-echo") {
					denied++;
					seenDeny = true;
					if (denyBatch < 0) denyBatch = b;
				} else {
					other.push(r);
				}
			}));
		}
		await Promise.all(batch);
		if (sent >= 200 && flippedAt < 0) {
			flippedAt = sent;
			compile("everything", base + `rule "no-echo": deny anyone to call tool "echo" because "reloaded";\n`);
		}
		if (seenDeny && brokeAt < 0) {
			brokeAt = sent;
			fs.writeFileSync(policy + ".tmp", "TGB\0 definitely not bytecode");
			fs.renameSync(policy + ".tmp", policy);
		}
		if (brokeAt >= 0 && sent >= brokeAt + 200)
			break;
	}
	check(other.length === 0 && allowed + denied === sent,
		`hot reload under traffic: ${sent} calls, ${allowed} allowed, ${denied} denied, none failed or lost`,
		other.slice(0, 3));
	check(flippedAt > 0 && seenDeny && allowed >= flippedAt - 4, "the reloaded policy changes decisions",
		{ flippedAt, allowed, denied });
	check(!regress, "once the new policy serves, the old one never decides again");
	check(brokeAt > 0 && denied >= 200, "a broken policy file is rejected and the last good one keeps serving",
		{ brokeAt, denied });
	await new Promise((r) => setTimeout(r, 300));
	check(/reload of .* failed; keeping the current policy/.test(stderr()), "the broken policy is reported on stderr");
	await client.close();
}

// ---- server-filesystem: a denied write has no effect ---------------------
async function filesystemChecks() {
	const root = fs.realpathSync(fs.mkdtempSync(path.join(work, "fsroot-")));
	fs.writeFileSync(path.join(root, "hello.txt"), "hello from disk\n");
	const policy = compile("fs", base);
	const { client } = await connect(policy, [filesystem, root]);

	const listed = (await client.listTools()).tools.map((t) => t.name);
	check(listed.includes("read_text_file") && !listed.includes("write_file") && !listed.includes("move_file"),
		"filesystem tools/list shows only read-only tools", listed);

	const read = await client.callTool({ name: "read_text_file", arguments: { path: path.join(root, "hello.txt") } });
	check(read.content?.[0]?.text === "hello from disk\n", "an allowed read returns the file's contents", read);

	const target = path.join(root, "written.txt");
	const write = await callError(client, "write_file", { path: target, content: "should not exist" });
	check(write.code === DENIED, "write_file is denied by the proxy", write);
	check(!fs.existsSync(target), "the denied write did not happen (no file on disk)");
	await client.close();
	return root;
}

// ---- roots: a client cannot widen the server's reach ---------------------
// server-filesystem replaces its allowed directories with the client's
// roots. A client answering file:/// would open the whole disk; the proxy
// lets a root through only when the identity may read its tree.
async function rootsChecks(root) {
	const sub = path.join(root, "sub");
	fs.mkdirSync(sub, { recursive: true });
	const policy = compile("fs-roots", base + `rule "files": allow anyone to read resource "file://${root}/**";\n`);
	const allowed = async (client) => {
		const r = await client.callTool({ name: "list_allowed_directories", arguments: {} });
		return (r.content?.[0]?.text ?? "").split("\n").slice(1);
	};
	const settle = async (c) => {
		await Promise.race([c.rootsAsked, new Promise((r) => setTimeout(r, 5000))]);
		await new Promise((r) => setTimeout(r, 300));
	};

	let c = await connect(policy, [filesystem, root], [], [{ uri: "file:///" }, { uri: `file://${sub}` }]);
	await settle(c);
	let dirs = await allowed(c.client);
	check(dirs.length === 1 && dirs[0] === sub, "a client's file:/// root is removed, a root it may read passes", dirs);
	await c.client.close();

	c = await connect(policy, [filesystem, root], [], [{ uri: "file:///" }, { uri: "file:///etc" }]);
	await settle(c);
	dirs = await allowed(c.client);
	check(dirs.length === 1 && dirs[0] === root, "with every root removed the server keeps its own directory", dirs);
	await c.client.close();

	// Pinned: the server gets the operator's roots, whatever the client says.
	c = await connect(policy, [filesystem, root], ["--roots", `file://${sub}`], [{ uri: "file:///" }]);
	await new Promise((r) => setTimeout(r, 500));
	dirs = await allowed(c.client);
	check(dirs.length === 1 && dirs[0] === sub, "--roots pins the server's roots", dirs);
	await c.client.close();
}

// ---- malformed input from the client never reaches the server -----------
async function malformedChecks(root) {
	const policy = compile("fs-raw", base.replace(`rule "read-only"`, `rule "writes": allow role writer to call tool "write_file";\nrule "read-only"`));
	const proxy = spawn(toolgate, ["proxy", "--policy", policy, "--principal", "mallory", "--role", "reader",
		"--max-line", "4096", "--audit", path.join(work, "audit-raw.log"), "--", "node", filesystem, root],
		{ stdio: ["pipe", "pipe", "pipe"] });
	let out = "", err = "";
	proxy.stdout.on("data", (d) => { out += d; });
	proxy.stderr.on("data", (d) => { err += d; });
	const exited = new Promise((r) => proxy.on("exit", (code) => r(code)));
	const send = (s) => proxy.stdin.write(s + "\n");
	const waitFor = async (pred, ms = 5000) => {
		const t = Date.now();
		while (!pred() && Date.now() - t < ms) await new Promise((r) => setTimeout(r, 20));
		return pred();
	};
	const responses = () => out.split("\n").filter(Boolean).map((l) => JSON.parse(l));
	const byId = (id) => responses().find((m) => m.id === id);

	const evil = (n) => path.join(root, `evil-${n}.txt`);
	const write = (n) => JSON.stringify({ name: "write_file", arguments: { path: evil(n), content: "pwned" } }).slice(1, -1);
	send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } }));
	await waitFor(() => byId(1));
	send(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }));
	send(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }));
	// Duplicate keys: a reader that keeps the last "name" would write.
	send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"read_text_file",${write(3)}}}`);
	// A batch, an id-less call, junk bytes, a line over --max-line.
	send(`[{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{${write(4)}}}]`);
	send(`{"jsonrpc":"2.0","method":"tools/call","params":{${write(5)}}}`);
	proxy.stdin.write(Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80, 0x0a]));
	send(`{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{${write(6)},"pad":"${"x".repeat(5000)}"}}`);
	send(`{"jsonrpc":"2.0","id":7,"method":{"name":"tools/call"},"params":{${write(7)}}}`);
	send(`{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"write_file","arguments":{"path":"${evil(8)}","content":"\\ud800"}}}`);
	// Still serving afterwards: a good read.
	send(JSON.stringify({ jsonrpc: "2.0", id: 9, method: "tools/call", params: { name: "read_text_file", arguments: { path: path.join(root, "hello.txt") } } }));
	await waitFor(() => byId(9));
	if (process.env.TG_E2E_DEBUG) console.log(out, err);
	check(byId(3)?.error?.code === INVALID, "duplicate keys are refused with -32600", byId(3));
	check(byId(4)?.error?.code === INVALID, "a batch is refused with -32600", byId(4));
	check(byId(6)?.error?.code === INVALID && /longer than the line limit/.test(err),
		"an oversized line is refused, answered under the id its first bytes show, and reported", byId(6));
	check(byId(7)?.error?.code === INVALID, "a non-string method is refused", byId(7));
	// No parser accepts the escape; the id is found by scanning the line.
	check(byId(8)?.error?.code === PARSE, "a lone surrogate is refused with -32700 under its id", byId(8));
	check(byId(9)?.result?.content?.[0]?.text === "hello from disk\n", "the proxy and server still serve after junk", byId(9));
	const tools = byId(2)?.result?.tools?.map((t) => t.name) ?? [];
	check(tools.length > 0 && !tools.includes("write_file"), "raw tools/list is filtered too", tools);
	for (const n of [3, 4, 5, 6, 7, 8])
		check(!fs.existsSync(evil(n)), `malformed write #${n} never reached the server`);

	// The client closes stdin: the proxy closes the server's, waits, exits 0.
	proxy.stdin.end();
	const code = await exited;
	check(code === 0, "closing the client's stdin ends the proxy with status 0", { code, err: err.slice(-300) });
}

try {
	await everythingChecks();
	const root = await filesystemChecks();
	await rootsChecks(root);
	await malformedChecks(root);
} catch (e) {
	check(false, "the end-to-end run completed", String(e && e.stack || e));
}
const audit = fs.existsSync(path.join(work, "audit.log")) ? fs.readFileSync(path.join(work, "audit.log"), "utf8").split("\n").filter(Boolean) : [];
check(audit.length > 0 && audit.every((l) => { try { const a = JSON.parse(l); return a.decision && a.policy; } catch { return false; } }),
	`the audit log holds ${audit.length} JSON decision lines`);
console.log(failures ? `${failures} check(s) failed` : "all checks passed");
process.exit(failures ? 1 : 0);
