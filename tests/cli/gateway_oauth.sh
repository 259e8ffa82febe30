# gateway_oauth.sh - `toolgate gateway` as an OAuth resource server, over
# real HTTP, in front of the recording upstream (tests/gateway/recorder.mjs)
# with keys served by a small jwks_uri server: RFC 9728 metadata and 401
# challenges; a hostile-token corpus (tests/gateway/tokens.mjs) each answered
# 401 with nothing forwarded; good RS256, PS256 and ES256 tokens becoming
# the identity (claims, nested act, audit with jti and never the token);
# step-up to 403 insufficient_scope; a key rotation picked up on an unknown
# kid; the key server going down (cached keys keep working, new kids fail
# closed).
. "$(dirname "$0")/data/lib.sh"
. "$(dirname "$0")/data/gateway_lib.sh"

need node curl

G="$TG_SOURCE_DIR/tests/gateway"
node "$G/recorder.mjs" "$TMP/rec.log" "$TMP/rec.port" &
recpid=$!
# The issuer's key set, served from a file read on every request (so the
# test can rotate keys), with a short cache lifetime.
cp "$G/keys/jwks.json" "$TMP/jwks.json"
node -e '
const http = require("http"), fs = require("fs");
const [file, portfile] = process.argv.slice(1);
const s = http.createServer((q, r) => { r.writeHead(200, {"Content-Type": "application/json", "Cache-Control": "max-age=300"}); r.end(fs.readFileSync(file)); });
s.listen(0, "127.0.0.1", () => fs.writeFileSync(portfile, String(s.address().port)));
' "$TMP/jwks.json" "$TMP/jwks.port" &
jwkspid=$!
gwpid=
trap 'kill $recpid $jwkspid $gwpid 2>/dev/null; rm -rf "$TMP"' EXIT
i=0
while { [ ! -s "$TMP/rec.port" ] || [ ! -s "$TMP/jwks.port" ]; } && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
RPORT=$(cat "$TMP/rec.port")
JPORT=$(cat "$TMP/jwks.port")
: >"$TMP/rec.log"
ISS=http://127.0.0.1:9100
RES=http://127.0.0.1:8080
AUD=$RES/rec/mcp

cat >"$TMP/p.tg" <<'P'
policy "gw" version "1";
role reader;
default deny;
allow anyone to list tools;
rule "ro": allow role reader to call any tool when tool.read_only;
rule "secret-needs-write":
  deny anyone to call tool "secret" unless token.scopes contains "files:write"
  because "writing needs files:write";
rule "secret": allow role reader to call tool "secret";
rule "agents": deny anyone to call tool "echo" when token has act and token.act.sub == "evil";
P
cat >"$TMP/gw.yaml" <<Y
listen: 127.0.0.1:0
resource: $RES
policy: p.tg
audit: audit.jsonl
upstreams:
  - name: rec
    path: /rec/mcp
    url: http://127.0.0.1:$RPORT/mcp
  - name: other
    path: /other/mcp
    url: http://127.0.0.1:$RPORT/mcp
limits:
  response_timeout_ms: 1500
auth:
  issuer: $ISS
  jwks_uri: http://127.0.0.1:$JPORT/jwks.json
  scopes: [tools:read, files:write]
  require_at_jwt: true
  jwks_min_refresh_s: 1
  jwks_wait_ms: 1500
  headers: {tenant: X-Tenant}
  step_up:
    secret-needs-write: [files:write]
Y
run 0 gateway --config "$TMP/gw.yaml" --check
has "$TMP/err" 'configuration OK'
printf 'identity:\n  principal: {id: dev}\n' >>"$TMP/gw.yaml"
run 1 gateway --config "$TMP/gw.yaml" --check
has "$TMP/err" "'identity' (a fixed development identity) and 'auth' exclude each other"
sed -i '/^identity:/,$d' "$TMP/gw.yaml"

"$TOOLGATE" gateway --config "$TMP/gw.yaml" 2>"$TMP/gw.err" &
gwpid=$!
wait_listening "$TMP/gw.err" gateway
BASE="http://127.0.0.1:$PORT"
U="$BASE/rec/mcp"
call='{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{}}}'

