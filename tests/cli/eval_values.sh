# eval_values.sh - `any/all value of args` end to end: the JSON reader
# hands the whole arguments tree to the runtime when (and only when) the
# policy quantifies over it (docs/language.md §11), and then every
# argument counts as read.
. "$TG_SOURCE_DIR/tests/cli/data/lib.sh"

cat >"$TMP/p.tg" <<'POLICY'
policy "values" version "1";
rule "no-traversal": deny anyone to call any tool
  when any value of args contains ".." because "no argument may climb";
rule "files": allow anyone to call tool "fs.*" when all value of args.paths under "/srv";
rule "echo": allow anyone to call tool "echo";
POLICY
ID='"principal":{"id":"rui"},"method":"tools/call"'
{
	echo "{$ID,\"target\":\"echo\",\"args\":{\"a\":{\"b\":[\"x\",{\"c\":\"../y\"}]}}}"
	echo "{$ID,\"target\":\"echo\",\"args\":{\"n\":5,\"s\":\"hi\",\"k..\":true}}"
	echo "{$ID,\"target\":\"echo\"}"
	echo "{$ID,\"target\":\"fs.read\",\"args\":{\"paths\":[\"/srv/a\",\"/srv/b\"]}}"
	echo "{$ID,\"target\":\"fs.read\",\"args\":{\"paths\":[\"/srv/a\",3,null]}}"
	echo "{$ID,\"target\":\"fs.read\",\"args\":{\"paths\":[\"/srv/a\",\"/etc/x\"]}}"
	echo "{$ID,\"target\":\"fs.read\",\"args\":{\"path\":\"/srv/a\"}}"
	# every argument is read: a string in another spelling is refused
	echo "{$ID,\"target\":\"echo\",\"args\":{\"deep\":[{\"s\":\"cafe\\u0301\"}]}}"
} >"$TMP/in.jsonl"
run_in "$TMP/in.jsonl" 2 eval "$TMP/p.tg"
[ "$(wc -l <"$TMP/out")" -eq 8 ] || fail "want 8 decision lines"
line() { sed -n "${1}p" "$TMP/out"; }
[ "$(line 1)" = '{"decision":"deny","rule":"no-traversal","reason":"no argument may climb","errors":[]}' ] ||
	fail "line 1 is not the traversal deny: $(line 1)"
line 2 | grep -q '"decision":"allow","rule":"echo"' || fail "line 2: a key is not a value"
line 3 | grep -q '"decision":"allow","rule":"echo"' || fail "line 3: no arguments is {}"
line 4 | grep -q '"decision":"allow","rule":"files"' || fail "line 4 is not the files allow"
line 5 | grep -q '"decision":"allow","rule":"files"' || fail "line 5: a number is not a path"
line 6 | grep -q '"decision":"deny","rule":null' || fail "line 6 is not the default"
line 7 | grep -q "'args.paths' is absent" || fail "line 7 lacks the absent error"
line 8 | grep -q '"invalid":true' || fail "line 8 is not invalid"
has "$TMP/err" "<stdin>:8: invalid request: .* is not in Unicode NFC"
lacks "$TMP/err" '<stdin>:[1-7]:'

# The same request through a policy without a quantifier: the tree is not
# needed, unread arguments are left alone.
cat >"$TMP/q.tg" <<'POLICY'
rule "echo": allow anyone to call tool "echo";
POLICY
sed -n 8p "$TMP/in.jsonl" >"$TMP/one.json"
run 0 eval "$TMP/q.tg" --request "$TMP/one.json"
has "$TMP/out" '"decision":"allow","rule":"echo"'

# The string limit, too, applies to every argument under a quantifier
# (docs/limits.md), and to none of them without one.
big_request "$TMP/big.json" echo
run 2 eval "$TMP/p.tg" --request "$TMP/big.json"
has "$TMP/err" "a string is longer than 65536 bytes"
run 0 eval "$TMP/q.tg" --request "$TMP/big.json"
has "$TMP/out" '"decision":"allow","rule":"echo"'

finish
