# gateway.sh - `toolgate gateway` over real HTTP against a recording
# upstream (tests/gateway/recorder.mjs, node's http module only): a corpus
# of refused inputs (unknown path, disallowed Origin, bodies past the limit,
# malformed JSON, batches, wrong media types, repeated headers, forged
# sessions, oversized headers, ...) none of which may reach the upstream;
# then allowed traffic (sealed sessions, no Authorization forwarded,
# filtered lists, a denial, an SSE answer relayed), an upstream that hangs
# or goes quiet in the middle of an SSE answer (ended with the request's
# error) and one that is gone (an error, never a hang), /healthz and /metrics,
# reloads that keep the old policy when the new one is broken, --check, and
# a graceful stop.
. "$(dirname "$0")/data/lib.sh"
. "$(dirname "$0")/data/gateway_lib.sh"

need node curl

REC="$TG_SOURCE_DIR/tests/gateway/recorder.mjs"
node "$REC" "$TMP/rec.log" "$TMP/rec.port" &
recpid=$!
gwpid=
trap 'kill $recpid $gwpid 2>/dev/null; rm -rf "$TMP"' EXIT
i=0
while [ ! -s "$TMP/rec.port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
RPORT=$(cat "$TMP/rec.port")
: >"$TMP/rec.log"

cat >"$TMP/p.tg" <<'P'
policy "gw" version "1";
role reader;
default deny;
allow anyone to list tools;
rule "ro": allow role reader to call any tool when tool.read_only;
rule "docs": allow role reader to read resource "file:///docs/**";
P
head -c 48 /dev/urandom >"$TMP/key"
cat >"$TMP/gw.yaml" <<Y
listen: 127.0.0.1:0
resource: http://127.0.0.1:8080
policy: p.tg
audit: audit.jsonl
origins: ["http://localhost"]
session_key_file: key
upstreams:
  - name: rec
    path: /rec/mcp
    url: http://127.0.0.1:$RPORT/mcp
limits:
  max_body: 1024
  max_header: 4096
  response_timeout_ms: 1500
  connect_timeout_ms: 1000
identity:
  principal: {id: alice, roles: [reader]}
Y

run 0 gateway --config "$TMP/gw.yaml" --check
has "$TMP/err" 'configuration OK'
sed 's/max_body: 1024/max_bdy: 1024/' "$TMP/gw.yaml" >"$TMP/bad.yaml"
run 1 gateway --config "$TMP/bad.yaml" --check
has "$TMP/err" "bad.yaml:12:3: error: unknown key 'max_bdy' in limits"
has "$TMP/err" "did you mean 'max_body'"
run 2 gateway
run 2 gateway --config "$TMP/missing.yaml"
# An upstream's own credentials and environment: what the gateway refuses.
printf 'two tokens\n' >"$TMP/two.token"
cat >"$TMP/cred.yaml" <<Y
listen: 127.0.0.1:0
resource: http://127.0.0.1:8080
policy: p.tg
audit: audit.jsonl
upstreams:
  - name: a
    path: /a/mcp
    url: http://127.0.0.1:9/mcp
    headers: {Host: evil, "X-Bad Name": v, X-Split: "a\\r\\nInjected: 1", Authorization: Basic x}
    bearer_token_file: two.token
    env: {A: b}
  - name: b
    path: /b/mcp
    command: [cat]
    env: {1BAD: x, OK_NAME: fine}
    headers: {X-Key: k}
identity:
  principal: {id: alice, roles: [reader]}
Y
run 1 gateway --config "$TMP/cred.yaml" --check
has "$TMP/err" "cred.yaml:9:15: error: the gateway sets 'Host' itself"
has "$TMP/err" "cred.yaml:9:27: error: 'X-Bad Name' is not a header name"
has "$TMP/err" "cred.yaml:9:53: error: a header value has no control characters"
has "$TMP/err" "cred.yaml:9:73: error: 'Authorization' is set by 'bearer_token_file' already"
has "$TMP/err" "cred.yaml:10:24: error: '.*two.token' does not hold one bearer token"
has "$TMP/err" "cred.yaml:11:10: error: 'env' is for command (stdio) upstreams"
has "$TMP/err" "cred.yaml:15:11: error: '1BAD' is not an environment variable name"
has "$TMP/err" "cred.yaml:16:14: error: 'headers' is for url upstreams; a stdio upstream takes 'env'"

# A session key others may read is served with a warning (mounted secrets
# are often 0644); at 0600 nothing is said.
chmod 600 "$TMP/key"
run 0 gateway --config "$TMP/gw.yaml" --check
lacks "$TMP/err" 'open to other users'
chmod 644 "$TMP/key"
"$TOOLGATE" gateway --config "$TMP/gw.yaml" 2>"$TMP/gw.err" &
gwpid=$!
wait_listening "$TMP/gw.err" gateway
has "$TMP/gw.err" "warning: '$TMP/key' is open to other users (mode 0644); it holds a secret"
BASE="http://127.0.0.1:$PORT"
U="$BASE/rec/mcp"


# ---- the refused corpus: none of it may reach the upstream ----------------
req notfound 404 -H "$JSON" -d "$INIT" "$BASE/other/mcp"
req notfound2 404 -H "$JSON" -d "$INIT" "$U/"
req origin 403 -H "$JSON" -H 'Origin: http://evil.example' -d "$INIT" "$U"
req origin_get 403 -H 'Origin: null' "$U"
req two_origins 400 -H "$JSON" -H 'Origin: http://localhost' -H 'Origin: http://evil.example' -d "$INIT" "$U"
head -c 1025 /dev/zero | tr '\0' ' ' >"$TMP/big"
req big 413 -H "$JSON" --data-binary @"$TMP/big" "$U"
req big_chunked 413 -H "$JSON" -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/big" "$U"
req parse 400 -H "$JSON" -d '{"jsonrpc":"2.0","id":1,' "$U"
has "$TMP/parse.body" '"code":-32700'
req utf8 400 -H "$JSON" --data-binary "$(printf '{"jsonrpc":"2.0","id":1,"method":"ping","x":"\377"}')" "$U"
req empty 400 -H "$JSON" -d '' "$U"
req batch 400 -H "$JSON" -d "[$INIT]" "$U"
has "$TMP/batch.body" '"code":-32600'
req dupkey 400 -H "$JSON" -d '{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}' "$U"
req nojsonrpc 400 -H "$JSON" -d '{"id":1,"method":"ping"}' "$U"
req badid 400 -H "$JSON" -d '{"jsonrpc":"2.0","id":1.5,"method":"ping"}' "$U"
req notif 400 -H "$JSON" -d '{"jsonrpc":"2.0","method":"tools/call","params":{"name":"echo"}}' "$U"
req ctype 415 -H 'Content-Type: text/plain' -d "$INIT" "$U"
req noctype 415 --data-binary "$INIT" -H 'Content-Type:' "$U"
req form 415 -d "$INIT" "$U"
req accept 406 -H "$JSON" -H 'Accept: text/html' -d "$INIT" "$U"
req version 400 -H "$JSON" -H 'MCP-Protocol-Version: 1999-01-01' -d "$INIT" "$U"
req method 405 -X PUT -H "$JSON" -d "$INIT" "$U"
req forged 404 -H "$JSON" -H 'Mcp-Session-Id: up-1' -d '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' "$U"
req forged_get 404 -H 'Mcp-Session-Id: AQAAAAAAAAfQ' "$U"
req delete_nosession 400 -X DELETE "$U"
req denied 200 -H "$JSON" -d '{"jsonrpc":"2.0","id":9,"method":"resources/read","params":{"uri":"file:///etc/passwd"}}' "$U"
has "$TMP/denied.body" '"code":-32003'
req invalid 200 -H "$JSON" -d '{"jsonrpc":"2.0","id":9,"method":"resources/read","params":{}}' "$U"
has "$TMP/invalid.body" '"code":-32602'
long=$(head -c 5000 /dev/zero | tr '\0' a)
req header 431 -H "$JSON" -H "X-Long: $long" -d "$INIT" "$U"
[ -s "$TMP/rec.log" ] && { fail "refused requests reached the upstream"; sed 's/^/    /' "$TMP/rec.log" >&2; }
req healthz 200 "$BASE/healthz"

# ---- allowed traffic ---------------------------------------------------------
curl -s -D "$TMP/init.h" -o "$TMP/init.body" -H "$JSON" -H "$ACC" \
	-H 'Authorization: Bearer client-secret' -H 'Origin: http://localhost' -d "$INIT" "$U"
has "$TMP/init.body" '"serverInfo"'
SID=$(sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: \([^[:space:]]*\).*/\1/p' "$TMP/init.h")
[ -n "$SID" ] && [ "$SID" != up-1 ] || fail "initialize: want a sealed session id, got '$SID'"
lacks "$TMP/rec.log" 'client-secret'
lacks "$TMP/rec.log" '"authorization"'
S="Mcp-Session-Id: $SID"
V='MCP-Protocol-Version: 2025-06-18'
req initialized 202 -H "$JSON" -H "$S" -H "$V" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$U"
req list 200 -H "$JSON" -H "$ACC" -H "$S" -H "$V" -d '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' "$U"
has "$TMP/list.body" '"name":"echo"'
lacks "$TMP/list.body" '"secret"'
has "$TMP/rec.log" '"mcp-session-id":"up-1"'
has "$TMP/rec.log" '"mcp-protocol-version":"2025-06-18"'
req call 200 -H "$JSON" -H "$ACC" -H "$S" -H 'Authorization: Bearer client-secret-2' \
	-d '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{}}}' "$U"
has "$TMP/call.body" '"text":"ok"'
# Upstream connections are kept alive and reused (5 requests so far, one at
# a time), and a reused one carries no header of an earlier request.
npeers=$(sed -n 's/.*"peer":\([0-9]*\).*/\1/p' "$TMP/rec.log" | sort -u | wc -l)
nreqs=$(wc -l <"$TMP/rec.log")
[ "$nreqs" -ge 4 ] && [ "$npeers" -eq 1 ] || fail "upstream connections: $npeers for $nreqs requests, want 1"
lacks "$TMP/rec.log" 'client-secret'
lacks "$TMP/rec.log" '"authorization"'
req secret 200 -H "$JSON" -H "$S" -d '{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"secret","arguments":{}}}' "$U"
has "$TMP/secret.body" '"isError":true'
has "$TMP/secret.body" '"code":-32003'
lacks "$TMP/rec.log" '"name\\":\\"secret'
req sse 200 -H "$JSON" -H "$ACC" -H "$S" -d '{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"sse","arguments":{}}}' "$U"
has "$TMP/sse.body" '^id: e1'
has "$TMP/sse.body" 'notifications/progress'
has "$TMP/sse.body" '"text":"streamed"'
has "$TMP/audit.jsonl" '"target":"echo","decision":"allow".*"upstream":"rec"'
# The client's answer to a server's roots/list reaches the server with the
# roots the identity may read, each root a decision in the audit; roots
# that are not a list reach it as an error instead.
: >"$TMP/rec.log"
req roots 200 -H "$JSON" -H "$ACC" -H "$S" -H "$V" \
	-d '{"jsonrpc":"2.0","id":"r1","result":{"roots":[{"uri":"file:///"},{"uri":"file:///docs"},{"uri":"file:///etc"}]}}' "$U"
has "$TMP/rec.log" 'file:///docs'
lacks "$TMP/rec.log" 'file:///\\"'
lacks "$TMP/rec.log" 'file:///etc'
has "$TMP/audit.jsonl" '"target":"file:///etc/","decision":"deny".*"for":"roots/list".*"upstream":"rec"'
: >"$TMP/rec.log"
req badroots 200 -H "$JSON" -H "$ACC" -H "$S" -H "$V" \
	-d '{"jsonrpc":"2.0","id":"r2","result":{"roots":"file:///"}}' "$U"
has "$TMP/rec.log" 'the client'"'"'s roots could not be checked'
lacks "$TMP/rec.log" '"roots'
has "$TMP/audit.jsonl" '"target":"secret","decision":"deny".*"upstream":"rec"'

# ---- the upstream hangs, then is gone: an error, never a hang ----------------
start=$(date +%s)
req hang 504 -H "$JSON" -H "$S" -d '{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"hang","arguments":{}}}' "$U"
has "$TMP/hang.body" '"code":-32004'
[ $(($(date +%s) - start)) -le 5 ] || fail "hang: took more than 5 s"
# A stream that goes quiet for response_timeout_ms is ended, upstream too;
# the request still gets its answer, the error a JSON answer would carry.
start=$(date +%s)
req pause 200 -H "$JSON" -H "$ACC" -H "$S" -d '{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"pause","arguments":{}}}' "$U"
has "$TMP/pause.body" '^id: p1'
has "$TMP/pause.body" '^data: {"jsonrpc":"2.0","id":8,"error":{"code":-32004,"message":"toolgate: the upstream failed: sent nothing for 1500 ms; ending the stream"}}$'
[ $(($(date +%s) - start)) -le 5 ] || fail "pause: the quiet stream took more than 5 s to end"
has "$TMP/gw.err" 'sent nothing for 1500 ms; ending the stream'
wait_for "$TMP/rec.log" '"closed":8' || fail "pause: the upstream's stream was left open"
# An upstream connection broken in the middle of an SSE answer: the same.
req drop 200 -H "$JSON" -H "$ACC" -H "$S" -d '{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"drop","arguments":{}}}' "$U"
has "$TMP/drop.body" '^id: d1'
has "$TMP/drop.body" '^data: {"jsonrpc":"2.0","id":9,"error":{"code":-32004,"message":"toolgate: the upstream failed: '
kill $recpid
wait $recpid 2>/dev/null
req gone 502 -H "$JSON" -H "$S" -d '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{}}}' "$U"
has "$TMP/gone.body" '"code":-32004'
req healthz2 200 "$BASE/healthz"
req metrics 200 "$BASE/metrics"
has "$TMP/metrics.body" 'toolgate_gateway_refusals_total{reason="origin"} 2'
has "$TMP/metrics.body" 'toolgate_gateway_decisions_total{upstream="rec",outcome="deny"} 2'
has "$TMP/metrics.body" 'toolgate_gateway_upstream_errors_total{upstream="rec"} [1-9]'

# ---- reloads: a broken policy or configuration keeps the old one ------------
echo 'policy broken' >"$TMP/p.tg"
kill -HUP $gwpid
sleep 0.5
has "$TMP/gw.err" 'keeping the current policy'
echo 'listen: [' >"$TMP/gw.yaml"
sleep 0.6
has "$TMP/gw.err" 'keeping the current configuration'
req after_reload 200 -H "$JSON" -d '{"jsonrpc":"2.0","id":9,"method":"resources/read","params":{"uri":"file:///x"}}' "$U"
has "$TMP/after_reload.body" '"code":-32003'

kill -TERM $gwpid
stopped $gwpid "$TMP/gw.err"
gwpid=
finish
