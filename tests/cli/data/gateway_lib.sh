# gateway_lib.sh - sourced by the gateway's CLI tests after lib.sh (not a
# test): starting a gateway and sending it requests.

JSON='Content-Type: application/json'
ACC='Accept: application/json, text/event-stream'
# A 2025-06-18 initialize request.
INIT='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}'

# wait_listening ERRFILE WHAT: waits for the gateway writing to ERRFILE to
# say where it listens; sets PORT, or fails and finishes.
wait_listening() {
	_i=0
	while ! grep -q 'listening on' "$1" && [ $_i -lt 100 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	PORT=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$1")
	[ -n "$PORT" ] || { cat "$1" >&2; fail "$2: the gateway did not start"; finish; }
}

# req NAME WANT_STATUS CURL_ARGS...: one request; the status must match;
# the body goes to $TMP/NAME.body, the headers to $TMP/NAME.h.
req() {
	_n=$1 _want=$2
	shift 2
	_got=$(curl -s -D "$TMP/$_n.h" -o "$TMP/$_n.body" -w '%{http_code}' --max-time 10 "$@")
	if [ "$_got" != "$_want" ]; then
		fail "$_n: HTTP $_got, want $_want"
		sed 's/^/    body: /' "$TMP/$_n.body" >&2
	fi
}

# stopped PID ERRFILE: the gateway PID (already sent SIGTERM) must exit 0
# and say so in ERRFILE.
stopped() {
	wait "$1"
	_rc=$?
	[ $_rc -eq 0 ] || fail "SIGTERM: exit status $_rc, want 0"
	has "$2" 'gateway: stopped'
}
