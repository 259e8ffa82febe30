# proxy_ids.sh - `toolgate proxy` in front of servers that mistreat request
# ids (tests/proxy/fake_server.py): a server that reads ids as doubles
# cannot route a list result to another request, and requests a server
# never answers are answered by the proxy after --request-timeout.
. "$TG_SOURCE_DIR/tests/cli/data/lib.sh"
FAKE="$TG_SOURCE_DIR/tests/proxy/fake_server.py"
need python3

cat >"$TMP/p.tg" <<'POL'
policy "proxy-ids" version "1";
default deny;
allow anyone to list tools;
rule "echo": allow anyone to call tool "echo";
POL
"$TOOLGATE" compile "$TMP/p.tg" -o "$TMP/p.tgb" 2>"$TMP/err" || fail "policy does not compile"


# 2^53 and 2^53 + 1 are one double. The call is left in flight, then the
# listing: the server answers the listing under the id it read. The client
# must get the filtered listing under the listing's id, never the listing
# under the call's.
mkfifo "$TMP/in1"
"$TOOLGATE" proxy --policy "$TMP/p.tgb" --principal alice --audit "$TMP/audit" \
	-- python3 "$FAKE" double "$TMP/log1" <"$TMP/in1" >"$TMP/out" 2>"$TMP/err" &
pid=$!
exec 3>"$TMP/in1"
printf '%s\n' '{"jsonrpc":"2.0","id":0,"method":"tools/list"}' >&3
wait_for "$TMP/out" '"id":0,' || fail "no answer to the first listing"
printf '%s\n' \
	'{"jsonrpc":"2.0","id":9007199254740992,"method":"tools/call","params":{"name":"echo"}}' \
	'{"jsonrpc":"2.0","id":9007199254740993,"method":"tools/list"}' >&3
wait_for "$TMP/out" '"id":9007199254740993' || fail "no answer to the second listing"
exec 3>&-
wait "$pid"
has "$TMP/out" '^{"jsonrpc":"2.0","id":9007199254740993,"result":{"tools":\[{"name":"echo"'
lacks "$TMP/out" '"id":9007199254740992'
lacks "$TMP/out" '"secret"'
# The server saw three distinct ids, none of the client's large ones.
ids=$(sed -n 's/.*"id":\([0-9]*\).*/\1/p' "$TMP/log1" | sort -u | wc -l)
[ "$ids" -eq 3 ] || fail "the server saw $ids distinct ids, want 3"
lacks "$TMP/log1" '900719925474099'

# A call the server never answers: answered by the proxy after the timeout,
# and cancelled at the server under the id it knows.
mkfifo "$TMP/in2"
"$TOOLGATE" proxy --policy "$TMP/p.tgb" --principal alice --audit /dev/null \
	--request-timeout 1000 -- python3 "$FAKE" silent "$TMP/log2" \
	<"$TMP/in2" >"$TMP/out" 2>"$TMP/err" &
pid=$!
exec 3>"$TMP/in2"
printf '%s\n' '{"jsonrpc":"2.0","id":"l","method":"tools/list"}' >&3
wait_for "$TMP/out" '"id":"l"' || fail "no answer to the listing"
printf '%s\n' '{"jsonrpc":"2.0","id":"c","method":"tools/call","params":{"name":"echo"}}' >&3
wait_for "$TMP/out" '"id":"c"' || fail "no answer to the call after the timeout"
wait_for "$TMP/log2" 'notifications/cancelled' || fail "the server was not told"
exec 3>&-
wait "$pid"
has "$TMP/out" '^{"jsonrpc":"2.0","id":"c","error":{"code":-32006,"message":"toolgate: no answer within 1000 ms"}}$'
call=$(sed -n 's/^{"jsonrpc":"2.0","id":\([0-9]*\),"method":"tools\/call".*/\1/p' "$TMP/log2")
[ -n "$call" ] || fail "the call never reached the server"
has "$TMP/log2" "\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":$call,"

run 2 proxy --policy "$TMP/p.tgb" --principal a --request-timeout -1 -- cat
has "$TMP/err" 'request-timeout wants milliseconds'
run 0 proxy --help
has "$TMP/out" '--request-timeout MS'

finish
