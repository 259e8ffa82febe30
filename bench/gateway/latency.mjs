// latency.mjs - what `toolgate gateway` adds to a request, measured against
// a direct connection and against nginx as a plain reverse proxy (one HTTP
// hop, no authorization), all in one run, with the same client and the same
// upstream. Not a test: numbers for bench/RESULTS.md (make bench-gateway).
//
//   node bench/gateway/latency.mjs TOOLGATE [ROUNDS] [IDLE_CONNECTIONS]
//
// Targets, each a POST tools/call of an allowed read-only tool over one
// keep-alive connection, one request at a time:
//   direct    the upstream itself (a node http server answering JSON)
//   nginx     Debian's nginx on loopback, its own prefix and config, proxy_pass
//             with upstream keep-alive
//   nginx-log the same, writing an access log line per request (the gateway
//             writes its audit line)
//   nginx-new the same nginx with a new upstream connection per request
//             (HTTP/1.0 to the upstream), as the gateway does today
//   gateway   toolgate gateway with the development identity (no auth)
//   auth      toolgate gateway as an OAuth resource server, an RS256 bearer
//             token validated on every request (keys from a jwks_file)
// The client is wrk, one thread and one connection (-t1 -c1): a C client
// whose own time per request is small and steady next to what is measured.
// ROUNDS (default 8) rounds interleave the targets, one second of wrk each,
// so drift on a shared machine hits all of them alike. Printed: the median
// over rounds of each round's p50 and p99 latency, added latency over
// direct, CPU time per request of the proxy process (utime+stime from
// /proc/PID/stat around each round, nginx master and worker summed, over the
// requests wrk counted), and memory per idle keep-alive connection (RSS
// delta over IDLE_CONNECTIONS connections that each made one request and
// stay open). Every answer is checked once before timing starts.
// Each round also runs tg-bench-client (bench/gateway/client_cost.c, built
// next to TOOLGATE by `make bench-gateway`) against the upstream, as
// libcurl and as a plain socket, one second each: the client side of a
// proxied request alone, and libcurl's own part of it.
import http from "node:http";
import net from "node:net";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn, execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const [toolgate, roundsArg, idleArg] = process.argv.slice(2);
if (!toolgate) {
	console.error("usage: node latency.mjs TOOLGATE [ROUNDS] [IDLE_CONNECTIONS]");
	process.exit(2);
}
const ROUNDS = Number(roundsArg) || 8;
const IDLE = Number(idleArg) || 200;
const here = path.dirname(fileURLToPath(import.meta.url));
const src = path.resolve(here, "../..");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "tg-bench-gw-"));
const children = [];
const cleanup = () => {
	for (const c of children) try { c.kill("SIGTERM"); } catch {}
	fs.rmSync(work, { recursive: true, force: true });
};
process.on("exit", cleanup);
process.on("SIGINT", () => process.exit(130));

function freePort() {
	return new Promise((resolve) => {
		const s = net.createServer().listen(0, "127.0.0.1", () => {
			const p = s.address().port;
			s.close(() => resolve(p));
		});
	});
}
async function waitPort(port, ms = 10000) {
	const end = Date.now() + ms;
	while (Date.now() < end) {
		const ok = await new Promise((r) => {
			const s = net.connect(port, "127.0.0.1", () => { s.destroy(); r(true); });
			s.on("error", () => r(false));
		});
		if (ok) return;
		await new Promise((r) => setTimeout(r, 50));
	}
	throw new Error(`nothing listens on ${port}`);
}

// ---- the upstream: a separate node process, so its CPU is not the client's
const upPort = await freePort();
const upstream = spawn("node", ["-e", `
const http = require("http");
const tools = [{ name: "echo", inputSchema: { type: "object" }, annotations: { readOnlyHint: true } }];
http.createServer((q, r) => {
	let b = ""; q.on("data", (d) => { b += d; });
	q.on("end", () => {
		let m; try { m = JSON.parse(b); } catch { r.writeHead(400).end(); return; }
		if (m.id === undefined) { r.writeHead(202).end(); return; }
		const result = m.method === "tools/list" ? { tools } : { content: [{ type: "text", text: "ok" }] };
		r.writeHead(200, { "Content-Type": "application/json" });
		r.end(JSON.stringify({ jsonrpc: "2.0", id: m.id, result }));
	});
}).listen(${upPort}, "127.0.0.1");
`], { stdio: "inherit" });
children.push(upstream);
await waitPort(upPort);

