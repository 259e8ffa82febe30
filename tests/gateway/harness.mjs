// harness.mjs - what the gateway's node-driven tests share (not a test):
// counted checks, children killed at exit, a free loopback port, polling.
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
