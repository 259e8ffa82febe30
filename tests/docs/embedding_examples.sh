#!/bin/sh
# Every C example in docs/embedding.md, compiled against the build's headers
# and shared libraries and run: the complete programs (a block that opens
# with "/* NAME.c - ") on a compiled example policy, and the runtime
# guide's fragments joined into one main(). A guide whose examples do not
# compile or do not do what they say fails `make test`.
# Environment: TG_SOURCE_DIR, TG_BINARY_DIR (set by ctest).
set -eu
: "${TG_SOURCE_DIR:?}" "${TG_BINARY_DIR:?}"
doc=$TG_SOURCE_DIR/docs/embedding.md
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# Blocks to block-N.c; fragments of "## The runtime" (before its "Threads
# and memory") are also numbered in fragments.list.
awk '
	/^## / { runtime = ($0 ~ /^## The runtime/) }
	/^### Threads and memory/ { runtime = 0 }
	/^```c$/ { n++; file = "block-" n ".c"; inblock = 1; first = 1; next }
	/^```$/ && inblock { inblock = 0; close(file); next }
	inblock {
		if (first && runtime && $0 !~ /^\/\* [a-z_]+\.c - /) print file > "fragments.list"
		first = 0
		print > file
	}
' "$doc"
[ -s fragments.list ] || fail "no runtime fragments found in docs/embedding.md"

cflags="-std=c11 -Wall -Wextra -Wpedantic -Werror -I$TG_SOURCE_DIR/include -I$TG_BINARY_DIR/include"
libs="-L$TG_BINARY_DIR/lib -Wl,-rpath,$TG_BINARY_DIR/lib"
"$TG_BINARY_DIR/bin/toolgate" compile "$TG_SOURCE_DIR/policies/examples/engineering.tg" \
	-o policy.tgb >/dev/null
grep -v '^#' "$TG_SOURCE_DIR/policies/examples/engineering.requests.jsonl" >requests.jsonl

programs=0
for b in block-*.c; do
	name=$(sed -n '1s/^\/\* \([a-z_]*\)\.c - .*/\1/p' "$b")
	[ -n "$name" ] || continue
	mv "$b" "$name.c"
	# shellcheck disable=SC2086
	cc $cflags "$name.c" $libs -ltoolgate-compiler -ltoolgate-mcp -ltoolgate -o "$name" \
		2>"$name.err" || fail "$name.c does not compile: $(cat "$name.err")"
	programs=$((programs + 1))
done
[ "$programs" -ge 3 ] || fail "expected at least 3 complete programs, found $programs"

# What each program is documented to do.
set +e
./eval_lines policy.tgb <requests.jsonl >eval_lines.out 2>&1
rc=$?
set -e
[ "$rc" = 2 ] || fail "eval_lines: exit $rc, want 2 (one request is invalid)"
"$TG_BINARY_DIR/bin/toolgate" eval policy.tgb <requests.jsonl >eval.out 2>/dev/null || true
grep '^{' eval_lines.out | diff eval.out - >&2 || fail "eval_lines and toolgate eval disagree"
./mcp_gate policy.tgb >mcp_gate.out 2>&1 || fail "mcp_gate: $(cat mcp_gate.out)"
grep -q 'tools/list, 1 removed' mcp_gate.out || fail "mcp_gate did not filter: $(cat mcp_gate.out)"
grep -q 'deny: .*sql-single-select' mcp_gate.out || fail "mcp_gate did not deny: $(cat mcp_gate.out)"
./compile_policy "$TG_SOURCE_DIR/policies/examples/saas.tg" >compile.out 2>&1 ||
	fail "compile_policy: $(cat compile.out)"

# The fragments, in order, as one program: they share their variables, as
# the guide's sections build on each other.
{
	printf '#include <stdbool.h>\n#include <stdio.h>\n#include <string.h>\n#include <time.h>\n'
	printf '#include <toolgate/toolgate.h>\n\nint main(void)\n{\n'
	while read -r f; do
		printf '\t/* %s */\n' "$f"
		cat "$f"
	done <fragments.list
	printf '\ttg_decision_free(d);\n\treturn 0;\n}\n'
} >fragments.c
# shellcheck disable=SC2086
cc $cflags -Wno-unused-variable fragments.c $libs -ltoolgate -o fragments 2>fragments.err ||
	fail "the runtime fragments do not compile together: $(cat fragments.err)"
./fragments >fragments.out 2>&1 || fail "the runtime fragments fail: $(cat fragments.out)"
echo "embedding examples: $programs programs and $(wc -l <fragments.list) fragments ok"
