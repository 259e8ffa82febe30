// oidc_e2e.mjs - `toolgate gateway` as an OAuth resource server in front of a
// real authorization server: oidc-provider (resource indicators, JWT access
// tokens whose aud is the upstream's resource URI, the client-credentials
// grant) on loopback; the TypeScript SDK's StreamableHTTPClientTransport with
// its ClientCredentialsProvider in front; the recording upstream
// (recorder.mjs) behind. Run by tests/cli/gateway_oidc_e2e.sh:
//
//   node oidc_e2e.mjs TOOLGATE WORKDIR
//
// Prints one line per check (and what the SDK asked the authorization server
// for) and exits 1 when any failed.
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Provider, { errors } from "oidc-provider";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ClientCredentialsProvider } from "@modelcontextprotocol/sdk/client/auth-extensions.js";
import { check, children, failed, freePort, waitFor } from "./harness.mjs";

const [toolgate, work] = process.argv.slice(2);
const here = path.dirname(fileURLToPath(import.meta.url));
const DENIED = -32003;


const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url"));
const headerOf = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[0], "base64url"));

// ---- the recording upstream ----------------------------------------------------
const recLog = path.join(work, "rec.log");
const recPort = path.join(work, "rec.port");
const rec = spawn("node", [path.join(here, "recorder.mjs"), recLog, recPort], { stdio: "ignore" });
children.push(rec);
check(await waitFor(() => fs.existsSync(recPort) && fs.readFileSync(recPort, "utf8").length > 0), "recording upstream started");
const upstreamCalls = () => (fs.existsSync(recLog) ? fs.readFileSync(recLog, "utf8") : "").split("\n").filter(Boolean)
	.map((l) => JSON.parse(l)).filter((r) => r.body).map((r) => ({ ...r, msg: JSON.parse(r.body) }));
const reached = (tool) => upstreamCalls().some((r) => r.msg.method === "tools/call" && r.msg.params?.name === tool);

// ---- the gateway's ports, so the resource URI is known up front -------------------
const gwPort = await freePort();
const asPort = await freePort();
const ISS = `http://127.0.0.1:${asPort}`;
const RES = `http://127.0.0.1:${gwPort}`;
const AUD = `${RES}/rec/mcp`;
const SCOPES = "tools:read files:write";

// ---- oidc-provider: the authorization server ------------------------------------------
const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: "jwk" }), kid: "oidc-e2e-1", alg: "RS256", use: "sig" };
const CLIENT = { id: "mcp-agent", secret: crypto.randomBytes(24).toString("base64url") };
const oidc = new Provider(ISS, {
	clients: [{
		client_id: CLIENT.id, client_secret: CLIENT.secret, grant_types: ["client_credentials"],
		redirect_uris: [], response_types: [], token_endpoint_auth_method: "client_secret_basic", scope: SCOPES,
	}],
	jwks: { keys: [signingKey] },
	scopes: SCOPES.split(" "),
	features: {
		devInteractions: { enabled: false },
		clientCredentials: { enabled: true },
		resourceIndicators: {
			enabled: true,
			defaultResource: () => undefined,
			// Only the gateway upstream is a resource server here; its tokens are JWTs.
			getResourceServerInfo: (ctx, resource) => {
				if (resource !== AUD) throw new errors.InvalidTarget(`unknown resource ${resource}`);
				return { scope: SCOPES, audience: AUD, accessTokenTTL: 300, accessTokenFormat: "jwt", jwt: { sign: { alg: "RS256" } } };
			},
		},
	},
});
// What the SDK asks for at the token endpoint, and what it gets.
const grants = [];
oidc.on("grant.success", (ctx) => grants.push({ asked: ctx.oidc.params.scope ?? null, resource: ctx.oidc.params.resource ?? null, granted: ctx.body?.scope ?? null }));
oidc.on("grant.error", (ctx, err) => grants.push({ error: err.message, asked: ctx.oidc.params?.scope ?? null }));
oidc.on("server_error", (ctx, err) => console.error("oidc-provider:", err));
const asServer = oidc.listen(asPort, "127.0.0.1");
await new Promise((r) => asServer.once("listening", r));