tok() {
	node "$G/tokens.mjs" "$1" "$ISS" "${2:-$AUD}" "${3:-tools:read}"
}

# ---- discovery ------------------------------------------------------------------
req prm 200 "$BASE/.well-known/oauth-protected-resource/rec/mcp"
has "$TMP/prm.body" "\"resource\":\"$AUD\""
has "$TMP/prm.body" "\"authorization_servers\":\[\"$ISS\"\]"
has "$TMP/prm.body" '"scopes_supported":\["tools:read","files:write"\]'
has "$TMP/prm.body" '"bearer_methods_supported":\["header"\]'
req prm_base 200 "$BASE/.well-known/oauth-protected-resource"
has "$TMP/prm_base.body" "\"resource\":\"$RES\""
req prm_none 404 "$BASE/.well-known/oauth-protected-resource/nope/mcp"
req healthz 200 "$BASE/healthz"
req metrics 200 "$BASE/metrics"

# ---- no token, and the hostile corpus: 401, nothing forwarded ---------------------
req none 401 -H "$JSON" -d "$call" "$U"
has "$TMP/none.h" "WWW-Authenticate: Bearer scope=\"tools:read files:write\", resource_metadata=\"$RES/.well-known/oauth-protected-resource/rec/mcp\""
lacks "$TMP/none.h" 'error='
req basic 401 -H "$JSON" -H 'Authorization: Basic YTpi' -d "$call" "$U"
req garbage 401 -H "$JSON" -H 'Authorization: Bearer a b' -d "$call" "$U"
has "$TMP/garbage.h" 'error="invalid_token"'
good=$(tok good)
req query 401 -H "$JSON" -d "$call" "$U?access_token=$good"
for k in expired not-yet no-exp wrong-iss wrong-aud base-aud alg-none alg-none-sig hs-confusion \
	unknown-kid other-key altered jwk-header jku-header x5u-header stripped stripped-dot big \
	nested dup-claims wrong-typ es-with-rsa-kid; do
	req "bad_$k" 401 -H "$JSON" -H "Authorization: Bearer $(tok "$k")" -d "$call" "$U"
	has "$TMP/bad_$k.h" "WWW-Authenticate: Bearer error=\"invalid_token\".*resource_metadata=\"$RES/.well-known/oauth-protected-resource/rec/mcp\""
done
# A token for another upstream of the same gateway is refused there.
req other_resource 401 -H "$JSON" -H "Authorization: Bearer $(tok good "$RES/other/mcp")" -d "$call" "$U"
req other_ok 200 -H "$JSON" -H "Authorization: Bearer $(tok good "$RES/other/mcp")" -d "$call" "$BASE/other/mcp"
: >"$TMP/rec.log"
# A 1 MiB token does not fit the header limit: refused before anything else.
tok huge >"$TMP/huge"
# (curl will not send a header this large: a raw socket does.)
code=$(python3 - "$PORT" "$TMP/huge" <<'PY'
import socket, sys
tok = open(sys.argv[2]).read()
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
try:
    s.sendall(("POST /rec/mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               "Content-Length: 2\r\nAuthorization: Bearer " + tok + "\r\n\r\n{}").encode())
except OSError:
    pass
print(s.recv(64).decode(errors="replace").split(" ")[1])
PY
)
case $code in 401 | 431) ;; *) fail "huge token: HTTP $code, want 401 or 431" ;; esac
[ -s "$TMP/rec.log" ] && { fail "refused requests reached the upstream"; sed 's/^/    /' "$TMP/rec.log" >&2; }

# ---- good tokens become the identity ----------------------------------------------
for k in good good-ps good-es good-act; do
	req "ok_$k" 200 -H "$JSON" -H "$ACC" -H "Authorization: Bearer $(tok "$k")" -H 'X-Tenant: acme' -d "$call" "$U"
	has "$TMP/ok_$k.body" '"text":"ok"'
