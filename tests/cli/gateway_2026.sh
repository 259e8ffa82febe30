# gateway_2026.sh - `toolgate gateway` with MCP 2026-07-28 (stateless)
# requests over real HTTP against a recording upstream
# (tests/gateway2026/upstream.mjs, node's http module only): the
# Mcp-Method / Mcp-Name / Mcp-Param-* headers checked against the body (400
# HeaderMismatch, nothing forwarded), rebuilt from the body going upstream;
# the body decided, not the header; filtered lists marked private with
# ttlMs kept; task ids sealed to the principal (another principal, a forged
# id and the upstream's raw id refused); a second gateway process with the
# same key honouring the first one's task ids; a subscription to a resource
# the principal may not read refused; no sessions; a 2025-only
# upstream answered with a clear error.
. "$(dirname "$0")/data/lib.sh"

need node curl

UP="$TG_SOURCE_DIR/tests/gateway2026/upstream.mjs"
node "$UP" "$TMP/up.port" "$TMP/up.log" &
uppid=$!
node "$UP" "$TMP/old.port" "$TMP/old.log" --legacy &
oldpid=$!
pids="$uppid $oldpid"
trap 'kill $pids 2>/dev/null; rm -rf "$TMP"' EXIT
i=0
while { [ ! -s "$TMP/up.port" ] || [ ! -s "$TMP/old.port" ]; } && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
UPORT=$(cat "$TMP/up.port")
OPORT=$(cat "$TMP/old.port")

