# proxy_lifecycle.sh - how `toolgate proxy` ends (docs/proxy.md "Lifecycle
# and failures"): a server that outlives its closed stdin gets SIGTERM after
# 5 s and, ignoring that, SIGKILL after 8 s, and is reaped; SIGTERM to the
# proxy passes SIGTERM to the server and exits 2 after writing the answers
# it holds; a client that stops reading ends the session; `--stats` counts
# what was decided.
. "$TG_SOURCE_DIR/tests/cli/data/lib.sh"

cat >"$TMP/p.tg" <<'POL'
policy "lifecycle" version "1";
default deny;
allow anyone to list tools;
rule "echo": allow anyone to call tool "echo";
rule "big": allow anyone to call tool "big";
POL
"$TOOLGATE" compile "$TMP/p.tg" -o "$TMP/p.tgb" 2>"$TMP/err" || fail "policy does not compile"

# server.sh LOG MODE: answers tools/list with two tools, a call of "big"
# with a line of 64 MiB and more (past the proxy's bound for server lines),
# every other request with {"ok":true}, logging lines
# and what happens to it. When its stdin ends, MODE says what it does next:
# exit; linger (sleep until a signal ends it); stubborn (ignore SIGTERM too).
cat >"$TMP/server.sh" <<'SRV'
log=$1 mode=$2
echo "pid $$" >>"$log"
case $mode in
stubborn) trap '' TERM ;;
*) trap 'echo got-TERM >>"$log"; exit 0' TERM ;;
esac
while IFS= read -r line; do
	printf '%s\n' "$line" >>"$log"
	id=$(printf '%s' "$line" | sed -n 's/^{"jsonrpc":"2.0","id":\([0-9][0-9]*\),.*/\1/p')
	[ -z "$id" ] && continue
	case $line in
	*'"method":"tools/list"'*)
		printf '{"jsonrpc":"2.0","id":%s,"result":{"tools":[{"name":"echo"},{"name":"big"}]}}\n' "$id" ;;
	*'"name":"big"'*)
		printf '{"jsonrpc":"2.0","id":%s,"result":{"pad":"' "$id"
		head -c 67108864 /dev/zero | tr '\0' a
		printf '"}}\n' ;;
	*) printf '{"jsonrpc":"2.0","id":%s,"result":{"ok":true}}\n' "$id" ;;
	esac
done
echo stdin-closed >>"$log"
[ "$mode" = exit ] && exit 0
while :; do
	sleep 1 &
	wait $!
done
SRV

CALL='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{}}}'
DENIED='{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"rm","arguments":{}}}'

# gone PID: fails unless process PID has ended (a zombie counts as running).
gone() {
	if [ -e "/proc/$1" ]; then
		fail "process $1 is still there: $(cat "/proc/$1/status" 2>/dev/null | sed -n 's/^State://p')"
		kill -KILL "$1" 2>/dev/null
	fi
}

# server_pid LOG: the server's pid, from the first line of its log.
server_pid() {
	sed -n 's/^pid //p' "$1" | head -n 1
}

# ---- the client closes stdin; the server stays -------------------------------------
# Both run at once: the SIGTERM comes after 5 s, the SIGKILL after 8 s.
printf '%s\n' "$CALL" >"$TMP/in"
for mode in linger stubborn; do
	(
		start=$(date +%s%3N)
		"$TOOLGATE" proxy --policy "$TMP/p.tgb" --principal a --audit /dev/null \
			-- sh "$TMP/server.sh" "$TMP/$mode.log" $mode <"$TMP/in" >"$TMP/$mode.out" \
			2>"$TMP/$mode.err"
		echo "$? $(($(date +%s%3N) - start))" >"$TMP/$mode.rc"
	) &
done
wait
for mode in linger stubborn; do
	read -r rc ms <"$TMP/$mode.rc"
	[ "$rc" -eq 0 ] || fail "$mode server: exit status $rc, want 0"
	has "$TMP/$mode.out" '^{"jsonrpc":"2.0","id":1,"result":{"ok":true}}$'
	has "$TMP/$mode.log" '^stdin-closed$'
	has "$TMP/$mode.err" 'the MCP server did not exit after its stdin closed; sending SIGTERM'
	[ "$ms" -ge 5000 ] || fail "$mode server: the proxy ended after $ms ms, before the 5 s grace"
	gone "$(server_pid "$TMP/$mode.log")"
