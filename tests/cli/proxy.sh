# proxy.sh - `toolgate proxy` as a process, with a fake MCP server written
# in sh that logs every line it receives and answers each request with
# {"ok":true}: denied and malformed messages never reach it, allowed ones
# arrive byte for byte, the server exiting or missing is reported, and the
# usage errors are usage errors. (Real MCP peers: proxy_e2e.sh.)
. "$TG_SOURCE_DIR/tests/cli/data/lib.sh"

cat >"$TMP/server.sh" <<'SRV'
log=$1
while IFS= read -r line; do
	printf '%s\n' "$line" >>"$log"
	case $line in
	*'"method":"crash"'*) exit 3 ;;
	esac
	id=$(printf '%s' "$line" | sed -n 's/^{"jsonrpc":"2.0","id":\([0-9][0-9]*\),.*/\1/p')
	[ -n "$id" ] && printf '{"jsonrpc":"2.0","id":%s,"result":{"ok":true}}\n' "$id"
done
exit 0
SRV
cat >"$TMP/p.tg" <<'POL'
policy "proxy-cli" version "1";
role reader;
default deny;
allow anyone to list tools;
allow anyone to invoke "crash";
rule "echo": allow role reader to call tool "echo" when context.tier == 2;
rule "no-rm": deny anyone to call tool "rm" because "never";
POL
"$TOOLGATE" compile "$TMP/p.tg" -o "$TMP/p.tgb" 2>"$TMP/err" || fail "policy does not compile"

LIST='{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
LISTED='{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"echo","annotations":{"readOnlyHint":true}},{"name":"rm"}]}}'
ECHO='{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"x":1}}}'
RM='{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"rm"}}'
DUP='{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","name":"rm"}}'
LONG="{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"pad\":\"$(printf '%0300d' 0)\"}}"

# The same, also answering tools/list with $LISTED (under the request's id).
cat >"$TMP/list_server.sh" <<SRV
log=\$1
while IFS= read -r line; do
	printf '%s\n' "\$line" >>"\$log"
	case \$line in
	*'"method":"tools/list"'*)
		id=\$(printf '%s' "\$line" | sed -n 's/^{"jsonrpc":"2.0","id":\([^,]*\),.*/\1/p')
		printf '%s\n' '$LISTED' | sed "s/\"id\":1,/\"id\":\$id,/" ;;
	*'"method":"crash"'*) exit 3 ;;
	*'"id":'*)
		id=\$(printf '%s' "\$line" | sed -n 's/^{"jsonrpc":"2.0","id":\([0-9][0-9]*\),.*/\1/p')
		[ -n "\$id" ] && printf '{"jsonrpc":"2.0","id":%s,"result":{"ok":true}}\n' "\$id" ;;
	esac
done
SRV

# Allowed, denied, malformed, oversized; then stdin closes: exit 0.
printf '%s\n' "$LIST" "$ECHO" "$RM" "$DUP" "$LONG" 'not json' >"$TMP/in"
run_in "$TMP/in" 0 proxy --policy "$TMP/p.tgb" --principal alice --role reader \
	--context tier=2 --max-line 200 --audit "$TMP/audit" -- sh "$TMP/list_server.sh" "$TMP/log"
