# check.sh - `toolgate check`: a summary line per file on success (none
# under --quiet), diagnostics and exit 1 on errors, exit 2 for files that
# cannot be read.
. "$TG_SOURCE_DIR/tests/cli/data/lib.sh"

run 0 check "$DATA/basic.tg"
printf '%s\n' "$DATA/basic.tg: 4 rules, no errors, no warnings" >"$TMP/want"
same "$TMP/out" "$TMP/want"
empty "$TMP/err"
run 0 check --quiet "$DATA/basic.tg"
empty "$TMP/out"
empty "$TMP/err"
run 0 check --strict "$DATA/basic.tg"
same "$TMP/out" "$TMP/want"
run 0 check "$DATA/basic.tg" "$DATA/basic.tg"
[ "$(wc -l <"$TMP/out")" -eq 2 ] || fail "want one summary line per file"

# Warnings are counted; singular and plural.
cat >"$TMP/warn.tg" <<'TG'
rule "blocked": deny principal "mallory" to do anything;
TG
run 0 check "$TMP/warn.tg"
printf '%s\n' "$TMP/warn.tg: 1 rule, no errors, 1 warning" >"$TMP/want"
same "$TMP/out" "$TMP/want"
has "$TMP/err" "deny-without-because"
run 0 check --quiet "$TMP/warn.tg"
empty "$TMP/out"
has "$TMP/err" "deny-without-because"
# Under --strict the warning is an error: no summary.
run 1 check --strict "$TMP/warn.tg"
empty "$TMP/out"

cat >"$TMP/bad.tg" <<'TG'
role engineer;
rule "x": allow role enginer to call tool "a";
TG
run 1 check "$TMP/bad.tg"
empty "$TMP/out"
has "$TMP/err" "bad.tg:2:22: error: unknown role 'enginer'"
has "$TMP/err" "^ *2 | rule \"x\": allow role enginer to call tool \"a\";"
has "$TMP/err" "^ *| *\^~~~~~~$"
has "$TMP/err" "hint: did you mean 'engineer'?"

cat >"$TMP/syntax.tg" <<'TG'
rule "x": allow anyone to call tool "a"
rule "y": allow anyone to call tool "b";
TG
run 1 check "$TMP/syntax.tg"
has "$TMP/err" 'syntax.tg:[0-9]*:[0-9]*: error: '

# Two independent errors are both reported.
cat >"$TMP/two.tg" <<'TG'
rule "a": allow role nosuch to call tool "a";
rule "b": allow role other to call tool "b";
TG
run 1 check "$TMP/two.tg"
has "$TMP/err" "two.tg:1:[0-9]*: error: unknown role 'nosuch'"
has "$TMP/err" "two.tg:2:[0-9]*: error: unknown role 'other'"

# A missing file is an I/O error (2), and wins over a policy error.
run 2 check "$TMP/missing.tg"
has "$TMP/err" "missing.tg"
run 2 check "$TMP/bad.tg" "$TMP/missing.tg"
has "$TMP/err" "unknown role 'enginer'"
run 1 check "$DATA/basic.tg" "$TMP/bad.tg"
# The clean file still has its line; the bad one none.
printf '%s\n' "$DATA/basic.tg: 4 rules, no errors, no warnings" >"$TMP/want"
same "$TMP/out" "$TMP/want"

finish