cat >"$TMP/p.tg" <<'P'
policy "gw26" version "1";
role reader;
default deny;
allow anyone to list tools;
rule "ro": allow role reader to call any tool when tool.read_only;
allow anyone to invoke "tasks/*";
allow anyone to invoke "subscriptions/listen";
rule "pub": allow anyone to read resource "file:///pub/**";
P
head -c 48 /dev/urandom >"$TMP/key"
# gw NAME PRINCIPAL: starts one gateway process; its port in $TMP/NAME.port.
gw() {
	cat >"$TMP/$1.yaml" <<Y
listen: 127.0.0.1:0
resource: http://127.0.0.1:8080
policy: p.tg
audit: $1.audit.jsonl
session_key_file: key
upstreams:
  - name: up
    path: /up/mcp
    url: http://127.0.0.1:$UPORT/mcp
  - name: old
    path: /old/mcp
    url: http://127.0.0.1:$OPORT/mcp
identity:
  principal: {id: $2, roles: [reader]}
Y
	"$TOOLGATE" gateway --config "$TMP/$1.yaml" >/dev/null 2>"$TMP/$1.err" &
	pids="$pids $!"
	i=0
	while ! grep -qs 'listening on' "$TMP/$1.err" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$TMP/$1.err" >"$TMP/$1.port"
}
gw alice alice
gw alice2 alice
gw bob bob
A=$(cat "$TMP/alice.port") A2=$(cat "$TMP/alice2.port") B=$(cat "$TMP/bob.port")
[ -n "$A" ] && [ -n "$A2" ] && [ -n "$B" ] || { cat "$TMP"/*.err >&2; fail "a gateway did not start"; finish; }

JSON='Content-Type: application/json'
ACC='Accept: application/json, text/event-stream'
V='MCP-Protocol-Version: 2026-07-28'
META='"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}'

# req NAME WANT PORT BODY HEADERS...: one 2026 POST to /up/mcp.
req() {
	_n=$1 _want=$2 _port=$3 _body=$4
	shift 4
	_got=$(curl -s -o "$TMP/$_n.body" -w '%{http_code}' --max-time 10 -H "$JSON" -H "$ACC" \
		"$@" -d "$_body" "http://127.0.0.1:$_port${P:-/up/mcp}")
	if [ "$_got" != "$_want" ]; then
		fail "$_n: HTTP $_got, want $_want"
		sed 's/^/    body: /' "$TMP/$_n.body" >&2
	fi
}
call() { echo "{\"jsonrpc\":\"2.0\",\"id\":$1,\"method\":\"tools/call\",\"params\":{\"name\":\"$2\",\"arguments\":$3,$META}}"; }
count() { curl -s "http://127.0.0.1:$UPORT/count"; }

# ---- refused: headers that disagree with the body; nothing forwarded -----
req discover 200 "$A" "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server/discover\",\"params\":{$META}}" -H "$V" -H 'Mcp-Method: server/discover'
has "$TMP/discover.body" 'supportedVersions'
: >"$TMP/up.log"
req m_method 400 "$A" "$(call 2 echo '{}')" -H "$V" -H 'Mcp-Method: tools/list' -H 'Mcp-Name: echo'
has "$TMP/m_method.body" '"code":-32020'
has "$TMP/m_method.body" '"id":2'
# the header names an allowed tool, the body a denied one: the body is decided
req m_name 400 "$A" "$(call 3 secret '{}')" -H "$V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: echo'
has "$TMP/m_name.body" "Mcp-Name header value 'echo' does not match body value 'secret'"
req m_noname 400 "$A" "$(call 4 echo '{}')" -H "$V" -H 'Mcp-Method: tools/call'
req m_nomethod 400 "$A" "$(call 5 echo '{}')" -H "$V" -H 'Mcp-Name: echo'
req m_twice 400 "$A" "$(call 6 echo '{}')" -H "$V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: echo' -H 'Mcp-Name: echo'
req m_version 400 "$A" "$(call 7 echo '{}')" -H 'MCP-Protocol-Version: 2025-11-25' -H 'Mcp-Method: tools/call' -H 'Mcp-Name: echo'
req m_nometa 400 "$A" '{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"echo"}}' -H "$V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: echo'
req m_b64bad 400 "$A" "$(call 9 echo '{}')" -H "$V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: =?base64?c2VjcmV0?='
req m_param 400 "$A" "$(call 10 region '{"region":"eu-west1","q":"x"}')" -H "$V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: region' -H 'Mcp-Param-Region: us-east1'
has "$TMP/m_param.body" 'Mcp-Param-Region header does not match'
req m_param_missing 400 "$A" "$(call 11 region '{"region":"eu-west1"}')" -H "$V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: region'
req m_param_extra 400 "$A" "$(call 12 region '{"q":"x"}')" -H "$V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: region' -H 'Mcp-Param-Region: us-east1'
req m_param_twice 400 "$A" "$(call 13 region '{"region":"a"}')" -H "$V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: region' -H 'Mcp-Param-Region: a' -H 'mcp-param-region: a'
# an integer argument is compared as an integer, exactly: 2^53 + 1 is not 2^53
req m_shard 400 "$A" "$(call 15 shard '{"shard":9007199254740993}')" -H "$V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: shard' -H 'Mcp-Param-Shard: 9007199254740992'
has "$TMP/m_shard.body" "Mcp-Param-Shard header does not match the body value '9007199254740993'"
req m_shard_near 400 "$A" "$(call 16 shard '{"shard":42}')" -H "$V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: shard' -H 'Mcp-Param-Shard: 42.5'
req m_shard_text 400 "$A" "$(call 17 shard '{"shard":42}')" -H "$V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: shard' -H 'Mcp-Param-Shard: 42x'
req m_session 400 "$A" "$(call 14 echo '{}')" -H "$V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: echo' -H 'Mcp-Session-Id: x'
_got=$(curl -s -o /dev/null -w '%{http_code}' -H "$V" -H 'Accept: text/event-stream' "http://127.0.0.1:$A/up/mcp")
[ "$_got" = 405 ] || fail "GET with 2026-07-28: HTTP $_got, want 405"
lacks "$TMP/up.log" '"tools/call"'

# ---- allowed: headers rebuilt from the body -------------------------------
req ok 200 "$A" "$(call 20 echo '{}')" -H "$V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: echo'
has "$TMP/ok.body" 'ok echo'
has "$TMP/up.log" '"mcp-method":"tools/call","mcp-name":"echo"'
req b64 200 "$A" "$(call 21 echo '{}')" -H "$V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: =?base64?ZWNobw==?='
req param 200 "$A" "$(call 22 region '{"region":"Zürich ","q":"x"}')" -H "$V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: region' -H 'Mcp-Param-Region: =?base64?WsO8cmljaCA=?='
has "$TMP/up.log" '"mcp-param-region":"=?base64?WsO8cmljaCA=?="'
req shard 200 "$A" "$(call 24 shard '{"shard":42}')" -H "$V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: shard' -H 'Mcp-Param-Shard: 42.0'
has "$TMP/up.log" '"mcp-param-shard":"42"'
req shard_big 200 "$A" "$(call 25 shard '{"shard":9007199254740993}')" -H "$V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: shard' -H 'Mcp-Param-Shard: 9007199254740993'
has "$TMP/up.log" '"mcp-param-shard":"9007199254740993"'
req denied 200 "$A" "$(call 23 secret '{}')" -H "$V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: secret'
has "$TMP/denied.body" '"isError":true'
has "$TMP/denied.body" '"code":-32003'
count | grep -q '"secret"' && fail "a denied call reached the upstream"
# roots the client answers inside a retry (inputResponses) reach the server
# as the identity may read them: file:///pub, not the whole disk
: >"$TMP/up.log"
req roots 200 "$A" "{\"jsonrpc\":\"2.0\",\"id\":26,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{},\"inputResponses\":{\"r\":{\"roots\":[{\"uri\":\"file:///pub\"},{\"uri\":\"file:///\"}]}},$META}}" -H "$V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: echo'
has "$TMP/up.log" 'file:///pub'
lacks "$TMP/up.log" '"file:///"'
has "$TMP/alice.audit.jsonl" '"target":"file:///","decision":"deny".*"for":"roots/list"'
# a subscription is decided per resource, as the reads it amounts to: one
# the principal may not read refuses the whole request, nothing forwarded
sub_body() { echo "{\"jsonrpc\":\"2.0\",\"id\":$1,\"method\":\"subscriptions/listen\",\"params\":{\"notifications\":{\"resourceSubscriptions\":[$2]},$META}}"; }
req sub_denied 200 "$A" "$(sub_body 25 '"file:///pub/a","file:///secret/keys"')" -H "$V" -H 'Mcp-Method: subscriptions/listen'
has "$TMP/sub_denied.body" '"code":-32003'
has "$TMP/sub_denied.body" 'file:///secret/keys'
lacks "$TMP/up.log" 'subscriptions/listen'
req list 200 "$A" "{\"jsonrpc\":\"2.0\",\"id\":24,\"method\":\"tools/list\",\"params\":{$META}}" -H "$V" -H 'Mcp-Method: tools/list'
has "$TMP/list.body" '"cacheScope":"private"'
has "$TMP/list.body" '"ttlMs":60000'
lacks "$TMP/list.body" '"secret"'

# ---- tasks: sealed to the principal that created them ----------------------
req task 200 "$A" "$(call 30 slow '{}')" -H "$V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: slow'
TID=$(sed -n 's/.*"taskId":"\([^"]*\)".*/\1/p' "$TMP/task.body")
case "$TID" in "" | t-*) fail "the task id was not sealed: '$TID'" ;; esac
get() { echo "{\"jsonrpc\":\"2.0\",\"id\":$1,\"method\":\"tasks/get\",\"params\":{\"taskId\":\"$2\",$META}}"; }
req tget 200 "$A" "$(get 31 "$TID")" -H "$V" -H 'Mcp-Method: tasks/get' -H "Mcp-Name: $TID"
has "$TMP/tget.body" 'done t-1'
# sealed again on the way back: the same id, unless the answer came in a
# later second than the task (a seal carries its expiry in seconds)
TID2=$(sed -n 's/.*"taskId":"\([^"]*\)".*/\1/p' "$TMP/tget.body")
case "$TID2" in "" | t-*) fail "tasks/get's task id was not sealed: '$TID2'" ;; esac
[ "$(printf %s "$TID2" | cut -c1-6)" = "$(printf %s "$TID" | cut -c1-6)" ] ||
	fail "tasks/get's task id is not in the sealed form of the task's: '$TID2'"
