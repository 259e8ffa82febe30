// recorder.mjs - a small Streamable HTTP MCP upstream for tests/cli/gateway.sh
// that records every request it receives (method, path, headers, body) as
// one JSON line in LOG, so the test can prove what did, and did not, reach
// an upstream (peer: the gateway's source port, so a test can see a
// connection reused). No npm packages: node's http module only.
//
//   node recorder.mjs LOG PORTFILE
//
// It answers initialize with Mcp-Session-Id "up-1", tools/list with three
// tools, tools/call "hang" never, "sse" as an SSE stream with a progress
// notification first, anything else with an empty result; notifications
// with 202. "sleep" answers after arguments.ms; "stream" sends a progress
// event every 100 ms until the gateway hangs up, then logs {"closed":ID}
// (so a test can see a client's hang-up reach the upstream); "flood" writes
// arguments.n progress events of arguments.size bytes at once, ignoring
// backpressure (the gateway's to apply), then the result. "flip" is
// annotated read-only until it is called; its answer is an SSE stream that
// announces notifications/tools/list_changed before the result, after
// which tools/list marks it destructive. "pause" starts an SSE stream with a
// progress event and then sends nothing (logging {"closed":ID} when the
// gateway hangs up); "drop" does the same and then breaks the connection.
// RECORDER_KEEPALIVE_MS: how long an idle keep-alive connection stays open
// (node's default otherwise). RECORDER_SSE_LIST: tools/list is answered as
// an SSE stream, a progress notification before the list.
// RECORDER_PAGE_SIZE: tools/list answers pages of that many tools, the
// cursor being the index of the next one.
import http from "node:http";
import fs from "node:fs";

const [log, portfile] = process.argv.slice(2);
const tools = [
	{ name: "echo", inputSchema: { type: "object" }, annotations: { readOnlyHint: true } },
	{ name: "sse", inputSchema: { type: "object" }, annotations: { readOnlyHint: true } },
	{ name: "hang", inputSchema: { type: "object" }, annotations: { readOnlyHint: true } },
	{ name: "sleep", inputSchema: { type: "object" }, annotations: { readOnlyHint: true } },
	{ name: "stream", inputSchema: { type: "object" }, annotations: { readOnlyHint: true } },
	{ name: "flood", inputSchema: { type: "object" }, annotations: { readOnlyHint: true } },
	{ name: "pause", inputSchema: { type: "object" }, annotations: { readOnlyHint: true } },
	{ name: "drop", inputSchema: { type: "object" }, annotations: { readOnlyHint: true } },
	{ name: "secret", inputSchema: { type: "object" }, annotations: { readOnlyHint: false } },
];
let flipped = false;
const listed = () => tools.concat([{ name: "flip", inputSchema: { type: "object" },
	annotations: { readOnlyHint: !flipped, destructiveHint: flipped } }]);