// ---- nginx, its own prefix ------------------------------------------------------
const ngPort = await freePort(), ngLogPort = await freePort(), ngClosePort = await freePort();
const ngDir = path.join(work, "nginx");
fs.mkdirSync(path.join(ngDir, "logs"), { recursive: true });
fs.writeFileSync(path.join(ngDir, "nginx.conf"), `
worker_processes 1;
daemon off;
pid ${ngDir}/nginx.pid;
error_log ${ngDir}/logs/error.log warn;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path ${ngDir}/body;
	proxy_temp_path ${ngDir}/proxy;
	fastcgi_temp_path ${ngDir}/fastcgi;
	uwsgi_temp_path ${ngDir}/uwsgi;
	scgi_temp_path ${ngDir}/scgi;
	keepalive_requests 1000000;
	upstream up { server 127.0.0.1:${upPort}; keepalive 16; }
	server {
		listen 127.0.0.1:${ngClosePort};
		location / { proxy_pass http://127.0.0.1:${upPort}; proxy_buffering off; }
	}
	server {
		listen 127.0.0.1:${ngPort};
		location / {
			proxy_pass http://up;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_buffering off;
		}
	}
	server {
		listen 127.0.0.1:${ngLogPort};
		access_log ${ngDir}/logs/access.log;
		location / {
			proxy_pass http://up;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_buffering off;
		}
	}
}
`);
const nginxBin = ["/usr/sbin/nginx", "nginx"].find((b) => b.includes("/") ? fs.existsSync(b) : true);
const nginx = spawn(nginxBin, ["-p", ngDir, "-c", path.join(ngDir, "nginx.conf")], { stdio: "inherit" });
children.push(nginx);
await waitPort(ngPort);

// ---- two gateways: the development identity, and OAuth ---------------------------
const policy = path.join(work, "p.tg");
fs.writeFileSync(policy, `policy "bench" version "1";
role reader;
default deny;
allow anyone to list tools;
rule "ro": allow role reader to call any tool when tool.read_only;
`);
async function gateway(name, extra) {
	const port = await freePort();
	const conf = path.join(work, `${name}.yaml`);
	fs.writeFileSync(conf, `listen: 127.0.0.1:${port}
resource: http://127.0.0.1:8080
policy: p.tg
audit: ${name}.audit.jsonl
upstreams:
  - name: up
    path: /up/mcp
    url: http://127.0.0.1:${upPort}/mcp
limits:
  max_connections: ${IDLE + 64}
${extra}
`);
	const g = spawn(toolgate, ["gateway", "--config", conf], { stdio: ["ignore", "ignore", "inherit"] });
	children.push(g);
	await waitPort(port);
	return { port, pid: g.pid };
}
const ISS = "http://127.0.0.1:9100";
const gw = await gateway("plain", "identity:\n  principal: {id: alice, roles: [reader]}\n");
const au = await gateway("auth", `auth:
  issuer: ${ISS}
  jwks_file: ${path.join(src, "tests/gateway/keys/jwks.json")}
  require_at_jwt: true
`);
const token = execFileSync("node", [path.join(src, "tests/gateway/tokens.mjs"), "good", ISS,
	"http://127.0.0.1:8080/up/mcp"]).toString().trim();

