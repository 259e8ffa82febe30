// upstream.mjs - a fast recording MCP upstream for the 2026-07-28 gateway
// tests and the load bench (node's http module only, no SDK, so it costs
// little per request). It counts every tools/call it receives by tool name,
// so a test can prove a denied call never arrived, and logs requests'
// methods and Mcp-* headers to LOG when given.
//
//   node upstream.mjs PORTFILE [LOG] [--legacy]
//
// Tools: echo (read-only), secret (not read-only), region (argument
// `region` mirrored as Mcp-Param-Region), shard (an integer argument
// mirrored as Mcp-Param-Shard), slow (answers with a task).
// tasks/get answers for any task id it made, and says which id it was
// asked for. GET /count gives {"calls": {tool: n}, "tasks_get": {id: n}}.
// --legacy answers like a 2025-only SDK server: every request without a
// session is 400 -32000 "Server not initialized".
import http from "node:http";
import fs from "node:fs";

const args = process.argv.slice(2);
const legacy = args.includes("--legacy");
const [portfile, log] = args.filter((a) => !a.startsWith("--"));
const tools = [
	{ name: "echo", inputSchema: { type: "object" }, annotations: { readOnlyHint: true } },
	{ name: "secret", inputSchema: { type: "object" }, annotations: { readOnlyHint: false } },
	{ name: "region", annotations: { readOnlyHint: true },
	  inputSchema: { type: "object", properties: { region: { type: "string", "x-mcp-header": "Region" }, q: { type: "string" } } } },
	{ name: "slow", inputSchema: { type: "object" }, annotations: { readOnlyHint: true } },
	{ name: "shard", annotations: { readOnlyHint: true },
	  inputSchema: { type: "object", properties: { shard: { type: "integer", "x-mcp-header": "Shard" } } } },
];
const calls = {}, tasksGet = {};
let tasks = 0;
const server = http.createServer((req, res) => {
	const chunks = [];
	req.on("data", (d) => chunks.push(d));
	req.on("end", () => {
		if (req.method === "GET" && req.url === "/count") {
			res.writeHead(200, { "Content-Type": "application/json" });
			res.end(JSON.stringify({ calls, tasks_get: tasksGet }));
			return;
		}
		const body = Buffer.concat(chunks).toString();
		let msg;
		try { msg = JSON.parse(body); } catch { res.writeHead(400).end(); return; }
		if (log) {
			const h = {};
			for (const [k, v] of Object.entries(req.headers))
				if (k.startsWith("mcp-") || k === "authorization") h[k] = v;
			fs.appendFileSync(log, JSON.stringify({ method: msg.method, headers: h, params: msg.params }) + "\n");
		}
		if (msg.id === undefined) { res.writeHead(202).end(); return; }
		if (legacy && !req.headers["mcp-session-id"] && msg.method !== "initialize") {
			res.writeHead(400, { "Content-Type": "application/json" });
			res.end(JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32000, message: "Bad Request: Server not initialized" } }));
			return;
		}
		const reply = (result) => JSON.stringify({ jsonrpc: "2.0", id: msg.id, result: { resultType: "complete", ...result } });
		let out;
		switch (msg.method) {
		case "server/discover":
			out = reply({ supportedVersions: ["2026-07-28"], capabilities: { tools: {} }, serverInfo: { name: "upstream", version: "1" } });
			break;
		case "tools/list":
			out = reply({ tools, ttlMs: 60000, cacheScope: "public" });
			break;
		case "tools/call": {
			const name = msg.params?.name;
			calls[name] = (calls[name] || 0) + 1;
			if (name === "slow") {
				const taskId = `t-${++tasks}`;
				out = JSON.stringify({ jsonrpc: "2.0", id: msg.id, result: { resultType: "task", task: { taskId, status: "working", ttlMs: 60000 } } });
			} else {
				out = reply({ content: [{ type: "text", text: `ok ${name}` }] });
			}
			break;
		}
		case "tasks/get": {
			const id = msg.params?.taskId;
			tasksGet[id] = (tasksGet[id] || 0) + 1;
			out = reply({ taskId: id, status: "completed", result: { content: [{ type: "text", text: `done ${id}` }] } });
			break;
		}
		default:
			out = reply({});
		}
		res.writeHead(200, { "Content-Type": "application/json" });
		res.end(out);
	});
});
server.keepAliveTimeout = 60000;
server.listen(0, "127.0.0.1", () => fs.writeFileSync(portfile, String(server.address().port)));
