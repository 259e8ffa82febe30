# gateway_loop.sh - `toolgate gateway`'s event loop, over real HTTP, in
# front of the recording upstream (tests/gateway/recorder.mjs): upstream
# calls in flight side by side on the one loop thread, a fast call answered
# while slow ones wait; an SSE answer several times larger than max_response
# relayed whole, in order, to a client that reads slowly (the transfer is
# paused, not buffered: the gateway's memory stays flat), and one event
# past it ending the stream with the request's error; a call in flight
# at SIGTERM finished before the gateway exits; an upstream that closes its
# idle kept-alive connection costs the idle gateway no CPU, and the next
# call goes out on a new connection; an upstream's own credentials from the
# configuration (headers, bearer_token_file) on every request to it, the
# gateway's tool-list fetch included, and never the client's; a tool's
# annotations changed upstream and announced in a call's SSE stream
# (notifications/tools/list_changed), or by a stdio upstream on its stdout,
# decide the next call; the gateway's own tools/list fetch answered as an
# SSE stream, and its fetch of a paginated list (nextCursor followed);
# stdio_sessions refusing a session past it until one ends; a
# reload that points an upstream's name at another server (its cached
# annotations are forgotten).
. "$(dirname "$0")/data/lib.sh"
. "$(dirname "$0")/data/gateway_lib.sh"

need node curl python3

node "$TG_SOURCE_DIR/tests/gateway/recorder.mjs" "$TMP/rec.log" "$TMP/rec.port" &
recpid=$!
RECORDER_KEEPALIVE_MS=200 node "$TG_SOURCE_DIR/tests/gateway/recorder.mjs" "$TMP/short.log" \
	"$TMP/short.port" &
shortpid=$!
node "$TG_SOURCE_DIR/tests/gateway/recorder.mjs" "$TMP/cred.log" "$TMP/cred.port" &
credpid=$!
RECORDER_SSE_LIST=1 node "$TG_SOURCE_DIR/tests/gateway/recorder.mjs" "$TMP/ssel.log" \
	"$TMP/ssel.port" &
sselpid=$!
RECORDER_PAGE_SIZE=3 node "$TG_SOURCE_DIR/tests/gateway/recorder.mjs" "$TMP/paged.log" \
	"$TMP/paged.port" &
pagedpid=$!
gwpid=
trap 'kill $recpid $shortpid $credpid $sselpid $pagedpid $gwpid 2>/dev/null; rm -rf "$TMP"' EXIT
wait_for "$TMP/rec.port" .
wait_for "$TMP/short.port" .
wait_for "$TMP/cred.port" .
wait_for "$TMP/ssel.port" .
wait_for "$TMP/paged.port" .
printf 'up-token-abc.DEF~+/==\n' >"$TMP/up.token"
chmod 600 "$TMP/up.token"
RPORT=$(cat "$TMP/rec.port")

cat >"$TMP/p.tg" <<'P'
policy "loop" version "1";
role reader;
default deny;
allow anyone to list tools;
rule "ro": allow role reader to call tool "echo", "sleep", "flood";
rule "flip": allow role reader to call tool "flip" unless tool.destructive;
P
cat >"$TMP/gw.yaml" <<Y
listen: 127.0.0.1:0
resource: http://127.0.0.1:8080
policy: p.tg
audit: audit.jsonl
upstreams:
  - name: rec
    path: /rec/mcp
    url: http://127.0.0.1:$RPORT/mcp
  - name: short
    path: /short/mcp
    url: http://127.0.0.1:$(cat "$TMP/short.port")/mcp
  - name: cred
    path: /cred/mcp
    url: http://127.0.0.1:$(cat "$TMP/cred.port")/mcp
    headers: {X-Api-Key: k-123, X-Tenant: acme}
    bearer_token_file: up.token
  - name: ssel
    path: /ssel/mcp
    url: http://127.0.0.1:$(cat "$TMP/ssel.port")/mcp
  - name: paged
    path: /paged/mcp
    url: http://127.0.0.1:$(cat "$TMP/paged.port")/mcp
  - name: moving
    path: /moving/mcp
    url: http://127.0.0.1:$(cat "$TMP/short.port")/mcp
  - name: sio
    path: /sio/mcp
    command: [node, $TG_SOURCE_DIR/tests/gateway/stdio_server.mjs, $TMP/sio.log]
limits:
  max_response: 1048576
  response_timeout_ms: 5000
  stdio_sessions: 1
identity:
  principal: {id: alice, roles: [reader]}
