# eval_unicode.sh - issue 15: a string a rule reads must be in Unicode NFC
# (docs/language.md "Unicode spellings"), because servers that normalise
# would otherwise let a second spelling past a rule on the first; values
# no rule reads, and long ones among them, are left alone.
. "$TG_SOURCE_DIR/tests/cli/data/lib.sh"

cat >"$TMP/p.tg" <<'POLICY'
policy "unicode" version "1";
rule "no-keys": deny anyone to call tool "read_file" when args.path under "/srv/Keys";
rule "no-cafe": deny anyone to call tool "caf\u{e9}*";
rule "files": allow anyone to call tool "read_file";
rule "writes": allow anyone to call tool "write_file";
POLICY
ID='"principal":{"id":"rui"},"method":"tools/call"'
{
	# KELVIN SIGN for K, escaped and raw: both refused, never allowed.
	echo "{$ID,\"target\":\"read_file\",\"args\":{\"path\":\"/srv/\\u212Aeys/id\"}}"
	printf '{%s,"target":"read_file","args":{"path":"/srv/\342\204\252eys/id"}}\n' "$ID"
	# e + COMBINING ACUTE in the target.
	echo "{$ID,\"target\":\"cafe\\u0301-menu\"}"
	# The NFC spelling is decided as usual.
	echo "{$ID,\"target\":\"read_file\",\"args\":{\"path\":\"/srv/Keys/id\"}}"
	# Unread: file contents in another spelling pass.
	echo "{$ID,\"target\":\"write_file\",\"args\":{\"content\":\"\\u212A cafe\\u0301\"}}"
} >"$TMP/in.jsonl"
run_in "$TMP/in.jsonl" 2 eval "$TMP/p.tg"
[ "$(wc -l <"$TMP/out")" -eq 5 ] || fail "want 5 decision lines"
has "$TMP/err" "<stdin>:1: invalid request: 'args.path' is not in Unicode NFC"
has "$TMP/err" "<stdin>:2: invalid request: 'args.path' is not in Unicode NFC"
has "$TMP/err" "<stdin>:3: invalid request: 'target' is not in Unicode NFC"
lacks "$TMP/err" '<stdin>:4:'
lacks "$TMP/err" '<stdin>:5:'
[ "$(sed -n 4p "$TMP/out")" = '{"decision":"deny","rule":"no-keys","reason":null,"errors":[]}' ] ||
	fail "line 4 is not the deny"
sed -n 5p "$TMP/out" | grep -q '"decision":"allow","rule":"writes"' || fail "line 5 is not the allow"

# A 100 KiB file written through a policy that never reads its content.
big_request "$TMP/big.json" write_file '"path":"/tmp/x",'
run 0 eval "$TMP/p.tg" --request "$TMP/big.json"
has "$TMP/out" '"decision":"allow","rule":"writes"'

finish