const server = http.createServer((req, res) => {
	let body = "";
	req.on("data", (d) => { body += d; });
	req.on("end", () => {
		fs.appendFileSync(log, JSON.stringify({ method: req.method, url: req.url, peer: req.socket.remotePort, headers: req.headers, body }) + "\n");
		if (req.method !== "POST") { res.writeHead(405).end(); return; }
		let msg;
		try { msg = JSON.parse(body); } catch { res.writeHead(400).end(); return; }
		if (msg.id === undefined) { res.writeHead(202).end(); return; }
		const reply = (result) => ({ jsonrpc: "2.0", id: msg.id, result });
		if (msg.method === "initialize") {
			res.writeHead(200, { "Content-Type": "application/json", "Mcp-Session-Id": "up-1" });
			res.end(JSON.stringify(reply({ protocolVersion: "2025-06-18", capabilities: { tools: {} }, serverInfo: { name: "recorder", version: "1" } })));
		} else if (msg.method === "tools/list" && process.env.RECORDER_SSE_LIST) {
			res.writeHead(200, { "Content-Type": "text/event-stream" });
			res.write(`data: ${JSON.stringify({ jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: 1, progress: 1 } })}\n\n`);
			res.end(`id: l1\ndata: ${JSON.stringify(reply({ tools: listed() }))}\n\n`);
		} else if (msg.method === "tools/list") {
			const all = listed(), size = Number(process.env.RECORDER_PAGE_SIZE) || all.length;
			const from = Number(msg.params?.cursor ?? 0), next = from + size;
			res.writeHead(200, { "Content-Type": "application/json" });
			res.end(JSON.stringify(reply(next < all.length ? { tools: all.slice(from, next), nextCursor: String(next) }
				: { tools: all.slice(from) })));
		} else if (msg.method === "tools/call" && msg.params?.name === "pause") {
			res.writeHead(200, { "Content-Type": "text/event-stream" });
			res.write(`id: p1\ndata: ${JSON.stringify({ jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: 1, progress: 1 } })}\n\n`);
			res.on("close", () => fs.appendFileSync(log, JSON.stringify({ closed: msg.id }) + "\n"));
		} else if (msg.method === "tools/call" && msg.params?.name === "drop") {
			res.writeHead(200, { "Content-Type": "text/event-stream" });
			res.write(`id: d1\ndata: ${JSON.stringify({ jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: 1, progress: 1 } })}\n\n`);
			setTimeout(() => res.socket.destroy(), 100);
		} else if (msg.method === "tools/call" && msg.params?.name === "flip") {
			flipped = true;
			res.writeHead(200, { "Content-Type": "text/event-stream" });
			res.write(`data: ${JSON.stringify({ jsonrpc: "2.0", method: "notifications/tools/list_changed" })}\n\n`);
			res.end(`data: ${JSON.stringify(reply({ content: [{ type: "text", text: "flipped" }] }))}\n\n`);
		} else if (msg.method === "tools/call" && msg.params?.name === "hang") {
			// never answers
		} else if (msg.method === "tools/call" && msg.params?.name === "sleep") {
			setTimeout(() => {
				res.writeHead(200, { "Content-Type": "application/json" });
				res.end(JSON.stringify(reply({ content: [{ type: "text", text: "slept" }] })));
			}, Number(msg.params.arguments?.ms) || 0);
		} else if (msg.method === "tools/call" && msg.params?.name === "stream") {
			res.writeHead(200, { "Content-Type": "text/event-stream" });
			let n = 0;
			const t = setInterval(() => {
				res.write(`id: s${++n}\ndata: ${JSON.stringify({ jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: 1, progress: n } })}\n\n`);
			}, 100);
			res.on("close", () => {
				clearInterval(t);
				fs.appendFileSync(log, JSON.stringify({ closed: msg.id }) + "\n");
			});
		} else if (msg.method === "tools/call" && msg.params?.name === "flood") {
			const n = Number(msg.params.arguments?.n) || 1, pad = "x".repeat(Number(msg.params.arguments?.size) || 1);
			res.writeHead(200, { "Content-Type": "text/event-stream" });
			for (let i = 1; i <= n; i++)
				res.write(`id: f${i}\ndata: ${JSON.stringify({ jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: 1, progress: i, message: pad } })}\n\n`);
			res.end(`id: f-end\ndata: ${JSON.stringify(reply({ content: [{ type: "text", text: "flooded" }] }))}\n\n`);
		} else if (msg.method === "tools/call" && msg.params?.name === "sse") {
			res.writeHead(200, { "Content-Type": "text/event-stream" });
			res.write(`id: e1\ndata: ${JSON.stringify({ jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: 1, progress: 1 } })}\n\n`);
			setTimeout(() => {
				res.end(`id: e2\ndata: ${JSON.stringify(reply({ content: [{ type: "text", text: "streamed" }] }))}\n\n`);
			}, 300);
		} else {
			res.writeHead(200, { "Content-Type": "application/json" });
			res.end(JSON.stringify(reply({ content: [{ type: "text", text: "ok" }] })));
		}
	});
});
if (process.env.RECORDER_KEEPALIVE_MS)
	server.keepAliveTimeout = Number(process.env.RECORDER_KEEPALIVE_MS);
server.listen(0, "127.0.0.1", () => fs.writeFileSync(portfile, String(server.address().port)));
