# compile_eval.sh - `toolgate compile`, then `toolgate eval` of the source and
# of the bytecode: same decisions, JSON lines in, JSON lines out.
. "$TG_SOURCE_DIR/tests/cli/data/lib.sh"

cp "$DATA/basic.tg" "$TMP/basic.tg"

# Default output: beside the input, .tg replaced by .tgb.
run 0 compile "$TMP/basic.tg"
empty "$TMP/out"
[ -s "$TMP/basic.tgb" ] || fail "compile did not write basic.tgb"
run 0 compile "$TMP/basic.tg" -o "$TMP/other.tgb"
same "$TMP/basic.tgb" "$TMP/other.tgb"	# byte-identical output
ls -a "$TMP" | grep -q '^\.basic' && fail "compile left a temporary file"

# eval of source and of bytecode agree, line for line.
run_in "$DATA/requests.jsonl" 0 eval "$TMP/basic.tg"
cp "$TMP/out" "$TMP/from-source"
run_in "$DATA/requests.jsonl" 0 eval "$TMP/basic.tgb"
cp "$TMP/out" "$TMP/from-bytecode"
same "$TMP/from-source" "$TMP/from-bytecode"

# One line per non-blank request, in order.
[ "$(wc -l <"$TMP/from-source")" -eq 8 ] || fail "want 8 decision lines"
head -n 4 "$TMP/from-source" >"$TMP/first4"
same "$TMP/first4" "$DATA/expected.jsonl"
sed -n 5p "$TMP/from-source" >"$TMP/l5"
# no-prod applied because its condition was an error (no environment):
# by_error says so; a deny by a true condition (line 2) has no by_error.
has "$TMP/l5" '^{"decision":"deny","rule":"no-prod","reason":"prod is admin only","errors":\[{"rule":"no-prod","message":"[^"]*"}\],"by_error":true}$'
sed -n 2p "$TMP/from-source" | grep -q by_error && fail "a deny by a true condition says by_error"
run_in "$DATA/requests.jsonl" 0 eval "$TMP/basic.tg" --audit
sed -n 5p "$TMP/err" | grep -q '"invalid":false,"by_error":true,' || fail "audit line 5 lacks by_error"
sed -n 2p "$TMP/err" | grep -q by_error && fail "audit line 2 says by_error"
sed -n 6p "$TMP/from-source" >"$TMP/l6"
has "$TMP/l6" '^{"decision":"allow","rule":"basic.tg:26","reason":null,"errors":\[\]}$'
sed -n 7p "$TMP/from-source" >"$TMP/l7"
has "$TMP/l7" '^{"decision":"deny","rule":null,"reason":null,"errors":\[\]}$'
sed -n 8p "$TMP/from-source" >"$TMP/l8"
has "$TMP/l8" '^{"decision":"deny","rule":null,"reason":null,"errors":\[{"rule":"eng-sql","message":"[^"]*"}\]}$'

# --request reads one object, which may span lines.
cat >"$TMP/req.json" <<'JSON'
{
  "principal": {"id": "erin", "roles": ["engineer"]},
  "method": "tools/call", "target": "postgres.query",
  "args": {"limit": 10}, "context": {"environment": "staging"}
}
JSON
run 0 eval "$TMP/basic.tgb" --request "$TMP/req.json"
head -n 1 "$DATA/expected.jsonl" >"$TMP/want"
same "$TMP/out" "$TMP/want"

# --explain and --audit write to stderr; stdout is unchanged.
run 0 eval "$TMP/basic.tg" --request "$TMP/req.json" --explain
same "$TMP/out" "$TMP/want"
has "$TMP/err" "allow rule 'eng-sql' (line 17): condition true, applies"
has "$TMP/err" "=> allow by rule 'eng-sql'"
# A method no rule covers: nothing to list but the default.
printf '{"principal":{"id":"erin"},"method":"prompts/get","target":"intro"}' >"$TMP/prompt.json"
run 0 eval "$TMP/basic.tg" --request "$TMP/prompt.json" --explain
has "$TMP/err" '^  no rule is a candidate for this method and target$'
has "$TMP/err" "^  => deny by default (no rule applied; the policy's default is deny)$"
run 0 eval "$TMP/basic.tg" --request "$TMP/req.json" --audit
same "$TMP/out" "$TMP/want"
has "$TMP/err" '"principal":"erin"'
has "$TMP/err" '"decision":"allow"'
has "$TMP/err" '"rule":"eng-sql"'

