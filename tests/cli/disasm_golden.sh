# disasm_golden.sh - the disassembly of every example policy is pinned, so a
# change to code generation, the rule index or the format shows up as a diff
# to review. TG_UPDATE_GOLDEN=1 rewrites the goldens.
. "$TG_SOURCE_DIR/tests/cli/data/lib.sh"

GOLDEN="$TG_SOURCE_DIR/tests/golden/disasm"
for src in "$TG_SOURCE_DIR"/policies/examples/*.tg; do
	name=$(basename "$src" .tg)
	run 0 compile "$src" -o "$TMP/$name.tgb"
	run 0 disasm "$TMP/$name.tgb"
	if [ "${TG_UPDATE_GOLDEN:-}" = 1 ]; then
		cp "$TMP/out" "$GOLDEN/$name.disasm"
	elif ! cmp -s "$TMP/out" "$GOLDEN/$name.disasm"; then
		fail "disasm of $name.tg differs from tests/golden/disasm/$name.disasm"
		diff -u "$GOLDEN/$name.disasm" "$TMP/out" | head -40 >&2
	fi
done

finish
