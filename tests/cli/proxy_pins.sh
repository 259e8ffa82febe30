# proxy_pins.sh - tool definitions pinned by digest (--write-pins, --pin)
# and annotations overridden per tool (--annotations), against a server that
# changes a tool's description between listings (tests/proxy/fake_server.py
# rugpull): the changed tool is hidden and denied, with the audit saying why.
. "$TG_SOURCE_DIR/tests/cli/data/lib.sh"
FAKE="$TG_SOURCE_DIR/tests/proxy/fake_server.py"
need python3

cat >"$TMP/p.tg" <<'POL'
policy "proxy-pins" version "1";
default deny;
allow anyone to list tools;
rule "ro": allow anyone to call any tool when tool.read_only;
POL
"$TOOLGATE" compile "$TMP/p.tg" -o "$TMP/p.tgb" 2>"$TMP/err" || fail "policy does not compile"
LIST='{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
LIST2='{"jsonrpc":"2.0","id":2,"method":"tools/list"}'
CALL='{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo"}}'

# Pins as reviewed: every tool the server lists.
printf '%s\n' "$LIST" >"$TMP/in"
run_in "$TMP/in" 0 proxy --policy "$TMP/p.tgb" --principal alice --audit /dev/null \
	--write-pins "$TMP/pins.json" -- python3 "$FAKE" rugpull "$TMP/log"
has "$TMP/err" "wrote the pins of 2 tools to '$TMP/pins.json'"
has "$TMP/pins.json" '"echo": "[0-9a-f]\{64\}"'
has "$TMP/pins.json" '"secret": "[0-9a-f]\{64\}"'

# Written as `compile -o` writes (a temporary file beside it, then a
# rename): through a symbolic link, the file it names; the link stays.
: >"$TMP/pins-target.json"
ln -s pins-target.json "$TMP/pins-link.json"
run_in "$TMP/in" 0 proxy --policy "$TMP/p.tgb" --principal alice --audit /dev/null \
	--write-pins "$TMP/pins-link.json" -- python3 "$FAKE" rugpull "$TMP/log"
[ -L "$TMP/pins-link.json" ] || fail "--write-pins replaced the symbolic link"
same "$TMP/pins-target.json" "$TMP/pins.json"

# The second listing changes echo's description: from then on echo is
# hidden and its call denied, the audit saying why; the other tool stays.
printf '%s\n' "$LIST" "$LIST2" "$CALL" >"$TMP/in"
run_in "$TMP/in" 0 proxy --policy "$TMP/p.tgb" --principal alice --audit "$TMP/audit" \
	--pin "$TMP/pins.json" -- python3 "$FAKE" rugpull "$TMP/log"
has "$TMP/out" '^{"jsonrpc":"2.0","id":1,"result":{"tools":\[{"name":"echo"'
has "$TMP/out" '^{"jsonrpc":"2.0","id":2,"result":{"tools":\[{"name":"secret"'
has "$TMP/out" '^{"jsonrpc":"2.0","id":3,"result":{"content":\[{"type":"text","text":"toolgate: denied: the definition of tool '"'echo'"' changed since it was pinned'
lacks "$TMP/out" 'echoed'
has "$TMP/audit" '"target":"echo","decision":"deny","rule":null,"reason":"the definition of tool '"'echo'"' changed since it was pinned (it digests to [0-9a-f]\{64\} now)"'

# Re-pinned (the changed definition reviewed and accepted) and SIGHUP: the
# tool is back, without a restart.
printf '%s\n' "$LIST" "$LIST2" >"$TMP/in"
run_in "$TMP/in" 0 proxy --policy "$TMP/p.tgb" --principal alice --audit /dev/null \
	--write-pins "$TMP/pins2.json" -- python3 "$FAKE" rugpull "$TMP/log"