# A policy with errors: exit 1, no output file.
printf 'rule "x": allow role ghost to call tool "a";\n' >"$TMP/bad.tg"
run 1 compile "$TMP/bad.tg"
has "$TMP/err" "unknown role 'ghost'"
[ -e "$TMP/bad.tgb" ] && fail "compile wrote bytecode for a bad policy"
run 1 eval "$TMP/bad.tg" --request "$TMP/req.json"
empty "$TMP/out"

# Missing files are I/O errors.
run 2 compile "$TMP/missing.tg"
run 2 eval "$TMP/missing.tg" --request "$TMP/req.json"
run 2 eval "$TMP/missing.tgb" --request "$TMP/req.json"
run 2 eval "$TMP/basic.tgb" --request "$TMP/missing.json"
run 2 compile "$TMP/basic.tg" -o "$TMP/no/such/dir/x.tgb"

# A source past the 16 MiB limit is a wrong policy, said like a diagnostic.
head -c 16777217 /dev/zero | tr '\0' ' ' >"$TMP/huge.tg"
run 1 check "$TMP/huge.tg"
has "$TMP/err" "^$TMP/huge.tg: error: policy source is larger than 16777216 bytes$"
rm -f "$TMP/huge.tg"

# Bytecode that fails verification is a wrong policy (1) with a reason.
head -c 20 "$TMP/basic.tgb" >"$TMP/short.tgb"
run 1 eval "$TMP/short.tgb" --request "$TMP/req.json"
has "$TMP/err" 'short.tgb: error: bytecode rejected: '
empty "$TMP/out"
printf 'not bytecode at all' >"$TMP/junk.tgb"
run 1 eval "$TMP/junk.tgb" --request "$TMP/req.json"
has "$TMP/err" 'junk.tgb: error: bytecode rejected: '

# -o through a symbolic link writes the file it names, and the link stays;
# -o a FIFO (like /dev/stdout in a pipe) writes into it, never replaces it.
: >"$TMP/basic-copy.tgb"
ln -s basic-copy.tgb "$TMP/link.tgb"
run 0 compile "$TMP/basic.tg" -o "$TMP/link.tgb"
[ -L "$TMP/link.tgb" ] || fail "compile -o replaced the symbolic link"
same "$TMP/basic-copy.tgb" "$TMP/basic.tgb"
mkfifo "$TMP/fifo.tgb"
cat "$TMP/fifo.tgb" >"$TMP/from-fifo.tgb" &
reader=$!
run 0 compile "$TMP/basic.tg" -o "$TMP/fifo.tgb"
if [ -p "$TMP/fifo.tgb" ]; then
	wait "$reader"
	same "$TMP/from-fifo.tgb" "$TMP/basic.tgb"
else
	fail "compile -o replaced the FIFO"
	kill "$reader"
fi

# Output that cannot be written is an I/O error (2), also when --explain
# and --audit flush each line before the end.
if [ -w /dev/full ]; then
	for opt in "" --explain --audit; do
		"$TOOLGATE" eval "$TMP/basic.tgb" --request "$TMP/req.json" $opt >/dev/full 2>"$TMP/err"
		got=$?
		[ "$got" -eq 2 ] || fail "eval $opt into /dev/full: exit status $got, want 2"
		has "$TMP/err" 'cannot write to stdout'
	done
else
	echo "note: /dev/full is not writable here; the output-failure checks are skipped" >&2
fi

finish