done
# The lingering server ends at the SIGTERM; the stubborn one needs the
# SIGKILL, three seconds later. Both ran at once, so their difference holds
# however slowly the proxy started (under valgrind, on a loaded machine).
has "$TMP/linger.log" '^got-TERM$'
lacks "$TMP/stubborn.log" 'got-TERM'
read -r rc linger <"$TMP/linger.rc"
read -r rc stubborn <"$TMP/stubborn.rc"
[ $((stubborn - linger)) -ge 2000 ] ||
	fail "the stubborn server ended $((stubborn - linger)) ms after the lingering one, want about 3000"
[ "$stubborn" -ge 8000 ] || fail "the stubborn server ended after $stubborn ms, before the SIGKILL at 8 s"

# ---- SIGTERM to the proxy ---------------------------------------------------------
# The server gets SIGTERM at once, the answer already on its way is written,
# and the proxy exits 2 without waiting for any grace period.
mkfifo "$TMP/term.in"
"$TOOLGATE" proxy --policy "$TMP/p.tgb" --principal a --audit /dev/null \
	-- sh "$TMP/server.sh" "$TMP/term.log" linger <"$TMP/term.in" >"$TMP/term.out" \
	2>"$TMP/term.err" &
pid=$!
exec 3>"$TMP/term.in"
printf '%s\n' "$CALL" >&3
wait_for "$TMP/term.out" '"id":1' || fail "no answer before SIGTERM"
start=$(date +%s%3N)
kill -TERM "$pid"
wait "$pid"
rc=$?
ms=$(($(date +%s%3N) - start))
exec 3>&-
[ "$rc" -eq 2 ] || fail "SIGTERM: exit status $rc, want 2"
[ "$ms" -lt 5000 ] || fail "SIGTERM: the proxy took $ms ms to stop, as if it waited for a grace"
has "$TMP/term.log" '^got-TERM$'
has "$TMP/term.out" '^{"jsonrpc":"2.0","id":1,"result":{"ok":true}}$'
gone "$(server_pid "$TMP/term.log")"

# ---- the client stops reading ------------------------------------------------------
# Its stdin stays open, but the answer cannot be written: the proxy closes
# the server's stdin, the server exits, and so does the proxy.
mkfifo "$TMP/deaf.in"
(
	"$TOOLGATE" proxy --policy "$TMP/p.tgb" --principal a --audit /dev/null \
		-- sh "$TMP/server.sh" "$TMP/deaf.log" exit <"$TMP/deaf.in" 2>"$TMP/deaf.err"
	echo $? >"$TMP/deaf.rc"
) | true &
exec 3>"$TMP/deaf.in"
printf '%s\n' "$CALL" >&3
wait_for "$TMP/deaf.rc" . || fail "the proxy did not end when its client stopped reading"
exec 3>&-
wait
has "$TMP/deaf.rc" '^0$'
has "$TMP/deaf.log" '^stdin-closed$'
gone "$(server_pid "$TMP/deaf.log")"

# ---- a server answer past the line limit --------------------------------------------
# Discarded with bounded memory; the call gets -32004, the next one its answer.
BIG='{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"big","arguments":{}}}'
printf '%s\n' "$BIG" "$CALL" >"$TMP/in"
run_in "$TMP/in" 0 proxy --policy "$TMP/p.tgb" --principal a --audit /dev/null \
	-- sh "$TMP/server.sh" "$TMP/big.log" exit
has "$TMP/out" '^{"jsonrpc":"2.0","id":3,"error":{"code":-32004,"message":"toolgate: the server'"'"'s answer could not be read: it was longer than the line limit"}}$'
has "$TMP/out" '^{"jsonrpc":"2.0","id":1,"result":{"ok":true}}$'
has "$TMP/err" 'dropped a server message: longer than the line limit'
lines=$(wc -l <"$TMP/out")
[ "$lines" -eq 2 ] || fail "the client got $lines lines, want 2"

# ---- --stats ----------------------------------------------------------------------
printf '%s\n' "$CALL" "$DENIED" 'not json' >"$TMP/in"
run_in "$TMP/in" 0 proxy --policy "$TMP/p.tgb" --principal a --audit /dev/null --stats \
	-- sh "$TMP/server.sh" "$TMP/stats.log" exit
has "$TMP/err" '^toolgate: proxy: stats: 1 allowed, 1 denied, 0 invalid, 0 passed, 1 refused, 0 list entries hidden, 0 cancelled, 0 timed out; cpu [0-9.]* s in all, [0-9.]* s deciding ([0-9.]* us per decision)$'

finish
