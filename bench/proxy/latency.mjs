// latency.mjs - what `toolgate proxy` adds to an MCP call: the same SDK
// client runs N sequential tools/call of server-everything's echo, once
// straight to the server and once through the proxy, and reports the
// per-call latency of each and the difference. The proxy runs with --stats,
// so its own CPU time (getrusage) and the CPU time spent deciding are read
// from its stderr. Run through bench/proxy/run.sh.
//
//   node latency.mjs TOOLGATE POLICY.tgb [CALLS]
import path from "node:path";
import { fileURLToPath } from "node:url";

const [toolgate, policy, callsArg] = process.argv.slice(2);
const calls = Number(callsArg ?? 1000);
const here = path.dirname(fileURLToPath(import.meta.url));
const mods = path.resolve(here, "../../tests/proxy/node_modules/@modelcontextprotocol");
const { Client } = await import(path.join(mods, "sdk/dist/esm/client/index.js"));
const { StdioClientTransport } = await import(path.join(mods, "sdk/dist/esm/client/stdio.js"));
const everything = path.join(mods, "server-everything/dist/index.js");

async function measure(command, args) {
	const transport = new StdioClientTransport({ command, args, stderr: "pipe" });
	let stderr = "";
	transport.stderr?.on("data", (d) => { stderr += d; });
	const client = new Client({ name: "bench", version: "1.0.0" });
	await client.connect(transport);
	await client.listTools();
	for (let i = 0; i < 100; i++)	// warm-up: JIT, caches
		await client.callTool({ name: "echo", arguments: { message: "warm" } });
	const times = [];
	for (let i = 0; i < calls; i++) {
		const t = process.hrtime.bigint();
		const r = await client.callTool({ name: "echo", arguments: { message: `m${i}` } });
		times.push(Number(process.hrtime.bigint() - t) / 1000);
		if (r.content?.[0]?.text !== `Echo: m${i}`)
			throw new Error(`bad answer ${JSON.stringify(r)}`);
	}
	await client.close();
	await new Promise((r) => setTimeout(r, 200));
	times.sort((a, b) => a - b);
	const mean = times.reduce((a, b) => a + b, 0) / times.length;
	return { mean, p50: times[times.length >> 1], p99: times[Math.floor(times.length * 0.99)], stderr };
}

const fmt = (r) => `mean ${r.mean.toFixed(1)} us, p50 ${r.p50.toFixed(1)} us, p99 ${r.p99.toFixed(1)} us`;
// Alternate to even out drift on a shared machine.
const direct = [], proxied = [];
for (let round = 0; round < 3; round++) {
	direct.push(await measure("node", [everything, "stdio"]));
	proxied.push(await measure(toolgate, ["proxy", "--policy", policy, "--principal", "bench",
		"--role", "reader", "--audit", "/dev/null", "--stats", "--", "node", everything, "stdio"]));
}
const best = (rs) => rs.reduce((a, b) => (a.p50 <= b.p50 ? a : b));
const d = best(direct), p = best(proxied);
console.log(`${calls} sequential tools/call echo, best of 3 rounds`);
console.log(`direct:  ${fmt(d)}`);
console.log(`proxied: ${fmt(p)}`);
console.log(`added:   mean ${(p.mean - d.mean).toFixed(1)} us, p50 ${(p.p50 - d.p50).toFixed(1)} us`);
const stats = p.stderr.match(/stats: .*/);
console.log(`proxy:   ${stats ? stats[0] : "(no stats line)"}`);
const m = p.stderr.match(/(\d+) allowed.*cpu ([\d.]+) s in all/);
if (m)
	console.log(`proxy CPU per forwarded call (all work: relay, parse, decide, audit): ` +
		`${(Number(m[2]) * 1e6 / (calls + 101 + 2)).toFixed(1)} us`);