Y
"$TOOLGATE" gateway --config "$TMP/gw.yaml" 2>"$TMP/gw.err" &
gwpid=$!
wait_listening "$TMP/gw.err" gateway
U="http://127.0.0.1:$PORT/rec/mcp"
call() {
	printf '{"jsonrpc":"2.0","id":%s,"method":"tools/call","params":{"name":"%s","arguments":%s}}' \
		"$1" "$2" "${3:-{\}}"
}
ms() { date +%s%3N; }
# The tool list is fetched once (on a worker); every call below runs on the loop.
req warm 200 -H "$JSON" -H "$ACC" -d "$(call 1 echo)" "$U"

# ---- slow calls side by side, a fast one answered meanwhile --------------------
t0=$(ms)
slow=
for i in 1 2 3 4; do
	curl -s -o "$TMP/slow$i.body" --max-time 10 -H "$JSON" -H "$ACC" \
		-d "$(call "1$i" sleep '{"ms":1500}')" "$U" &
	slow="$slow $!"
done
sleep 0.2
req fast 200 -H "$JSON" -H "$ACC" -d "$(call 2 echo)" "$U"
tfast=$(($(ms) - t0))
for j in $slow; do wait "$j"; done
tall=$(($(ms) - t0))
[ $tfast -lt 1200 ] || fail "a fast call waited for slow ones: answered after $tfast ms"
[ $tall -ge 1500 ] && [ $tall -lt 3000 ] ||
	fail "four 1500 ms calls took $tall ms together, want them side by side"
for i in 1 2 3 4; do
	has "$TMP/slow$i.body" '"text":"slept"'
done