has "$TMP/out" '^{"jsonrpc":"2.0","id":2,"result":{"ok":true}}$'
has "$TMP/out" '^{"jsonrpc":"2.0","id":3,"result":{"content":\[{"type":"text","text":"toolgate: denied by rule '"'no-rm'"': never"}\],"isError":true,"resultType":"complete","_meta":{"toolgate/denial":{"code":-32003,"rule":"no-rm","reason":"never"}}}}$'
has "$TMP/out" '^{"jsonrpc":"2.0","id":4,"error":{"code":-32600,'
has "$TMP/out" '^{"jsonrpc":"2.0","id":5,"error":{"code":-32600,"message":"toolgate: longer than the line limit"}}$'
has "$TMP/err" 'refused a client message: longer than the line limit'
has "$TMP/err" 'refused a client message: malformed JSON'
# tools/list is filtered: rm is not visible.
has "$TMP/out" '"id":1,"result":{"tools":\[{"name":"echo"'
lacks "$TMP/out" '"name":"rm"'
# The server saw listings (the client's, and the proxy's own when echo was
# called before the client's listing came back) and the allowed call, byte
# for byte but for the id, which is the proxy's, and nothing else.
has "$TMP/log" "^$(printf '%s' "$ECHO" | sed 's/[][\.*^$]/\\&/g; s/"id":2,/"id":[0-9]*,/')\$"
calls=$(grep -c '"tools/call"' "$TMP/log")
[ "$calls" -eq 1 ] || fail "the server received $calls tools/call lines, want 1"
others=$(grep -vc '"tools/call"\|"method":"tools/list"' "$TMP/log")
[ "$others" -eq 0 ] || fail "the server received $others unexpected lines"
lacks "$TMP/log" '"rm"'
lacks "$TMP/log" 'not json'
has "$TMP/audit" '"target":"echo","decision":"allow","rule":"echo"'
has "$TMP/audit" '"target":"rm","decision":"deny","rule":"no-rm"'

# The context is part of the decision: without tier=2 echo is denied.
: >"$TMP/log"
printf '%s\n' "$LIST" "$ECHO" >"$TMP/in"
run_in "$TMP/in" 0 proxy --policy "$TMP/p.tgb" --principal alice --role reader \
	--deny-as error --audit /dev/null -- sh "$TMP/list_server.sh" "$TMP/log"
has "$TMP/out" '^{"jsonrpc":"2.0","id":2,"error":{"code":-32003,"message":"toolgate: denied: no rule allows tools/call echo","data":{"rule":null,"reason":"no rule allows tools/call echo"}}}$'
lacks "$TMP/log" '"tools/call"'

# An audit log that cannot be written (/dev/full: ENOSPC) denies every
# decision, says so on stderr, and the server sees no call.
if [ -w /dev/full ]; then
	: >"$TMP/log"
	run_in "$TMP/in" 0 proxy --policy "$TMP/p.tgb" --principal alice --role reader \
		--context tier=2 --deny-as error --audit /dev/full -- sh "$TMP/list_server.sh" "$TMP/log"
	has "$TMP/out" '^{"jsonrpc":"2.0","id":2,"error":{"code":-32003,"message":"toolgate: denied: the audit log cannot be written","data":{"rule":null,"reason":"the audit log cannot be written"}}}$'
	has "$TMP/err" 'proxy: cannot write the audit log; denying'
	lacks "$TMP/log" '"tools/call"'
else
	echo "note: /dev/full is not writable here; the audit-failure check is skipped" >&2
fi

# An --identity file gives the same identity.
printf '{"principal":{"id":"alice","roles":["reader"]},"context":{"tier":2}}' >"$TMP/id.json"
: >"$TMP/log"
run_in "$TMP/in" 0 proxy --policy "$TMP/p.tgb" --identity "$TMP/id.json" --audit /dev/null \
	-- sh "$TMP/list_server.sh" "$TMP/log"
has "$TMP/out" '"id":2,"result":{"ok":true}'

# The steps below talk to a running proxy (wait_for: lib.sh).

# The server dies with a request in flight: it is answered, exit 2. The
# client keeps stdin open until then (a fifo held by fd 3).
mkfifo "$TMP/crash.in"
"$TOOLGATE" proxy --policy "$TMP/p.tgb" --principal alice --audit /dev/null \
	-- sh "$TMP/server.sh" "$TMP/log2" <"$TMP/crash.in" >"$TMP/out" 2>"$TMP/err" &
pid=$!
exec 3>"$TMP/crash.in"
printf '%s\n' '{"jsonrpc":"2.0","id":7,"method":"crash"}' >&3
wait_for "$TMP/out" '"id":7' || fail "no answer to the request in flight"
exec 3>&-
wait "$pid"
rc=$?
[ "$rc" -eq 2 ] || fail "server crash: exit status $rc, want 2"
has "$TMP/out" '^{"jsonrpc":"2.0","id":7,"error":{"code":-32004,"message":"toolgate: the MCP server exited","data":{"reason":"exited with status 3"}}}$'
has "$TMP/err" 'the MCP server exited with status 3'

