# usage.sh - command dispatch, --help, --version and usage errors (exit 2).
. "$TG_SOURCE_DIR/tests/cli/data/lib.sh"

run 2
has "$TMP/err" 'usage: toolgate COMMAND'

run 0 --help
has "$TMP/out" 'usage: toolgate COMMAND'
for cmd in check fmt compile eval test disasm; do
	has "$TMP/out" "^  $cmd "
done

run 0 --version
has "$TMP/out" '^toolgate [0-9][0-9]*\.[0-9][0-9]*\.[0-9][0-9]*$'

run 2 frobnicate
has "$TMP/err" "unknown command 'frobnicate'"
run 2 --frobnicate
has "$TMP/err" "unknown option '--frobnicate'"

for cmd in check fmt compile eval disasm; do
	run 0 "$cmd" --help
	has "$TMP/out" "^usage: toolgate $cmd"
	run 0 help "$cmd"
	has "$TMP/out" "^usage: toolgate $cmd"
	run 2 "$cmd"
	has "$TMP/err" "^toolgate $cmd: "
	run 2 "$cmd" --no-such-option "$DATA/basic.tg"
	has "$TMP/err" "unknown option '--no-such-option'"
done

run 2 check --format xml "$DATA/basic.tg"
run 2 check "$DATA/basic.tg" --format
run 2 fmt --check -w "$DATA/basic.tg"
run 2 compile "$DATA/basic.tg" -o
run 2 compile "$DATA/basic.tg" "$DATA/basic.tg"
run 2 eval "$DATA/basic.tg" --request
run 2 eval "$DATA/basic.tg" "$DATA/basic.tg"
run 2 disasm "$DATA/basic.tg"

finish