has "$TMP/up.log" '"mcp-name":"t-1"'
# another process with the same key: the same principal is served
req tget2 200 "$A2" "$(get 32 "$TID")" -H "$V" -H 'Mcp-Method: tasks/get' -H "Mcp-Name: $TID"
has "$TMP/tget2.body" 'done t-1'
# another principal, the raw upstream id, and a 2025 session id as a task id
req tsteal 200 "$B" "$(get 33 "$TID")" -H "$V" -H 'Mcp-Method: tasks/get' -H "Mcp-Name: $TID"
has "$TMP/tsteal.body" 'no such task'
req traw 200 "$B" "$(get 34 t-1)" -H "$V" -H 'Mcp-Method: tasks/get' -H 'Mcp-Name: t-1'
has "$TMP/traw.body" 'no such task'
tcancel="{\"jsonrpc\":\"2.0\",\"id\":35,\"method\":\"tasks/cancel\",\"params\":{\"taskId\":\"$TID\",$META}}"
req tcancel 200 "$B" "$tcancel" -H "$V" -H 'Mcp-Method: tasks/cancel' -H "Mcp-Name: $TID"
has "$TMP/tcancel.body" 'no such task'
req tlist 200 "$A" "{\"jsonrpc\":\"2.0\",\"id\":36,\"method\":\"tasks/list\",\"params\":{$META}}" -H "$V" -H 'Mcp-Method: tasks/list'
has "$TMP/tlist.body" 'tasks/list is not served'
[ "$(count | sed -n 's/.*"tasks_get":{"t-1":\([0-9]*\)}.*/\1/p')" = 2 ] || fail "tasks/get reached the upstream other than twice: $(count)"
lacks "$TMP/up.log" 'tasks/cancel'

# ---- a 2025-only upstream: a clear error, no translation -------------------
P=/old/mcp req old 502 "$A" "$(call 40 echo '{}')" -H "$V" -H 'Mcp-Method: tools/call' -H 'Mcp-Name: echo'
has "$TMP/old.body" 'does not speak 2026-07-28'

kill $pids 2>/dev/null
finish