// ---- the client --------------------------------------------------------------------
const targets = [
	{ name: "direct", port: upPort, path: "/mcp", headers: {} },
	{ name: "nginx", port: ngPort, path: "/mcp", headers: {} },
	{ name: "nginx-log", port: ngLogPort, path: "/mcp", headers: {} },
	{ name: "nginx-new", port: ngClosePort, path: "/mcp", headers: {} },
	{ name: "gateway", port: gw.port, path: "/up/mcp", headers: {}, pid: gw.pid },
	{ name: "auth", port: au.port, path: "/up/mcp", headers: { Authorization: `Bearer ${token}` }, pid: au.pid },
];
let id = 0;
function once(t, agent) {
	const body = JSON.stringify({ jsonrpc: "2.0", id: ++id, method: "tools/call", params: { name: "echo", arguments: {} } });
	return new Promise((resolve, reject) => {
		const t0 = process.hrtime.bigint();
		const q = http.request({ host: "127.0.0.1", port: t.port, path: t.path, method: "POST", agent,
			headers: { "Content-Type": "application/json", Accept: "application/json, text/event-stream",
				"Content-Length": Buffer.byteLength(body), ...t.headers } }, (r) => {
			let got = "";
			r.on("data", (d) => { got += d; });
			r.on("end", () => {
				if (r.statusCode !== 200 || !got.includes('"text":"ok"'))
					reject(new Error(`${t.name}: HTTP ${r.statusCode} ${got.slice(0, 200)}`));
				else resolve(Number(process.hrtime.bigint() - t0) / 1000);
			});
		});
		q.on("error", reject);
		q.end(body);
	});
}
function cpuTicks(pids) {
	let sum = 0;
	for (const p of pids) {
		const f = fs.readFileSync(`/proc/${p}/stat`, "utf8");
		const rest = f.slice(f.lastIndexOf(")") + 2).split(" ");
		sum += Number(rest[11]) + Number(rest[12]);	// utime, stime (fields 14, 15)
	}
	return sum;
}
function pidsOf(t) {
	if (t.name === "direct") return [upstream.pid];
	if (t.name.startsWith("nginx")) {
		const kids = execFileSync("sh", ["-c", `cat /proc/${nginx.pid}/task/*/children`]).toString().trim().split(/\s+/).filter(Boolean);
		return [nginx.pid, ...kids.map(Number)];
	}
	return [t.pid];
}
const rssKiB = (pids) => pids.reduce((s, p) => s + Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, "utf8"))[1]), 0);
const HZ = Number(execFileSync("getconf", ["CLK_TCK"]).toString()) || 100;

// wrk's script for a target: the same request as once(), and one line of
// results (microseconds) for this file to read.
function wrkScript(t) {
	const f = path.join(work, `${t.name}.lua`);
	const headers = { "Content-Type": "application/json", Accept: "application/json, text/event-stream", ...t.headers };
	fs.writeFileSync(f, `wrk.method = "POST"
wrk.body = ${JSON.stringify(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo", arguments: {} } }))}
${Object.entries(headers).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`).join("\n")}
done = function(s, l, r)
	local e = s.errors
	io.write(string.format("TGRESULT %d %d %d %d\\n", s.requests, l:percentile(50), l:percentile(99),
		e.connect + e.read + e.write + e.status + e.timeout))
end
`);
	return f;
}
function wrkRound(t) {
	const out = execFileSync("wrk", ["-t1", "-c1", "-d1s", "-s", t.lua, `http://127.0.0.1:${t.port}${t.path}`]).toString();
	const m = /TGRESULT (\d+) (\d+) (\d+) (\d+)/.exec(out);
	if (!m || Number(m[4]) !== 0)
		throw new Error(`${t.name}: wrk failed or saw errors: ${out}`);
	return { n: Number(m[1]), p50: Number(m[2]), p99: Number(m[3]) };
}

