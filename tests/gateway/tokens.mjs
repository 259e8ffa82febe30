// tokens.mjs - access tokens, good and hostile, for tests/cli/gateway_oauth.sh.
// node's crypto only (no npm packages); keys from tests/gateway/keys/private.json
// (test keys, published on purpose: they protect nothing).
//
//   node tokens.mjs KIND ISSUER AUDIENCE [SCOPE]
//
// prints one token. KIND is one of the cases below; every hostile kind must
// be refused with 401 by the gateway.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const keys = JSON.parse(fs.readFileSync(path.join(here, "keys/private.json"))).keys;
const byKid = (k) => keys.find((x) => x.kid === k);
const [kind, iss, aud, scope = "tools:read"] = process.argv.slice(2);
const now = Math.floor(Date.now() / 1000);
const b64 = (x) => Buffer.from(typeof x === "string" ? x : JSON.stringify(x)).toString("base64url");

function sign(header, claims, kid = header.kid) {
	const input = `${typeof header === "string" ? header : b64(header)}.${typeof claims === "string" ? claims : b64(claims)}`;
	const key = crypto.createPrivateKey({ key: byKid(kid), format: "jwk" });
	const alg = typeof header === "string" ? "RS256" : header.alg;
	let sig;
	if (alg === "PS256")
		sig = crypto.sign("sha256", Buffer.from(input), { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
	else if (alg === "ES256")
		sig = crypto.sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
	else
		sig = crypto.sign("sha256", Buffer.from(input), key);
	return `${input}.${sig.toString("base64url")}`;
}

const base = { iss, aud, sub: "alice", client_id: "cli-1", scope, groups: ["reader"], iat: now, exp: now + 300, jti: `j-${crypto.randomUUID()}` };
const rs = { alg: "RS256", kid: "rsa-1", typ: "at+jwt" };
const pub = { ...byKid("rsa-1") };
for (const f of ["d", "p", "q", "dp", "dq", "qi"]) delete pub[f];

const kinds = {
	good: () => sign(rs, base),
	"good-ps": () => sign({ ...rs, alg: "PS256" }, base),
	"good-es": () => sign({ alg: "ES256", kid: "ec-1", typ: "at+jwt" }, base),
	"good-act": () => sign(rs, { ...base, act: { sub: "agent-7", act: { sub: "orchestrator" } } }),
	expired: () => sign(rs, { ...base, iat: now - 7200, exp: now - 3600 }),
	"not-yet": () => sign(rs, { ...base, nbf: now + 3600 }),
	"no-exp": () => { const c = { ...base }; delete c.exp; return sign(rs, c); },
	"wrong-iss": () => sign(rs, { ...base, iss: "http://127.0.0.1:1/evil" }),
	"wrong-aud": () => sign(rs, { ...base, aud: "http://127.0.0.1:8080/other/mcp" }),
	"base-aud": () => sign(rs, { ...base, aud: "http://127.0.0.1:8080" }),
	"alg-none": () => `${b64({ alg: "none", typ: "at+jwt" })}.${b64(base)}.`,
	"alg-none-sig": () => `${b64({ alg: "none", typ: "at+jwt" })}.${b64(base)}.AAAA`,
	// RS-to-HS confusion: HMAC keyed with the issuer's public key (JWK and PEM forms).
	"hs-confusion": () => {
		const input = `${b64({ alg: "HS256", kid: "rsa-1", typ: "at+jwt" })}.${b64(base)}`;
		const pem = crypto.createPublicKey({ key: pub, format: "jwk" }).export({ type: "spki", format: "pem" });
		return `${input}.${crypto.createHmac("sha256", pem).update(input).digest("base64url")}`;
	},
	"unknown-kid": () => sign({ ...rs, kid: "rotated-9" }, base, "rsa-1"),
	"other-key": () => sign({ ...rs, kid: "rsa-1" }, base, "other-1"),
	altered: () => { const [h, , s] = sign(rs, base).split("."); return `${h}.${b64({ ...base, sub: "root", groups: ["admin"] })}.${s}`; },
	"jwk-header": () => { const o = byKid("other-1"); const p = { ...o }; for (const f of ["d", "p", "q", "dp", "dq", "qi"]) delete p[f]; return sign({ ...rs, kid: undefined, jwk: p }, base, "other-1"); },
	"jku-header": () => sign({ ...rs, jku: "http://127.0.0.1:1/jwks.json" }, base),
	"x5u-header": () => sign({ ...rs, x5u: "http://127.0.0.1:1/cert.pem" }, base),
	stripped: () => { const [h, c] = sign(rs, base).split("."); return `${h}.${c}.`; },
	"stripped-dot": () => { const [h, c] = sign(rs, base).split("."); return `${h}.${c}`; },
	huge: () => sign(rs, { ...base, pad: "x".repeat(1024 * 1024) }),
	big: () => sign(rs, { ...base, pad: "x".repeat(9000) }),
	nested: () => { let v = "deep"; for (let i = 0; i < 50; i++) v = { v }; return sign(rs, { ...base, deep: v }); },
	"dup-claims": () => sign(rs, b64(`${JSON.stringify(base).slice(0, -1)},"sub":"root"}`)),
	"wrong-typ": () => sign({ ...rs, typ: "JWT" }, base),
	"es-with-rsa-kid": () => sign({ alg: "ES256", kid: "rsa-1", typ: "at+jwt" }, base, "ec-1"),
};
if (!kinds[kind]) { console.error(`unknown kind ${kind}`); process.exit(2); }
process.stdout.write(kinds[kind]());
