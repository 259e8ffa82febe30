# gateway_ops.sh - `toolgate gateway` operations, over real HTTP, in front
# of the recording upstream (tests/gateway/recorder.mjs): a shadow policy
# audited as would-allow/would-deny and never obeyed; an audit log that
# cannot be written (/dev/full) denying with audit_required and, with
# audit_required: false, serving with a loud log line; SIGUSR1 reopening a
# rotated audit log; each limit at its edge (max_body at and one past,
# max_header at and past, max_connections, connect and response timeouts,
# idle_timeout_s for a silent and a slow client); a client hanging up in
# the middle of an SSE answer (the upstream request ends too).
. "$(dirname "$0")/data/lib.sh"
. "$(dirname "$0")/data/gateway_lib.sh"

need node curl python3

node "$TG_SOURCE_DIR/tests/gateway/recorder.mjs" "$TMP/rec.log" "$TMP/rec.port" &
recpid=$!
# An upstream that never accepts: a listening socket whose backlog is
# full, so a connection attempt hangs (the kernel drops the SYN) and only
# connect_timeout_ms ends it.
python3 - "$TMP/bh.port" <<'PY' &
import socket, sys, time
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(0)
held = []
for _ in range(4):
    c = socket.socket()
    c.setblocking(False)
    try:
        c.connect(l.getsockname())
    except BlockingIOError:
        pass
    held.append(c)
open(sys.argv[1], "w").write(str(l.getsockname()[1]))
time.sleep(600)
PY
bhpid=$!
gwpids=
trap 'kill $recpid $bhpid $gwpids 2>/dev/null; rm -rf "$TMP"' EXIT
i=0
while { [ ! -s "$TMP/rec.port" ] || [ ! -s "$TMP/bh.port" ]; } && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
RPORT=$(cat "$TMP/rec.port")
BPORT=$(cat "$TMP/bh.port")

cat >"$TMP/p.tg" <<'P'
policy "gw" version "1";
role reader;
default deny;
allow anyone to list tools;
rule "ro": allow role reader to call tool "echo", "sleep", "stream", "sse";
P
# The candidate: would deny echo, would allow secret.
cat >"$TMP/cand.tg" <<'P'
policy "cand" version "2";
role reader;
default deny;
allow anyone to list tools;
rule "cand-secret": allow role reader to call tool "secret", "sleep", "stream", "sse";
P
# conf NAME AUDIT REQUIRED EXTRA: writes $TMP/NAME.yaml.
conf() {
	cat >"$TMP/$1.yaml" <<Y
listen: 127.0.0.1:0
resource: http://127.0.0.1:8080
policy: p.tg
audit: $2
audit_required: $3
upstreams:
  - name: rec
    path: /rec/mcp
    url: http://127.0.0.1:$RPORT/mcp
  - name: bh
    path: /bh/mcp
    url: http://127.0.0.1:$BPORT/mcp
  - name: fds
    path: /fds/mcp
    command: [sleep, "30"]
  - name: envs
    path: /envs/mcp
    command: [sh, -c, 'printf "%s|%s" "\$TG_UP_VAR" "\$TG_UP_KEEP" >"\$0"; exec sleep 30', $TMP/env.$1]
    env: {TG_UP_VAR: from config}
limits:
  max_body: 1024
  max_header: 4096
  max_connections: 4
  connect_timeout_ms: 700
  response_timeout_ms: 1500
  idle_timeout_s: 1
identity:
  principal: {id: alice, roles: [reader]}
$4
Y
}
# start NAME: runs the gateway on $TMP/NAME.yaml; sets PORT.
start() {
	: >"$TMP/$1.err"
	"$TOOLGATE" gateway --config "$TMP/$1.yaml" 2>"$TMP/$1.err" &
	gwpids="$gwpids $!"
	eval "pid_$1=$!"
	wait_listening "$TMP/$1.err" "$1"
}
call() {
	printf '{"jsonrpc":"2.0","id":%s,"method":"tools/call","params":{"name":"%s","arguments":%s}}' \
		"$1" "$2" "${3:-{\}}"
}
ms() { date +%s%3N; }