# SIGHUP reloads at once (here: the same policy, announced again). The
# signal is sent once the proxy runs its server, so its handler is in place.
mkfifo "$TMP/hup.in"
"$TOOLGATE" proxy --policy "$TMP/p.tgb" --principal a --audit /dev/null -- cat \
	<"$TMP/hup.in" >/dev/null 2>"$TMP/err" &
pid=$!
exec 3>"$TMP/hup.in"
n=0
while [ -z "$(cat "/proc/$pid/task/$pid/children" 2>/dev/null)" ] && [ "$n" -lt 600 ]; do
	n=$((n + 1))
	sleep 0.1
done
kill -HUP "$pid"
wait_for "$TMP/err" "reloaded policy 'proxy-cli' version 1" || fail "no reload after SIGHUP"
exec 3>&-
wait "$pid" || fail "proxy after SIGHUP: exit status $?"

# SIGUSR1 opens the audit log again (log rotation): a decision before the
# rename lands in the renamed file, one after it in a new file of the name.
mkfifo "$TMP/usr1.in"
: >"$TMP/log"
"$TOOLGATE" proxy --policy "$TMP/p.tgb" --principal alice --role reader --context tier=2 \
	--audit "$TMP/rot.audit" -- sh "$TMP/list_server.sh" "$TMP/log" \
	<"$TMP/usr1.in" >"$TMP/out" 2>"$TMP/err" &
pid=$!
exec 3>"$TMP/usr1.in"
printf '%s\n' "$LIST" >&3
wait_for "$TMP/rot.audit" '"method":"tools/list"' || fail "no audit line before the rotation"
mv "$TMP/rot.audit" "$TMP/rot.audit.1"
kill -USR1 "$pid"
wait_for "$TMP/err" "reopened the audit log" || fail "no reopen after SIGUSR1"
printf '%s\n' "$ECHO" >&3
wait_for "$TMP/out" '"id":2,' || fail "no answer after the rotation"
exec 3>&-
wait "$pid" || fail "proxy after SIGUSR1: exit status $?"
has "$TMP/rot.audit" '"target":"echo","decision":"allow"'
lacks "$TMP/rot.audit" '"method":"tools/list"'
lacks "$TMP/rot.audit.1" '"target":"echo"'

# The server holds its stdin, stdout and stderr and nothing else of the
# proxy's: not the audit log, nor what the proxy itself inherited.
mkfifo "$TMP/fd.in"
"$TOOLGATE" proxy --policy "$TMP/p.tgb" --principal a --audit "$TMP/fd.audit" -- sleep 30 \
	<"$TMP/fd.in" >/dev/null 2>"$TMP/err" 7>"$TMP/inherited" &
pid=$!
exec 3>"$TMP/fd.in"
child=$(child_of "$pid" sleep)
std_fds_only "the server" "$child"
[ -z "$child" ] || kill "$child"
exec 3>&-
wait "$pid"

# A command that cannot run; a policy that does not load; usage errors.
run 2 proxy --policy "$TMP/p.tgb" --principal a -- "$TMP/no-such-server"
has "$TMP/err" "cannot run '$TMP/no-such-server'"
printf 'garbage' >"$TMP/bad.tgb"
run 1 proxy --policy "$TMP/bad.tgb" --principal a -- cat
run 2 proxy --principal a -- cat
has "$TMP/err" 'no policy given'
run 2 proxy --policy "$TMP/p.tgb" -- cat
has "$TMP/err" 'no principal'
run 2 proxy --policy "$TMP/p.tgb" --principal a
has "$TMP/err" 'no server command'
run 2 proxy --policy "$TMP/p.tgb" --principal a --bogus x -- cat
has "$TMP/err" "unknown option '--bogus'"
run 2 proxy --policy "$TMP/p.tgb" --principal a --context novalue -- cat
has "$TMP/err" 'KEY=VALUE'
run 2 proxy --policy "$TMP/p.tgb" --principal a --deny-as silence -- cat
has "$TMP/err" 'deny-as wants result or error'
run 0 proxy --help
has "$TMP/out" 'usage: toolgate proxy'

finish
