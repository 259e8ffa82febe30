#!/bin/sh
# load.sh - `toolgate gateway` under load (bench/RESULTS.md, "Gateway load").
#
#   bench/gateway/load.sh TOOLGATE [SECONDS] [CONNECTIONS] [--no-baseline]
#
# On loopback: a fast recording upstream (tests/gateway2026/upstream.mjs,
# node's http module), the gateway in front of it, and wrk driving
# bench/gateway/mixed.lua (MCP 2026-07-28 tools/call, half allowed, half
# denied) for SECONDS (default 25) at CONNECTIONS (default 64) with 2
# threads. Three runs: the gateway; the gateway while its policy is
# rewritten every second (each rewrite a new version, so each one reloads);
# and, unless --no-baseline, nginx proxying the same upstream (no policy:
# the cost of a plain reverse proxy on this machine in the same run).
#
# Fails (exit 1) unless every run has 0 socket errors, 0 non-200 answers, 0
# wrong answers, and the upstream received 0 calls of the denied tool
# through the gateway. Prints one line per run: requests, rps, p50, p99, CPU
# seconds of the proxy process(es) (from /proc/PID/stat before and after)
# and requests per CPU-second (= requests per second per core).
set -u
TOOLGATE=${1:?usage: load.sh TOOLGATE [SECONDS] [CONNECTIONS] [--no-baseline]}
SECS=${2:-25}
CONNS=${3:-64}
BASELINE=1
[ "${4:-}" = "--no-baseline" ] && BASELINE=0
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
for t in node wrk curl; do
	command -v $t >/dev/null 2>&1 || { echo "FAIL: $t is required (scripts/install-deps)" >&2; exit 1; }
done
[ $BASELINE = 0 ] || command -v nginx >/dev/null 2>&1 || { echo "FAIL: nginx is required" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tgload.XXXXXX") || exit 1
chmod 755 "$TMP"
pids=
trap 'kill $pids 2>/dev/null; [ -f "$TMP/nginx/nginx.pid" ] && kill "$(cat "$TMP/nginx/nginx.pid")" 2>/dev/null; rm -rf "$TMP"' EXIT
trap 'exit 2' INT TERM
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
waitfile() { i=0; while [ ! -s "$1" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done; }

node "$SRC/tests/gateway2026/upstream.mjs" "$TMP/up.port" &
pids="$pids $!"
waitfile "$TMP/up.port"
UPORT=$(cat "$TMP/up.port")

policy() {
	cat >"$TMP/p.tg.new" <<P
policy "load" version "$1";
role reader;
default deny;
allow anyone to list tools;
rule "ro": allow role reader to call any tool when tool.read_only;
P
	mv "$TMP/p.tg.new" "$TMP/p.tg"
}
policy 0
head -c 48 /dev/urandom >"$TMP/key"
cat >"$TMP/gw.yaml" <<Y
listen: 127.0.0.1:0
resource: http://127.0.0.1:8080
policy: p.tg
audit: audit.jsonl
session_key_file: key
upstreams:
  - name: up
    path: /up/mcp
    url: http://127.0.0.1:$UPORT/mcp
limits:
  max_connections: 512
identity:
  principal: {id: loadtest, roles: [reader]}
Y
"$TOOLGATE" gateway --config "$TMP/gw.yaml" >/dev/null 2>"$TMP/gw.err" &
GW=$!
pids="$pids $GW"
i=0
while ! grep -qs 'listening on' "$TMP/gw.err" && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
GPORT=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$TMP/gw.err")
[ -n "$GPORT" ] || { cat "$TMP/gw.err" >&2; echo "FAIL: the gateway did not start" >&2; exit 1; }

# cpu PID...: utime + stime of the processes, in clock ticks
cpu() {
	t=0
	for p in "$@"; do
		v=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
		t=$((t + v))
	done
	echo $t
}
HZ=$(getconf CLK_TCK)

# run NAME URL PIDS [baseline]: one wrk run; checks and prints its line
run() {
	_name=$1 _url=$2 _pids=$3 _mode=${4:-}
	_c0=$(cpu $_pids)
	wrk -t2 -c"$CONNS" -d"${SECS}s" --timeout 10s -s "$HERE/mixed.lua" "$_url" -- $_mode \
		>"$TMP/$_name.wrk" 2>&1
	_c1=$(cpu $_pids)
	_line=$(grep '^RESULT' "$TMP/$_name.wrk")
	[ -n "$_line" ] || { cat "$TMP/$_name.wrk" >&2; fail "$_name: wrk gave no result"; return; }
	eval "$(echo "$_line" | sed 's/^RESULT //')"
	# shellcheck disable=SC2154 # set by the eval
	_cpus=$(awk "BEGIN{printf \"%.2f\", ($_c1 - $_c0) / $HZ}")
	_per=$(awk "BEGIN{c=($_c1 - $_c0) / $HZ; printf \"%.0f\", (c > 0 ? $requests / c : 0)}")
	printf '%-16s requests=%s rps=%s p50=%.2fms p99=%.2fms cpu=%ss req_per_cpu_s=%s errors=%s wrong=%s allowed=%s denied=%s\n' \
		"$_name" "$requests" "$rps" "$(awk "BEGIN{print $p50_us/1000}")" \
		"$(awk "BEGIN{print $p99_us/1000}")" "$_cpus" "$_per" "$errors" "$wrong" "$allowed" "$denied"
	[ "$errors" = 0 ] || fail "$_name: $errors failed requests"
	[ "$wrong" = 0 ] || fail "$_name: $wrong wrong answers"
	grep -q 'Non-2xx' "$TMP/$_name.wrk" && fail "$_name: non-2xx answers"
	[ "$requests" -gt 0 ] || fail "$_name: no requests"
}
secret() { curl -s "http://127.0.0.1:$UPORT/count" | sed -n 's/.*"secret":\([0-9]*\).*/\1/p'; }

run gateway "http://127.0.0.1:$GPORT/up/mcp" "$GW"
[ -z "$(secret)" ] || fail "gateway: the upstream received $(secret) denied calls"

# the same while the policy is replaced every second
(v=1; while :; do sleep 1; policy $v; v=$((v + 1)); done) &
RL=$!
pids="$pids $RL"
run gateway+reload "http://127.0.0.1:$GPORT/up/mcp" "$GW"
kill $RL 2>/dev/null
reloads=$(curl -s "http://127.0.0.1:$GPORT/metrics" | sed -n 's/^toolgate_gateway_reloads_total{result="ok"} \([0-9]*\).*/\1/p')
echo "policy reloads during the run: ${reloads:-0}"
[ "${reloads:-0}" -ge $((SECS / 2)) ] || fail "the policy was reloaded ${reloads:-0} times, want >= $((SECS / 2))"
[ -z "$(secret)" ] || fail "gateway+reload: the upstream received $(secret) denied calls"

if [ $BASELINE = 1 ]; then
	NPORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
	mkdir -p "$TMP/nginx/logs"
	cat >"$TMP/nginx/nginx.conf" <<N
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  upstream up { server 127.0.0.1:$UPORT; keepalive 64; }
  server {
    listen 127.0.0.1:$NPORT;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
N
	nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf"
	waitfile "$TMP/nginx/nginx.pid"
	NM=$(cat "$TMP/nginx/nginx.pid")
	run nginx "http://127.0.0.1:$NPORT/up/mcp" "$NM $(pgrep -P "$NM" | tr '\n' ' ')" baseline
fi
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
[ $failures -eq 0 ] || { echo "$failures check(s) failed" >&2; exit 1; }
