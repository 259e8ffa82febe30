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
import { check, children, failed, freePort, startGateway, waitFor } from "./harness.mjs";

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

// ---- the gateways' ports, so the resource URIs are known up front -------------------
// The second gateway takes opaque tokens, asking oidc-provider about each
// (RFC 7662 introspection) as its own client.
const gwPort = await freePort();
const gw2Port = await freePort();
const RES2 = `http://127.0.0.1:${gw2Port}`;
const AUD2 = `${RES2}/rec/mcp`;
const GWCLIENT = { id: "toolgate-gateway", secret: crypto.randomBytes(24).toString("base64url") };
const ELSEWHERE = "http://127.0.0.1:1/other/mcp";	// a resource no gateway serves
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
	}, {
		client_id: GWCLIENT.id, client_secret: GWCLIENT.secret, grant_types: [],
		redirect_uris: [], response_types: [], token_endpoint_auth_method: "client_secret_basic",
	}],
	jwks: { keys: [signingKey] },
	scopes: SCOPES.split(" "),
	features: {
		devInteractions: { enabled: false },
		clientCredentials: { enabled: true },
		introspection: { enabled: true },
		revocation: { enabled: true },
		resourceIndicators: {
			enabled: true,
			defaultResource: () => undefined,
			// The two gateway upstreams are the resource servers here: the
			// first's tokens are JWTs, the second's opaque.
			getResourceServerInfo: (ctx, resource) => {
				if (resource === AUD2 || resource === ELSEWHERE)
					return { scope: SCOPES, audience: resource, accessTokenTTL: 300, accessTokenFormat: "opaque" };
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
const introspections = [];
asServer.on("request", (req) => { if (req.url === "/token/introspection") introspections.push(req.headers.authorization ?? null); });
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
/* A gateway at port with this audit file and auth section, in front of
 * the recording upstream at /rec/mcp; resolves once it listens. */
async function oauthGateway(name, port, auth) {
	fs.writeFileSync(path.join(work, `${name}.yaml`), `
listen: 127.0.0.1:${port}
resource: http://127.0.0.1:${port}
policy: policy.tg
audit: ${name}.audit.jsonl
upstreams:
  - name: rec
    path: /rec/mcp
    url: http://127.0.0.1:${fs.readFileSync(recPort, "utf8").trim()}/mcp
auth:
  issuer: ${ISS}
  scopes: [${SCOPES.split(" ").join(", ")}]
${auth}`);
	return (await startGateway(toolgate, path.join(work, `${name}.yaml`), name)).proc;
}
const gw = await oauthGateway("gw", gwPort, `  jwks_uri: ${ISS}/jwks
  require_at_jwt: true
  step_up:
    secret-needs-write: [files:write]
`);

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
async function connect(provider, onResponse, url = AUD) {
	const http = [];
	const transport = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider, fetch: recordingFetch(http, onResponse) });
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

// ---- 3. opaque tokens, introspected --------------------------------------------------
fs.writeFileSync(path.join(work, "gw-client-secret"), GWCLIENT.secret + "\n", { mode: 0o600 });
const gw2 = await oauthGateway("gw2", gw2Port, `  introspection_endpoint: ${ISS}/token/introspection
  introspection_client_id: ${GWCLIENT.id}
  introspection_client_secret_file: gw-client-secret
  introspection_cache_s: 2
  claims: {principal.id: client_id}
`);
{
	const provider = new ClientCredentialsProvider({ clientId: CLIENT.id, clientSecret: CLIENT.secret, expectedIssuer: ISS, scope: "tools:read" });
	const { client, http } = await connect(provider, undefined, AUD2);
	const tok = provider.tokens()?.access_token ?? "";
	check(tok.length > 20 && !tok.includes("."), "oidc-provider issues an opaque token for the second upstream", tok.length);
	const asked = introspections.length;
	const basic = `Basic ${Buffer.from(`${GWCLIENT.id}:${GWCLIENT.secret}`).toString("base64")}`;
	check(asked >= 1 && introspections.every((h) => h === basic),
		"the gateway introspects it at oidc-provider, as its own client (HTTP Basic)", introspections);
	const echo = await call(client, "echo");
	const hang = await call(client, "hang");
	check(echo.result?.content?.[0]?.text === "ok" && hang.result?._meta?.["toolgate/denial"]?.rule === "no-hang",
		"the introspected identity is decided by the policy: echo allowed, hang denied", { echo, hang });
	check(introspections.length === asked, "within introspection_cache_s the answer is remembered (no new introspection)",
		introspections.length - asked);

	// Revoked at the authorization server: refused once the remembered
	// answer is older than introspection_cache_s; the SDK then gets a new token.
	const rv = await fetch(`${ISS}/token/revocation`, { method: "POST",
		headers: { "Content-Type": "application/x-www-form-urlencoded",
			Authorization: `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString("base64")}` },
		body: new URLSearchParams({ token: tok, token_type_hint: "access_token" }) });
	check(rv.status === 200, "the token is revoked at oidc-provider", rv.status);
	await new Promise((r) => setTimeout(r, 2500));
	const before = http.length;
	const again = await call(client, "echo");
	const refused = http.slice(before).find((x) => x.status === 401);
	check(refused?.bearer === tok && refused.www?.includes('error="invalid_token"') &&
		refused.www.includes("not active") && again.result?.content?.[0]?.text === "ok" && provider.tokens()?.access_token !== tok,
		"after introspection_cache_s a revoked token is refused (invalid_token, not active), and the SDK's new one is served",
		{ refused, again });

	// A token for another resource, and a token the server never issued.
	const raw = (token) => fetch(AUD2, { method: "POST", headers: { Authorization: `Bearer ${token}`,
		"Content-Type": "application/json", Accept: "application/json, text/event-stream" },
		body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }) });
	const grant = await fetch(`${ISS}/token`, { method: "POST",
		headers: { "Content-Type": "application/x-www-form-urlencoded",
			Authorization: `Basic ${Buffer.from(`${CLIENT.id}:${CLIENT.secret}`).toString("base64")}` },
		body: new URLSearchParams({ grant_type: "client_credentials", scope: "tools:read", resource: ELSEWHERE }) });
	const foreign = await raw((await grant.json()).access_token);
	check(foreign.status === 401 && /audience does not include/.test(foreign.headers.get("www-authenticate") ?? ""),
		"an active token for another resource is refused (the aud of the introspection answer)", foreign.headers.get("www-authenticate"));
	// Without a key set every token is introspected, JWTs too; oidc-provider
	// will not introspect its JWTs (400), so the first upstream's is refused.
	const jwt = new ClientCredentialsProvider({ clientId: CLIENT.id, clientSecret: CLIENT.secret, expectedIssuer: ISS, scope: "tools:read" });
	const j = await connect(jwt);
	const viaJwt = await raw(jwt.tokens().access_token);
	check(viaJwt.status === 401 && /introspection endpoint answered HTTP 400/.test(viaJwt.headers.get("www-authenticate") ?? ""),
		"a JWT at the introspecting gateway is introspected, and refused when the server will not say it is active",
		viaJwt.headers.get("www-authenticate"));
	await j.client.close();
	const made = await raw(crypto.randomBytes(32).toString("base64url"));
	check(made.status === 401 && /not active/.test(made.headers.get("www-authenticate") ?? ""),
		"a token the server never issued is refused (not active)", made.headers.get("www-authenticate"));
	await client.close();
	const audit2 = fs.readFileSync(path.join(work, "gw2.audit.jsonl"), "utf8");
	check(new RegExp(`"auth":\\{"client_id":"${CLIENT.id}","iss":"${ISS}","token_sha256":"[0-9a-f]{64}"\\}`).test(audit2) &&
		!audit2.includes(tok), "the audit names the issuer and client, and a digest of the token, never the token", audit2.split("\n")[0]);
}
gw2.kill("SIGTERM");
check(await waitFor(() => gw2.exitCode !== null, 12000) && gw2.exitCode === 0, "SIGTERM stops the introspecting gateway cleanly", gw2.exitCode);

const audit = fs.readFileSync(path.join(work, "gw.audit.jsonl"), "utf8");
check(new RegExp(`"auth":\\{"client_id":"${CLIENT.id}","iss":"${ISS}","jti":"[^"]+"\\}`).test(audit),
	"the audit names the issuer, client and jti", audit.split("\n")[0]);
check(!audit.includes(".ey") && !/Bearer/.test(audit), "the audit never holds a token");

gw.kill("SIGTERM");
check(await waitFor(() => gw.exitCode !== null, 12000) && gw.exitCode === 0, "SIGTERM stops the gateway cleanly", gw.exitCode);
asServer.close();
rec.kill("SIGTERM");
process.exit(failed() ? 1 : 0);
