# eval_invalid.sh - requests that cannot be read are denied, never skipped:
# a deny line marked invalid, a message on stderr, exit 2 at the end.
. "$TG_SOURCE_DIR/tests/cli/data/lib.sh"

POLICY="$DATA/basic.tg"
GOOD='{"principal":{"id":"rui","roles":["reader"]},"method":"tools/call","target":"search_docs","context":{"environment":"dev"}}'
ALLOW='{"decision":"allow","rule":"readers-read","reason":null,"errors":[]}'
INVALID='^{"decision":"deny","rule":null,"reason":"invalid request: [^"]*","errors":\[\],"invalid":true}$'

# Malformed, invalid and good lines mixed: every line answered in order.
{
	echo "$GOOD"
	echo '{"principal":{"id":"rui"},'
	echo '{"principal":{"id":"rui"},"method":"tools/call"}'
	echo '   '
	echo "$GOOD"
	echo '{"principal":{"id":"rui"},"method":"tools/list","extra":1}'
	echo '{"principal":{"id":"a","id":"b"},"method":"tools/list"}'
	echo '{"principal":{"id":"rui"},"method":"resources/read","target":"file:///a/../etc/passwd"}'
	echo '[]'
} >"$TMP/mixed.jsonl"
run_in "$TMP/mixed.jsonl" 2 eval "$POLICY"
[ "$(wc -l <"$TMP/out")" -eq 8 ] || fail "want 8 decision lines"
[ "$(sed -n 1p "$TMP/out")" = "$ALLOW" ] || fail "line 1 is not the allow"
[ "$(sed -n 4p "$TMP/out")" = "$ALLOW" ] || fail "line 4 is not the allow"
for n in 2 3 5 6 7 8; do
	sed -n "${n}p" "$TMP/out" >"$TMP/line"
	has "$TMP/line" "$INVALID"
done
has "$TMP/err" '<stdin>:2: invalid request: malformed JSON'
has "$TMP/err" '<stdin>:3: invalid request: tools/call needs a target'
has "$TMP/err" "<stdin>:6: invalid request: unknown top-level key 'extra'"
has "$TMP/err" '<stdin>:7: invalid request: duplicate key'
has "$TMP/err" '<stdin>:8: invalid request: '
has "$TMP/err" '<stdin>:9: invalid request: a request must be a JSON object'
lacks "$TMP/err" '<stdin>:1:'
lacks "$TMP/err" '<stdin>:4:'

# All good: exit 0. Empty input: no output, exit 0.
echo "$GOOD" >"$TMP/good.jsonl"
run_in "$TMP/good.jsonl" 0 eval "$POLICY"
[ "$(cat "$TMP/out")" = "$ALLOW" ] || fail "good request not allowed"
run_in /dev/null 0 eval "$POLICY"
empty "$TMP/out"

# --request with an invalid body: the deny line, exit 2.
printf '{"principal":{"id":"rui"},"method":7}' >"$TMP/bad.json"
run 2 eval "$POLICY" --request "$TMP/bad.json"
has "$TMP/out" "$INVALID"
has "$TMP/err" 'bad.json: invalid request: method must be a string'

# Body limit: 1 MiB is read, one byte more is invalid (also on stdin).
# pad N: $GOOD followed by spaces up to N bytes, then a newline.
pad() {
	printf '%s' "$GOOD"
	head -c $(($1 - ${#GOOD})) /dev/zero | tr '\0' ' '
	echo
}
pad 1048576 >"$TMP/at.json"
pad 1048577 >"$TMP/past.json"
run_in "$TMP/at.json" 0 eval "$POLICY"
[ "$(cat "$TMP/out")" = "$ALLOW" ] || fail "1 MiB request not decided"
run_in "$TMP/past.json" 2 eval "$POLICY"
has "$TMP/out" "$INVALID"
has "$TMP/err" 'larger than 1048576 bytes'
tr -d '\n' <"$TMP/past.json" >"$TMP/past1.json"
run 2 eval "$POLICY" --request "$TMP/past1.json"
has "$TMP/out" "$INVALID"

# --explain and --audit also answer invalid requests.
run 2 eval "$POLICY" --request "$TMP/bad.json" --explain --audit
has "$TMP/out" "$INVALID"
has "$TMP/err" '=> deny: invalid request: method must be a string'
has "$TMP/err" '"decision":"deny"'

finish