# ---- shadow mode ---------------------------------------------------------------
# What a stdio upstream inherits, one variable its configuration replaces.
export TG_UP_VAR=outer TG_UP_KEEP=kept
conf main audit.jsonl true "shadow_policy: cand.tg"
run 0 gateway --config "$TMP/main.yaml" --check
start main
U="http://127.0.0.1:$PORT/rec/mcp"
MAIN=$PORT
req sh_echo 200 -H "$JSON" -H "$ACC" -d "$(call 1 echo)" "$U"
has "$TMP/sh_echo.body" '"text":"ok"'
req sh_secret 200 -H "$JSON" -H "$ACC" -d "$(call 2 secret)" "$U"
has "$TMP/sh_secret.body" '"code":-32003'
lacks "$TMP/rec.log" '"name\\":\\"secret'
has "$TMP/audit.jsonl" '"target":"echo","decision":"allow".*"upstream":"rec"}$'
has "$TMP/audit.jsonl" '"target":"echo","decision":"deny".*"upstream":"rec","shadow":true'
has "$TMP/audit.jsonl" '"target":"secret","decision":"deny".*"upstream":"rec"}$'
has "$TMP/audit.jsonl" '"target":"secret","decision":"allow".*"rule":"cand-secret".*"shadow":true'
req sh_metrics 200 "http://127.0.0.1:$PORT/metrics"
has "$TMP/sh_metrics.body" 'toolgate_gateway_decisions_total{upstream="rec",outcome="shadow_deny"} 1'
has "$TMP/sh_metrics.body" 'toolgate_gateway_decisions_total{upstream="rec",outcome="shadow_allow"} 1'
has "$TMP/sh_metrics.body" 'toolgate_gateway_decisions_total{upstream="rec",outcome="allow"} 1'
has "$TMP/sh_metrics.body" 'toolgate_gateway_decisions_total{upstream="rec",outcome="deny"} 1'

# ---- SIGUSR1 reopens the audit log (rotation) -----------------------------------
mv "$TMP/audit.jsonl" "$TMP/audit.jsonl.1"
kill -USR1 "$pid_main"
sleep 0.4
req rot_echo 200 -H "$JSON" -H "$ACC" -d "$(call 3 echo)" "$U"
[ -s "$TMP/audit.jsonl" ] || fail "SIGUSR1: no new audit.jsonl after rotation"
has "$TMP/audit.jsonl" '"id":3\|"target":"echo"'
[ "$(grep -c '"shadow"' "$TMP/audit.jsonl.1")" -eq 2 ] || fail "rotation: the old file changed"
lacks "$TMP/audit.jsonl.1" 'rot\|"id":3,'

# ---- a stdio upstream's child holds its stdin, stdout and stderr only -----------
# Not the audit log, the client or upstream sockets, nor libcurl's or
# libmicrohttpd's descriptors: the gateway has all of these open by now.
curl -s -o /dev/null --max-time 3 -H "$JSON" -H "$ACC" \
	-d "$INIT" \
	"http://127.0.0.1:$PORT/fds/mcp" &
fdcurl=$!
std_fds_only "the stdio child" "$(child_of "$pid_main" sleep)"
wait $fdcurl

# ---- a stdio upstream's env: added to the gateway's environment, over it --------
curl -s -o /dev/null --max-time 3 -H "$JSON" -H "$ACC" \
	-d "$INIT" \
	"http://127.0.0.1:$PORT/envs/mcp" &
envcurl=$!
wait_for "$TMP/env.main" '|' || fail "the stdio child did not write its environment"
[ "$(cat "$TMP/env.main")" = "from config|kept" ] ||
	fail "the stdio child's environment: '$(cat "$TMP/env.main")', want 'from config|kept'"
wait $envcurl