// ---- the gateway ---------------------------------------------------------------------
fs.writeFileSync(path.join(work, "policy.tg"), `
policy "oidc-e2e" version "1";
default deny;
allow anyone to list tools;
rule "ro": allow anyone to call any tool when tool.read_only and token.scopes contains "tools:read";
rule "no-hang": deny anyone to call tool "hang" because "hang is never allowed";
rule "secret-needs-write":
  deny anyone to call tool "secret" unless token.scopes contains "files:write"
  because "writing needs files:write";
rule "secret": allow anyone to call tool "secret";
`);
fs.writeFileSync(path.join(work, "gw.yaml"), `
listen: 127.0.0.1:${gwPort}
resource: ${RES}
policy: policy.tg
audit: audit.jsonl
upstreams:
  - name: rec
    path: /rec/mcp
    url: http://127.0.0.1:${fs.readFileSync(recPort, "utf8").trim()}/mcp
auth:
  issuer: ${ISS}
  jwks_uri: ${ISS}/jwks
  scopes: [${SCOPES.split(" ").join(", ")}]
  require_at_jwt: true
  step_up:
    secret-needs-write: [files:write]
`);
const gw = spawn(toolgate, ["gateway", "--config", path.join(work, "gw.yaml")], { stdio: ["ignore", "ignore", "pipe"] });
children.push(gw);
let gwErr = "";
gw.stderr.on("data", (d) => { gwErr += d; });
check(await waitFor(() => gwErr.includes("listening")), "gateway started", gwErr);

// A client that records every HTTP exchange the transport makes.
function recordingFetch(log, onResponse) {
	return async (url, init) => {
		const r = await fetch(url, init);
		const h = new Headers(init?.headers);
		log.push({ url: String(url), method: init?.method ?? "GET", status: r.status,
			bearer: (h.get("authorization") ?? "").replace(/^Bearer /, "") || null, www: r.headers.get("www-authenticate") });
		onResponse?.(r);
		return r;
	};
}
async function connect(provider, onResponse) {
	const http = [];
	const transport = new StreamableHTTPClientTransport(new URL(AUD), { authProvider: provider, fetch: recordingFetch(http, onResponse) });
	const client = new Client({ name: "toolgate-oidc-e2e", version: "1.0.0" });
	await client.connect(transport);
	return { client, transport, http };
}
async function call(client, name) {
	try {
		return { result: await client.callTool({ name, arguments: {} }) };
	} catch (e) {
		return { code: e.code, message: e.message };
	}
}