# ---- backpressure: 4 MiB of events through a max_response of 1 MiB ---------------
python3 - "$PORT" "$gwpid" "$(call 3 flood '{"n":512,"size":8000}')" >"$TMP/flood.out" <<'PY'
import socket, sys, time
port, pid, body = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode()
def rss_kib():
    for line in open("/proc/%s/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
s = socket.create_connection(("127.0.0.1", port), timeout=20)
before = rss_kib()
s.sendall(b"POST /rec/mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          b"Accept: application/json, text/event-stream\r\nConnection: close\r\n"
          b"Content-Length: %d\r\n\r\n" % len(body) + body)
data, peak = b"", before
while True:
    chunk = s.recv(16384)
    if not chunk:
        break
    data += chunk
    time.sleep(0.002)
    peak = max(peak, rss_kib())
ids = [l[4:] for l in data.decode().split("\n") if l.startswith("id: ")]
print("events", len(ids))
print("ordered", ids == ["f%d" % i for i in range(1, 513)] + ["f-end"])
print("result", b'"text":"flooded"' in data)
print("growth_kib", peak - before)
PY
has "$TMP/flood.out" '^events 513$'
has "$TMP/flood.out" '^ordered True$'
has "$TMP/flood.out" '^result True$'
growth=$(sed -n 's/^growth_kib //p' "$TMP/flood.out")
# (AddressSanitizer keeps freed memory in quarantine: no RSS figure there.)
grep -qa __asan_init "$TOOLGATE" || [ "${growth:-99999}" -lt 2048 ] ||
	fail "the gateway grew by $growth KiB relaying a slow stream"

# One event past max_response ends the stream; the request gets its error.
req huge 200 -H "$JSON" -H "$ACC" -d "$(call 65 flood '{"n":1,"size":1100000}')" "$U"
has "$TMP/huge.body" '"id":65,"error":{"code":-32004,"message":"toolgate: the upstream failed: an SSE event passed max_response'
lacks "$TMP/huge.body" 'flooded'

# ---- an idle upstream connection closed by the upstream --------------------------
# Between calls the connection's socket stays in the loop's epoll set; the
# upstream's close must take it out, not wake the loop until the next call.
S="http://127.0.0.1:$PORT/short/mcp"
req short1 200 -H "$JSON" -H "$ACC" -d "$(call 5 echo)" "$S"	# fetches the tool list
req short2 200 -H "$JSON" -H "$ACC" -d "$(call 6 echo)" "$S"
req short3 200 -H "$JSON" -H "$ACC" -d "$(call 7 echo)" "$S"
ticks() { awk '{print $14 + $15}' "/proc/$gwpid/stat"; }
sleep 0.5
t0=$(ticks)
sleep 1
spent=$(($(ticks) - t0))
[ "$spent" -lt 10 ] || fail "the idle gateway used $spent clock ticks in a second after the upstream closed"
req short4 200 -H "$JSON" -H "$ACC" -d "$(call 8 echo)" "$S"
has "$TMP/short4.body" '"result"'
python3 - "$TMP/short.log" >"$TMP/short.peers" <<'PY'
import json, sys
peer = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    m = json.loads(r["body"]) if r["body"] else {}
    if m.get("method") == "tools/call":
        peer[m["id"]] = r["peer"]
print("kept", peer[6] == peer[7])
print("new", peer[8] != peer[7])
PY
has "$TMP/short.peers" '^kept True$'
has "$TMP/short.peers" '^new True$'

# ---- the upstream's credentials, never the client's -------------------------------
C="http://127.0.0.1:$PORT/cred/mcp"
req cred1 200 -H "$JSON" -H "$ACC" -H 'Authorization: Bearer client-secret' \
	-d "$(call 9 echo)" "$C"
has "$TMP/cred1.body" '"result"'
python3 - "$TMP/cred.log" >"$TMP/cred.check" <<'PY'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
methods = [json.loads(r["body"]).get("method") for r in reqs if r["body"]]
print("fetch_and_call", "tools/list" in methods and "tools/call" in methods)
print("all_credentialed", all(r["headers"].get("authorization") == "Bearer up-token-abc.DEF~+/=="
                              and r["headers"].get("x-api-key") == "k-123"
                              and r["headers"].get("x-tenant") == "acme" for r in reqs))
PY
has "$TMP/cred.check" '^fetch_and_call True$'
has "$TMP/cred.check" '^all_credentialed True$'
lacks "$TMP/cred.log" 'client-secret'

# ---- a tool's annotations changed upstream ----------------------------------------
# flip is read-only, not destructive, until it is called; its answer's stream
# announces notifications/tools/list_changed, which the client sees and
# which makes the gateway fetch the list again before the next decision.
req flip1 200 -H "$JSON" -H "$ACC" -d "$(call 61 flip)" "$U"
has "$TMP/flip1.body" 'notifications/tools/list_changed'
has "$TMP/flip1.body" '"text":"flipped"'
req flip2 200 -H "$JSON" -H "$ACC" -d "$(call 62 flip)" "$U"
has "$TMP/flip2.body" 'toolgate: denied'
lists=$(grep -c 'tools/list' "$TMP/rec.log")
[ "$lists" -eq 2 ] || fail "the tool list was fetched $lists times, want 2 (once more after the change)"
[ "$(grep -c '\\"name\\":\\"flip\\"' "$TMP/rec.log")" -eq 1 ] ||
	fail "a call of flip reached the upstream after it became destructive"

# ---- the gateway's own tools/list fetch answered as a stream ----------------------
# (a progress notification first): flip is allowed only when its annotations
# were read from the stream, and denied once the refetched list says
# destructive.
E="http://127.0.0.1:$PORT/ssel/mcp"
req ssel1 200 -H "$JSON" -H "$ACC" -d "$(call 63 flip)" "$E"
has "$TMP/ssel1.body" '"text":"flipped"'
req ssel2 200 -H "$JSON" -H "$ACC" -d "$(call 64 flip)" "$E"
has "$TMP/ssel2.body" 'toolgate: denied'
[ "$(grep -c 'tools/list' "$TMP/ssel.log")" -eq 2 ] || fail "ssel: want two tool-list fetches"

# ---- the gateway's own tools/list fetch follows nextCursor -----------------------
# Pages of three: flip, the last of ten tools, is on the fourth page. The
# client's own listing passes one page at a time, its cursor with it.
P="http://127.0.0.1:$PORT/paged/mcp"
req paged1 200 -H "$JSON" -H "$ACC" -d "$(call 65 flip)" "$P"
has "$TMP/paged1.body" '"text":"flipped"'
cursors=$(sed -n 's/.*"method\\":\\"tools\/list\\".*"cursor\\":\\"\([0-9]*\)\\".*/\1/p' "$TMP/paged.log" | tr '\n' ' ')
[ "$cursors" = "3 6 9 " ] || fail "paged: the fetch asked for cursors '$cursors', want '3 6 9 '"
req paged2 200 -H "$JSON" -H "$ACC" -d '{"jsonrpc":"2.0","id":66,"method":"tools/list"}' "$P"
has "$TMP/paged2.body" '^{"jsonrpc":"2.0","id":66,"result":{"tools":\[{"name":"echo",[^]]*}\],"nextCursor":"3"}}$'
req paged3 200 -H "$JSON" -H "$ACC" \
	-d '{"jsonrpc":"2.0","id":67,"method":"tools/list","params":{"cursor":"3"}}' "$P"
has "$TMP/paged3.body" '^{"jsonrpc":"2.0","id":67,"result":{"tools":\[{"name":"sleep",[^]]*},{"name":"flood",[^]]*}\],"nextCursor":"6"}}$'

# ---- the same from a stdio upstream, its notification on its stdout ------------
I="http://127.0.0.1:$PORT/sio/mcp"
# session_id HEADERS: the Mcp-Session-Id an answer gave.
session_id() { sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: *\([^\r]*\).*/\1/p' "$1"; }
# new_session NAME: initialize at $I until a stdio_sessions slot is free (an
# ended session's is once its child has exited on SIGTERM), 5 s at most;
# the answer's headers in $TMP/NAME.h.
new_session() {
	_i=0
	while [ "$(curl -s -o "$TMP/$1.body" -D "$TMP/$1.h" -w '%{http_code}' --max-time 5 \
		-H "$JSON" -H "$ACC" -d "$INIT" "$I")" != 200 ]; do
		_i=$((_i + 1))
		[ $_i -lt 50 ] || { fail "$1: no new session within 5 s"; return; }
		sleep 0.1
	done
}
req sio_init 200 -H "$JSON" -H "$ACC" -d "$INIT" "$I"
SID=$(session_id "$TMP/sio_init.h")
[ -n "$SID" ] || fail "sio: no Mcp-Session-Id"
req sio1 200 -H "$JSON" -H "$ACC" -H "Mcp-Session-Id: $SID" -d "$(call 66 flip)" "$I"
has "$TMP/sio1.body" '"text":"flipped"'
req sio2 200 -H "$JSON" -H "$ACC" -H "Mcp-Session-Id: $SID" -d "$(call 67 flip)" "$I"
has "$TMP/sio2.body" 'toolgate: denied'
[ "$(grep -c '"tools/list"' "$TMP/sio.log")" -eq 2 ] ||
	fail "sio: the tool list was fetched $(grep -c '"tools/list"' "$TMP/sio.log") times, want 2"
[ "$(grep -c '"name":"flip"' "$TMP/sio.log")" -eq 1 ] ||
	fail "sio: a call of flip reached the server after it became destructive"
# stdio_sessions: 1 - a second session waits for the first to end.
req sio_full 503 -H "$JSON" -H "$ACC" -d "$INIT" "$I"
has "$TMP/sio_full.body" '"code":-32005'
has "$TMP/sio_full.body" 'sessions of this stdio upstream are open already'
req sio_end 200 -X DELETE -H "Mcp-Session-Id: $SID" "$I"
new_session sio_again

# ---- a reload that points an upstream's name at another server ------------------
# The first call caches the old server's list, where flip is read-only; at
# rec (flipped above) it is destructive. The gateway must ask the new one.
M="http://127.0.0.1:$PORT/moving/mcp"
req mv1 200 -H "$JSON" -H "$ACC" -d "$(call 70 echo)" "$M"
has "$TMP/mv1.body" '"text":"ok"'
before=$(grep -c '"name\\":\\"flip\\"' "$TMP/rec.log")
# The same reload gives the stdio upstream another command line: its
# sessions, whose children run the old one, end.
SID2=$(session_id "$TMP/sio_again.h")
sed -i "/name: moving/,/url:/s|url: .*|url: http://127.0.0.1:$RPORT/mcp|; s|sio\.log\]|sio2.log]|" \
	"$TMP/gw.yaml"
kill -HUP $gwpid
wait_for "$TMP/gw.err" "reloaded configuration" || fail "moving: no reload"
req mv2 200 -H "$JSON" -H "$ACC" -d "$(call 71 flip)" "$M"
has "$TMP/mv2.body" 'toolgate: denied'
[ "$(grep -c '"name\\":\\"flip\\"' "$TMP/rec.log")" -eq "$before" ] ||
	fail "moving: flip reached its new server on the old server's annotations"
req sio_old 404 -H "$JSON" -H "$ACC" -H "Mcp-Session-Id: $SID2" \
	-d '{"jsonrpc":"2.0","id":72,"method":"tools/list"}' "$I"
has "$TMP/sio_old.body" 'no such session'
req sio_old_call 404 -H "$JSON" -H "$ACC" -H "Mcp-Session-Id: $SID2" -d "$(call 73 echo)" "$I"
has "$TMP/sio_old_call.body" 'no such session'
new_session sio_new
has "$TMP/sio2.log" '"method":"initialize"'

# ---- SIGTERM with a call in flight: answered, then a clean exit ------------------
curl -s -o "$TMP/last.body" --max-time 10 -H "$JSON" -H "$ACC" \
	-d "$(call 4 sleep '{"ms":600}')" "$U" &
lastpid=$!
sleep 0.2
kill -TERM $gwpid
wait $lastpid
has "$TMP/last.body" '"text":"slept"'
stopped $gwpid "$TMP/gw.err"
gwpid=
finish