# ---- max_body at the edge ---------------------------------------------------------
body_of() { # body_of N: a ping padded with spaces to exactly N bytes
	p='{"jsonrpc":"2.0","id":7,"method":"ping"}'
	printf '%s' "$p"
	head -c $(($1 - ${#p})) /dev/zero | tr '\0' ' '
}
body_of 1024 >"$TMP/b1024"
body_of 1025 >"$TMP/b1025"
[ "$(wc -c <"$TMP/b1024")" -eq 1024 ] || fail "b1024 is not 1024 bytes"
req body_at 200 -H "$JSON" -H "$ACC" --data-binary @"$TMP/b1024" "$U"
req body_past 413 -H "$JSON" -H "$ACC" --data-binary @"$TMP/b1025" "$U"
req body_at_chunked 200 -H "$JSON" -H "$ACC" -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/b1024" "$U"
req body_past_chunked 413 -H "$JSON" -H "$ACC" -H 'Transfer-Encoding: chunked' --data-binary @"$TMP/b1025" "$U"

# ---- max_header at the edge: request line + headers, CRLFs included ---------------
# raw PORT HEADER_BYTES: sends a GET /healthz whose request line and headers
# (through the blank line) are exactly HEADER_BYTES; prints the status.
raw() {
	python3 - "$1" "$2" <<'PY'
import socket, sys
port, total = int(sys.argv[1]), int(sys.argv[2])
head = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: "
pad = total - len(head) - 4
req = head + "a" * pad + "\r\n\r\n"
assert len(req) == total
s = socket.create_connection(("127.0.0.1", port), timeout=5)
try:
    s.sendall(req.encode())
    print(s.recv(64).decode(errors="replace").split(" ")[1])
except (OSError, IndexError):
    print("closed")
PY
}
[ "$(raw "$MAIN" 4096)" = 200 ] || fail "max_header: 4096 bytes of header: want 200, got $(raw "$MAIN" 4096)"
[ "$(raw "$MAIN" 4097)" = 431 ] || fail "max_header: 4097 bytes of header: want 431, got $(raw "$MAIN" 4097)"

# ---- the upstream's connect and response timeouts --------------------------------
t0=$(ms)
req connect_to 502 -H "$JSON" -H "$ACC" -d '{"jsonrpc":"2.0","id":4,"method":"ping"}' "http://127.0.0.1:$PORT/bh/mcp"
t=$(($(ms) - t0))
has "$TMP/connect_to.body" '"code":-32004'
[ $t -ge 650 ] && [ $t -lt 1450 ] || fail "connect timeout: answered after $t ms, want about 700"
req resp_in_time 200 -H "$JSON" -H "$ACC" -d "$(call 5 sleep '{"ms":900}')" "$U"
has "$TMP/resp_in_time.body" '"text":"slept"'
t0=$(ms)
req resp_late 504 -H "$JSON" -H "$ACC" -d "$(call 6 sleep '{"ms":2500}')" "$U"
t=$(($(ms) - t0))
[ $t -ge 1450 ] && [ $t -lt 2400 ] || fail "response timeout: answered after $t ms, want about 1500"

# ---- a client that hangs up in the middle of an SSE answer -----------------------
curl -s -N --max-time 0.7 -o "$TMP/hangup.body" -H "$JSON" -H "$ACC" -d "$(call 77 stream)" "$U"
has "$TMP/hangup.body" '^id: s1'
i=0
while ! grep -q '"closed":77' "$TMP/rec.log" && [ $i -lt 40 ]; do sleep 0.05; i=$((i + 1)); done
has "$TMP/rec.log" '"closed":77'
req after_hangup 200 -H "$JSON" -H "$ACC" -d "$(call 8 echo)" "$U"

# ---- idle_timeout_s: a silent client and a slow one are closed --------------------
python3 - "$MAIN" >"$TMP/idle.out" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
def closed_after(first):
    s = socket.create_connection(("127.0.0.1", port), timeout=6)
    if first:
        s.sendall(first)
    t = time.time()
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    return time.time() - t
print("silent %.2f" % closed_after(b""))
print("slow %.2f" % closed_after(b"GET /healthz HTTP/1.1\r\nHo"))
# Keep-alive inside the limit: a second request after 0.5 s is served.
s = socket.create_connection(("127.0.0.1", port), timeout=6)
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
a = s.recv(4096)
time.sleep(0.5)
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
b = s.recv(4096)
print("keepalive", a.split(b" ")[1].decode(), b.split(b" ")[1].decode() if b else "closed")
PY
awk '$1 == "silent" || $1 == "slow" { if ($2 < 0.9 || $2 > 3.5) print "FAIL: idle timeout: " $0 " s, want about 1" }' \
	"$TMP/idle.out" >"$TMP/idle.fail"
[ -s "$TMP/idle.fail" ] && fail "$(cat "$TMP/idle.fail") ($(tr '\n' ' ' <"$TMP/idle.out"))"
has "$TMP/idle.out" '^keepalive 200 200$'

# ---- max_connections: 4 held, the fifth waits until one ends ------------------------
python3 - "$MAIN" >"$TMP/conns.out" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
def get(s):
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        d = s.recv(4096)
        return d.split(b" ")[1].decode() if d else "closed"
    except OSError:
        return "closed"
held = [socket.create_connection(("127.0.0.1", port), timeout=3) for _ in range(4)]
print("held", " ".join(get(s) for s in held))
# At the limit libmicrohttpd stops accepting: the fifth waits in the
# listen backlog, unanswered, until a held connection ends.
extra = socket.create_connection(("127.0.0.1", port), timeout=0.5)
extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
try:
    print("fifth", extra.recv(4096).split(b" ")[1].decode())
except socket.timeout:
    print("fifth waits")
held.pop().close()
extra.settimeout(3)
try:
    print("fifth then", extra.recv(4096).split(b" ")[1].decode())
except OSError:
    print("fifth then closed")
PY
has "$TMP/conns.out" '^held 200 200 200 200$'
has "$TMP/conns.out" '^fifth waits$'
has "$TMP/conns.out" '^fifth then 200$'

# ---- an audit log that cannot be written -----------------------------------------
if [ -w /dev/full ]; then
	conf full /dev/full true ""
	start full
	req full_req 200 -H "$JSON" -H "$ACC" -d "$(call 9 echo)" "http://127.0.0.1:$PORT/rec/mcp"
	has "$TMP/full_req.body" '"code":-32003'
	has "$TMP/full_req.body" 'the audit log cannot be written'
	has "$TMP/full.err" 'cannot write the audit log; denying'
	lacks "$TMP/rec.log" '"id\\":9'
	conf lax /dev/full false ""
	start lax
	req lax_req 200 -H "$JSON" -H "$ACC" -d "$(call 10 echo)" "http://127.0.0.1:$PORT/rec/mcp"
	has "$TMP/lax_req.body" '"text":"ok"'
	has "$TMP/lax.err" 'cannot write the audit log; serving anyway (audit_required: false)'
	has "$TMP/rec.log" '"id\\":10'
else
	echo "note: /dev/full is not writable here; the audit-failure checks are skipped" >&2
fi

kill -TERM $gwpids 2>/dev/null
wait $gwpids 2>/dev/null
gwpids=
finish