for (const t of targets) {
	t.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
	for (let i = 0; i < 50; i++) await once(t, t.agent);	// the answer is right; warm caches
	t.agent.destroy();
	t.lua = wrkScript(t);
	t.rounds = [];
	t.cpu = 0;
	t.n = 0;
}
const clientBin = path.join(path.dirname(toolgate), "tg-bench-client");
const clients = fs.existsSync(clientBin) ? [{ mode: "curl", ns: 0, n: 0 }, { mode: "socket", ns: 0, n: 0 }] : [];
for (let r = 0; r < ROUNDS; r++) {
	for (const t of targets) {
		const pids = t.name === "direct" ? [] : pidsOf(t);
		const c0 = cpuTicks(pids);
		const w = wrkRound(t);
		t.cpu += cpuTicks(pids) - c0;
		t.n += w.n;
		t.rounds.push(w);
	}
	for (const c of clients) {
		const out = execFileSync(clientBin, [String(upPort), "/mcp", c.mode, "1"]).toString();
		const m = /CLIENTCOST (\d+) (\d+)/.exec(out);
		c.n += Number(m[1]);
		c.ns += Number(m[2]);
	}
}

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const fmt = (x) => x.toFixed(0).padStart(6);
const direct = targets[0];
const d50 = median(direct.rounds.map((w) => w.p50)), d99 = median(direct.rounds.map((w) => w.p99));
console.log(`wrk -t1 -c1, ${ROUNDS} rounds of 1 s per target, interleaved; ${os.cpus().length} CPUs, load ${os.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
console.log("target     p50 us  p99 us  added p50  added p99  CPU us/request  requests");
for (const t of targets) {
	const p50 = median(t.rounds.map((w) => w.p50)), p99 = median(t.rounds.map((w) => w.p99));
	t.add50 = p50 - d50;
	t.add99 = p99 - d99;
	t.cpuPer = t.cpu / HZ / t.n * 1e6;
	const cpu = t.name === "direct" ? "" : t.cpuPer.toFixed(1);
	console.log(`${t.name.padEnd(9)} ${fmt(p50)}  ${fmt(p99)}  ${t === direct ? "         " : fmt(t.add50) + "   "}  ${t === direct ? "         " : fmt(t.add99) + "   "} ${cpu.padStart(14)}  ${String(t.n).padStart(8)}`);
}
const [, ng, nl, , g, a] = targets;
console.log(`gateway vs nginx, added latency: p50 ${(g.add50 / ng.add50).toFixed(2)}x, p99 ${(g.add99 / ng.add99).toFixed(2)}x; CPU per request ${(g.cpuPer / ng.cpuPer).toFixed(2)}x (goal: within 1.5x)`);
console.log(`gateway vs nginx-log: added p50 ${(g.add50 / nl.add50).toFixed(2)}x; CPU per request ${(g.cpuPer / nl.cpuPer).toFixed(2)}x`);
if (clients.length) {
	const [cu, so] = clients.map((c) => c.ns / c.n / 1000);
	console.log(`client side alone (tg-bench-client, its own CPU per request): libcurl ${cu.toFixed(1)} us, plain socket ${so.toFixed(1)} us; libcurl's own work ${(cu - so).toFixed(1)} us a request, ${((cu - so) / ng.cpuPer).toFixed(2)}x nginx's whole CPU per request`);
}
console.log(`auth vs gateway without auth: p50 +${(a.add50 - g.add50).toFixed(0)} us, p99 +${(a.add99 - g.add99).toFixed(0)} us, CPU +${(a.cpuPer - g.cpuPer).toFixed(1)} us/request`);

// ---- memory per idle keep-alive connection -------------------------------------------
async function idleCost(t) {
	const pids = pidsOf(t);
	const before = rssKiB(pids);
	const socks = [];
	for (let i = 0; i < IDLE; i++) {
		const s = net.connect(t.port, "127.0.0.1");
		await new Promise((resolve, reject) => {
			let got = "";
			s.on("error", reject);
			s.on("data", (d) => { got += d; if (got.includes("\r\n\r\n")) resolve(); });
			s.write(`GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`);
		});
		socks.push(s);
	}
	await new Promise((r) => setTimeout(r, 300));
	const after = rssKiB(pids);
	for (const s of socks) s.destroy();
	return (after - before) * 1024 / IDLE;
}
for (const t of [ng, g]) {
	const b = await idleCost(t);
	console.log(`${t.name}: ${(b / 1024).toFixed(1)} KiB RSS per idle keep-alive connection (${IDLE} connections)`);
}
process.exit(0);