done
lacks "$TMP/rec.log" '"authorization"'
lacks "$TMP/rec.log" "$good"
has "$TMP/audit.jsonl" '"auth":{"client_id":"cli-1","iss":"http://127.0.0.1:9100","jti":"j-'
lacks "$TMP/audit.jsonl" 'eyJ'
# Roles come from groups: without reader, the read-only tool is denied.
req list 200 -H "$JSON" -H "$ACC" -H "Authorization: Bearer $good" -d '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' "$U"
has "$TMP/list.body" '"name":"echo"'

# ---- step-up ------------------------------------------------------------------------
secret='{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"secret","arguments":{}}}'
req stepup 403 -H "$JSON" -H "$ACC" -H "Authorization: Bearer $good" -d "$secret" "$U"
has "$TMP/stepup.h" "WWW-Authenticate: Bearer error=\"insufficient_scope\", scope=\"tools:read files:write\", resource_metadata=\"$RES/.well-known/oauth-protected-resource/rec/mcp\""
has "$TMP/stepup.body" '"rule":"secret-needs-write"'
req stepped 200 -H "$JSON" -H "$ACC" -H "Authorization: Bearer $(tok good "$AUD" 'tools:read files:write')" -d "$secret" "$U"
has "$TMP/stepped.body" '"text":"ok"'

# ---- a reload that changes auth: the running gateway keeps the one it enforces -----
# (the issuer and scopes it advertises are those its tokens are checked against)
sed -i "s|^  issuer: .*|  issuer: http://127.0.0.1:9999|; s|^  scopes: .*|  scopes: [other:scope]|" \
	"$TMP/gw.yaml"
kill -HUP "$gwpid"
wait_for "$TMP/gw.err" "reloaded configuration" || fail "auth reload: no reload"
has "$TMP/gw.err" 'identity, auth, audit, .* take effect at the next start'
req prm_reloaded 200 "$BASE/.well-known/oauth-protected-resource/rec/mcp"
has "$TMP/prm_reloaded.body" "\"authorization_servers\":\[\"$ISS\"\]"
has "$TMP/prm_reloaded.body" '"scopes_supported":\["tools:read","files:write"\]'
req after_reload 200 -H "$JSON" -H "$ACC" -H "Authorization: Bearer $(tok good)" -d "$call" "$U"

# ---- key rotation and a key server that goes down ---------------------------------
node -e '
const fs = require("fs"); const [src, pub] = process.argv.slice(1);
const o = JSON.parse(fs.readFileSync(src)).keys.find((k) => k.kid === "other-1");
for (const f of ["d", "p", "q", "dp", "dq", "qi"]) delete o[f];
const s = JSON.parse(fs.readFileSync(pub)); s.keys.push(o); fs.writeFileSync(pub, JSON.stringify(s));
' "$G/keys/private.json" "$TMP/jwks.json"
sleep 1.2
# A token signed by the rotated-in key under its own kid (other-1).
ROT=$(node --input-type=module -e '
import crypto from "node:crypto"; import fs from "node:fs";
const [keys, iss, aud] = process.argv.slice(1);
const k = JSON.parse(fs.readFileSync(keys)).keys.find((x) => x.kid === "other-1");
const b = (x) => Buffer.from(JSON.stringify(x)).toString("base64url"), now = Math.floor(Date.now() / 1000);
const i = b({ alg: "RS256", kid: "other-1", typ: "at+jwt" }) + "." + b({ iss, aud, sub: "bob", groups: ["reader"], scope: "tools:read", exp: now + 300 });
process.stdout.write(i + "." + crypto.sign("sha256", Buffer.from(i), crypto.createPrivateKey({ key: k, format: "jwk" })).toString("base64url"));
' "$G/keys/private.json" "$ISS" "$AUD")
req rotated 200 -H "$JSON" -H "$ACC" -H "Authorization: Bearer $ROT" -d "$call" "$U"
kill $jwkspid 2>/dev/null
wait $jwkspid 2>/dev/null
sleep 1.2
req cached 200 -H "$JSON" -H "$ACC" -H "Authorization: Bearer $(tok good)" -d "$call" "$U"
req newkid_down 401 -H "$JSON" -H "Authorization: Bearer $(tok unknown-kid)" -d "$call" "$U"
has "$TMP/gw.err" 'keeping the keys fetched before'

kill "$gwpid"
wait "$gwpid" 2>/dev/null
gwpid=
finish
