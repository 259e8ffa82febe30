// harness.mjs - what the gateway's node-driven tests share (not a test):
// counted checks, children killed at exit, a free loopback port, polling, a
// gateway started.
import { spawn } from "node:child_process";
import net from "node:net";

let failures = 0;

/** Prints one check; a failed one is counted for exitCode(). */
export function check(ok, what, detail) {
	console.log(`${ok ? "ok  " : "FAIL"} ${what}${ok || detail === undefined ? "" : ": " + JSON.stringify(detail)}`);
	if (!ok) failures++;
}

export const failed = () => failures;

/** Child processes to kill when the test exits, however it exits. */
export const children = [];
// SIGKILL, or the child's own exitSignal: nginx's master must be asked
// (SIGTERM), as its workers outlive a killed master.
process.on("exit", () => children.forEach((c) => { try { c.kill(c.exitSignal || "SIGKILL"); } catch {} }));

export function freePort() {
	return new Promise((resolve) => {
		const s = net.createServer().listen(0, "127.0.0.1", () => {
			const p = s.address().port;
			s.close(() => resolve(p));
		});
	});
}

/** Polls pred every 100 ms until it holds (true) or ms pass (false). */
export async function waitFor(pred, ms = 15000) {
	const end = Date.now() + ms;
	while (Date.now() < end) {
		if (await pred()) return true;
		await new Promise((r) => setTimeout(r, 100));
	}
	return false;
}

/** Runs `toolgate gateway --config conf` as a child killed at exit and checks
 * that it comes to listen; {proc, stderr()} (its standard error so far). */
export async function startGateway(toolgate, conf, name) {
	const proc = spawn(toolgate, ["gateway", "--config", conf], { stdio: ["ignore", "ignore", "pipe"] });
	children.push(proc);
	let err = "";
	proc.stderr.on("data", (d) => { err += d; });
	check(await waitFor(() => err.includes("listening on")), `gateway ${name} started`, err);
	return { proc, stderr: () => err };
}

/** The SSE events of a fetch response, [{id, msg}], read until enough(events)
 * holds, the stream ends or ms pass; the stream is then cancelled. */
export async function sseEvents(res, enough, ms = 10000) {
	const out = [], reader = res.body.getReader(), dec = new TextDecoder();
	const end = Date.now() + ms;
	let buf = "";
	while (!enough(out) && Date.now() < end) {
		const r = await Promise.race([reader.read(),
			new Promise((ok) => setTimeout(() => ok({ done: true }), end - Date.now()))]);
		if (r.done) break;
		buf += dec.decode(r.value, { stream: true });
		for (let i; (i = buf.indexOf("\n\n")) >= 0; buf = buf.slice(i + 2)) {
			const ev = {};
			for (const line of buf.slice(0, i).split("\n")) {
				if (line.startsWith("id:")) ev.id = line.slice(3).trim();
				if (line.startsWith("data:")) ev.msg = JSON.parse(line.slice(5));
			}
			out.push(ev);
		}
	}
	reader.cancel().catch(() => {});
	return out;
}