// ---- 1. the SDK's own ClientCredentialsProvider, as shipped -------------------------
{
	const provider = new ClientCredentialsProvider({ clientId: CLIENT.id, clientSecret: CLIENT.secret, expectedIssuer: ISS, scope: "tools:read" });
	const { client, transport, http } = await connect(provider);
	const first = http.find((x) => x.method === "POST");
	check(first?.status === 401 && !first.bearer && first.www?.includes(`resource_metadata="${RES}/.well-known/oauth-protected-resource/rec/mcp"`),
		"the first request has no token and gets 401 with resource_metadata", first);
	check(http.some((x) => x.url === `${RES}/.well-known/oauth-protected-resource/rec/mcp` && x.status === 200),
		"the SDK reads the gateway's protected-resource metadata", http.map((x) => `${x.method} ${x.url} ${x.status}`));
	check(grants.length === 1 && grants[0].resource === AUD && grants[0].asked === "tools:read" && grants[0].granted === "tools:read",
		"it gets a client-credentials token from oidc-provider for the upstream's resource URI", grants);
	const tok = provider.tokens()?.access_token ?? "";
	const c = claimsOf(tok);
	check(headerOf(tok).typ === "at+jwt" && c.iss === ISS && c.aud === AUD && c.client_id === CLIENT.id && c.scope === "tools:read",
		"the token is an RFC 9068 JWT: iss is oidc-provider, aud the upstream resource", { header: headerOf(tok), claims: c });

	// (1) an allowed call returns the upstream's real result
	const echo = await call(client, "echo");
	check(echo.result?.content?.[0]?.text === "ok" && reached("echo"), "an allowed call returns the upstream's real result", echo);
	check(upstreamCalls().every((r) => !r.headers.authorization), "the token is never forwarded to the upstream");

	// (2) a denied call is answered by the gateway and never reaches the upstream
	const hang = await call(client, "hang");
	const d = hang.result?._meta?.["toolgate/denial"];
	check(hang.result?.isError && d?.code === DENIED && d?.rule === "no-hang" && !reached("hang"),
		"a denied call gets the denial (rule no-hang) and never reaches the upstream", hang);

	// (3) step-up: 403 insufficient_scope. The SDK re-runs auth() and retries
	// once, but ClientCredentialsProvider's token request asks for its own
	// configured scope (fetchToken uses clientMetadata.scope, not the
	// challenge's), so it gets the same narrow token, the same 403, and gives up.
	const before = grants.length;
	const secret = await call(client, "secret");
	const forbidden = http.filter((x) => x.status === 403);
	check(forbidden.length === 2 && forbidden.every((x) => x.www?.includes('error="insufficient_scope"') && x.www.includes(`scope="${SCOPES}"`)),
		"the step-up call gets 403 insufficient_scope with the wider scope (twice: before and after the SDK's re-auth)", forbidden);
	const again = grants.slice(before);
	console.log(`     SDK as shipped, after the 403: ${JSON.stringify(again)}; call: ${JSON.stringify(secret.message ?? secret.result)}`);
	check(again.length === 1 && again[0].asked === "tools:read" && /403 after trying upscoping/.test(secret.message ?? ""),
		"the SDK re-authorizes once, but with its configured scope, not the challenge's, and then fails", { again, secret });
	check(!reached("secret"), "the step-up denial never reached the upstream");
	await client.close();
}

// ---- 2. the same provider, told the challenge's scope ----------------------------------
// The test reads the challenge (the transport's fetch sees the 403) and
// widens the provider's scope; the SDK's own 403 handling then re-runs
// auth() with it, gets the wider token from oidc-provider, and retries.
{
	const provider = new ClientCredentialsProvider({ clientId: CLIENT.id, clientSecret: CLIENT.secret, expectedIssuer: ISS, scope: "tools:read" });
	const onResponse = (r) => {
		const www = r.headers.get("www-authenticate") ?? "";
		const m = /error="insufficient_scope"/.test(www) && /scope="([^"]*)"/.exec(www);
		if (m) provider.clientMetadata.scope = m[1];
	};
	const before = grants.length;
	const { client, http } = await connect(provider, onResponse);
	const secret = await call(client, "secret");
	const again = grants.slice(before);
	console.log(`     with the challenge's scope: ${JSON.stringify(again)}`);
	check(again.length === 2 && again[1].asked === SCOPES && again[1].granted === SCOPES,
		"after the 403 the SDK gets a token with the challenge's scope", again);
	const last = http.filter((x) => x.method === "POST" && x.status === 200).pop();
	check(secret.result?.content?.[0]?.text === "ok" && reached("secret") && claimsOf(last.bearer).scope === SCOPES,
		"and retries: the step-up call reaches the upstream with the wider token", { secret, last });
	await client.close();
}

const audit = fs.readFileSync(path.join(work, "audit.jsonl"), "utf8");
check(new RegExp(`"auth":\\{"client_id":"${CLIENT.id}","iss":"${ISS}","jti":"[^"]+"\\}`).test(audit),
	"the audit names the issuer, client and jti", audit.split("\n")[0]);
check(!audit.includes(".ey") && !/Bearer/.test(audit), "the audit never holds a token");

gw.kill("SIGTERM");
check(await waitFor(() => gw.exitCode !== null, 12000) && gw.exitCode === 0, "SIGTERM stops the gateway cleanly", gw.exitCode);
asServer.close();
rec.kill("SIGTERM");
process.exit(failed() ? 1 : 0);