mkfifo "$TMP/hup.in"
# A proxy that died must fail the checks below, not kill this script.
trap '' PIPE
# The background job truncates out and err only when it starts: the
# previous run's answers must not be there for wait_for to find, or the
# SIGHUP below can reach a proxy that has not set up its handler yet.
rm -f "$TMP/out" "$TMP/err"
"$TOOLGATE" proxy --policy "$TMP/p.tgb" --principal alice --audit /dev/null \
	--pin "$TMP/pins.json" -- python3 "$FAKE" rugpull "$TMP/log" \
	<"$TMP/hup.in" >"$TMP/out" 2>"$TMP/err" &
pid=$!
exec 3>"$TMP/hup.in"
printf '%s\n' "$LIST" "$LIST2" >&3
wait_for "$TMP/out" '"id":2,' || fail "no answer to the second listing"
cp "$TMP/pins2.json" "$TMP/pins.json"
kill -HUP "$pid"
wait_for "$TMP/err" 're-read the pins' || { fail "no re-read after SIGHUP"; sed "s/^/    proxy: /" "$TMP/err" >&2; }
printf '%s\n' '{"jsonrpc":"2.0","id":4,"method":"tools/list"}' >&3
wait_for "$TMP/out" '"id":4,' || fail "no answer to the listing after re-pinning"
exec 3>&-
wait "$pid" || fail "proxy after SIGHUP: exit status $?"
has "$TMP/out" '^{"jsonrpc":"2.0","id":2,"result":{"tools":\[{"name":"secret"'
has "$TMP/out" '^{"jsonrpc":"2.0","id":4,"result":{"tools":\[{"name":"echo"'

# Without pins the same call passes (the test above is the pins' doing).
printf '%s\n' "$LIST" "$LIST2" "$CALL" >"$TMP/in"
run_in "$TMP/in" 0 proxy --policy "$TMP/p.tgb" --principal alice --audit /dev/null \
	-- python3 "$FAKE" rugpull "$TMP/log"
has "$TMP/out" '"id":3,"result":{"content":\[{"type":"text","text":"echoed"}'

# The operator's annotations over the server's: echo is not read-only.
printf '{"tools":{"echo":{"readOnlyHint":false}}}' >"$TMP/ann.json"
printf '%s\n' "$LIST" "$CALL" >"$TMP/in"
run_in "$TMP/in" 0 proxy --policy "$TMP/p.tgb" --principal alice --audit /dev/null \
	--annotations "$TMP/ann.json" -- python3 "$FAKE" rugpull "$TMP/log"
has "$TMP/out" '"id":1,"result":{"tools":\[{"name":"secret"'
has "$TMP/out" '"id":3,"result":{"content":\[{"type":"text","text":"toolgate: denied: no rule allows tools/call echo"'

# Files that do not read are usage errors.
# unusable OPTION TEXT WANT: the proxy refuses to start with OPTION naming a
# file of TEXT (printf format), saying WANT.
unusable() {
	printf "$2" >"$TMP/bad.json"
	run 2 proxy --policy "$TMP/p.tgb" --principal a "$1" "$TMP/bad.json" -- cat
	has "$TMP/err" "$3"
}
unusable --pin '{"tools":{"echo":"abc"}}' "tool 'echo' is not 64 lowercase hex digits"
unusable --annotations '{"tools":{"echo":{"readOnlyHint":"yes"}}}' \
	"tool 'echo' has a hint that is not true or false"
# A misspelt hint is refused: it would override nothing, silently.
unusable --annotations '{"tools":{"echo":{"destructivehint":true}}}' \
	"bad.json: tool 'echo' has 'destructivehint', which is not readOnlyHint, destructiveHint, idempotentHint or openWorldHint"
unusable --annotations '{"tools":{"echo":{}}}' "tool 'echo' overrides nothing"
unusable --annotations '{"tools":{"echo":true}}' "tool 'echo' is not an object of annotations"
unusable --pin '{"tools":[]}' 'bad.json: want {"tools":{...}}'
unusable --pin '{"tools":{"echo":\n  nope}}' "bad.json:2:[0-9]*: "
run 0 proxy --help
has "$TMP/out" '--write-pins FILE'

finish
