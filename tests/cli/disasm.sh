# disasm.sh - `toolgate disasm` lists verified bytecode and refuses the rest.
. "$TG_SOURCE_DIR/tests/cli/data/lib.sh"

run 0 compile "$DATA/basic.tg" -o "$TMP/basic.tgb"
run 0 disasm "$TMP/basic.tgb"
[ -s "$TMP/out" ] || fail "disasm printed nothing"
has "$TMP/out" 'eng-sql'
has "$TMP/out" 'no-prod'

head -c 20 "$TMP/basic.tgb" >"$TMP/short.tgb"
run 1 disasm "$TMP/short.tgb"
has "$TMP/err" 'short.tgb: error: bytecode rejected: '
run 2 disasm "$TMP/missing.tgb"
run 2 disasm "$DATA/basic.tg"

finish
