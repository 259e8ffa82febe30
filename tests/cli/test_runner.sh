#!/bin/sh
# test_runner.sh - `toolgate test` end to end: exit codes, the failure
# report, every class of bad suite, and JUnit output (checked with xmllint
# when it is installed).
set -u
: "${TOOLGATE:?TOOLGATE must name the toolgate binary}"
: "${TG_SOURCE_DIR:?TG_SOURCE_DIR must name the source tree}"

S="$TG_SOURCE_DIR/tests/suites"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
failures=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# run STATUS ARGS...: runs `toolgate test ARGS...`, stdout to $tmp/out,
# stderr to $tmp/err, and checks the exit status.
run() {
	want=$1
	shift
	"$TOOLGATE" test "$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" != "$want" ]; then
		fail "toolgate test $*: exit $got, want $want"
		sed 's/^/    out: /' "$tmp/out" >&2
		sed 's/^/    err: /' "$tmp/err" >&2
	fi
}

# has FILE TEXT: FILE contains the line fragment TEXT.
has() {
	grep -qF -- "$2" "$1" || fail "$(basename "$1") lacks: $2"
}

hasnt() {
	if grep -qF -- "$2" "$1"; then fail "$(basename "$1") has: $2"; fi
}

last_line() {
	tail -n 1 "$1"
}

# ---- passing and failing suites ---------------------------------------------

run 0 "$S/pass.yaml"
[ "$(last_line "$tmp/out")" = "13 passed, 0 failed" ] ||
	fail "pass.yaml summary: $(last_line "$tmp/out")"
hasnt "$tmp/out" "FAIL"

run 0 --verbose "$S/pass.yaml"
[ "$(grep -c '^PASS ' "$tmp/out")" = 13 ] || fail "--verbose lists 13 passing cases"
has "$tmp/out" "PASS $S/pass.yaml:18:11: an engineer reads docs"

run 1 "$S/fail.yaml"
[ "$(last_line "$tmp/out")" = "1 passed, 3 failed" ] ||
	fail "fail.yaml summary: $(last_line "$tmp/out")"
has "$tmp/out" "FAIL $S/fail.yaml:14:11: engineers drop tables <wrongly> & \"quoted\""
has "$tmp/out" "  expected allow, got deny"
has "$tmp/out" "  actual:   deny by default (no rule applied)"
has "$tmp/out" "  trace:"
has "$tmp/out" "FAIL $S/fail.yaml:18:11: the wrong rule is expected"
has "$tmp/out" "expected rule 'eng-db', got 'viewers-read'"
has "$tmp/out" "allow rule 'viewers-read' (line "
has "$tmp/out" "FAIL $S/fail.yaml:26:11: an engineer does not see db.drop"
has "$tmp/out" "'db.drop' is hidden"
has "$tmp/out" "  actual:   [docs.search]"
hasnt "$tmp/out" "this one passes"

# Totals run over all suites; the worst status wins.
run 1 "$S/pass.yaml" "$S/fail.yaml"
[ "$(last_line "$tmp/out")" = "14 passed, 3 failed" ] ||
	fail "two suites summary: $(last_line "$tmp/out")"

# --explain shows the trace of passing cases too.
run 0 --explain "$S/pass.yaml"
has "$tmp/out" "PASS $S/pass.yaml:18:11: an engineer reads docs"
has "$tmp/out" "allow rule 'viewers-read' (line "

# ---- bad suites: exit 2 and FILE:LINE:COL: error: MESSAGE ---------------------

B="$S/bad"
run 2 "$B/unknown-key.yaml"
has "$tmp/err" "$B/unknown-key.yaml:5:5: error: unknown key 'expct' in case"
has "$tmp/err" "= hint: did you mean 'expect'?"
[ "$(last_line "$tmp/out")" = "0 passed, 0 failed" ] || fail "bad suite summary"

run 2 "$B/wrong-type.yaml"
has "$tmp/err" "$B/wrong-type.yaml:5:38: error: 'errors' must be a count or a list of strings, not a string"

run 2 "$B/missing-field.yaml"
has "$tmp/err" "$B/missing-field.yaml:3:5: error: missing required key 'request' or 'visible' in case"

run 2 "$B/both.yaml"
has "$tmp/err" "$B/both.yaml:6:14: error: a case has either 'request' or 'visible', not both"

run 2 "$B/duplicate-case.yaml"
has "$tmp/err" "$B/duplicate-case.yaml:4:12: error: duplicate case name 'same' (first at line 3)"

run 2 "$B/duplicate-key.yaml"
has "$tmp/err" "$B/duplicate-key.yaml:4:46: error: duplicate key 'target'"

run 2 "$B/alias.yaml"
has "$tmp/err" "$B/alias.yaml:2:4: error: anchors and aliases are not supported"
has "$tmp/err" "$B/alias.yaml:3:5: error: anchors and aliases are not supported"

run 2 "$B/syntax.yaml"
has "$tmp/err" "$B/syntax.yaml:5:11: error: "

run 2 "$B/unknown-tool.yaml"
has "$tmp/err" "$B/unknown-tool.yaml:6:14: error: unknown tool 'docs.serch' (not in 'tools')"
has "$tmp/err" "= hint: did you mean 'docs.search'?"

run 2 "$B/missing-policy.yaml"
has "$tmp/err" "$B/missing-policy.yaml:1:9: error: cannot read policy '$B/no-such-policy.tg'"

# A policy that does not compile: its diagnostics, every case failed, exit 1.
run 1 "$B/broken-policy.yaml"
has "$tmp/err" "broken.tg:2:22: error:"
[ "$(last_line "$tmp/out")" = "0 passed, 1 failed" ] || fail "broken policy summary"
has "$tmp/out" "did not load"

# A bad suite does not stop the others; it decides the status.
run 2 "$B/unknown-key.yaml" "$S/pass.yaml"
[ "$(last_line "$tmp/out")" = "13 passed, 0 failed" ] || fail "bad + pass summary"

# ---- usage -------------------------------------------------------------------

run 2
run 2 --format xml "$S/pass.yaml"
run 2 --bogus "$S/pass.yaml"
run 2 "$S/no-such-suite.yaml"
has "$tmp/err" "no-such-suite.yaml"
run 0 --help

# ---- JUnit ---------------------------------------------------------------------

xml_ok() {
	if command -v xmllint >/dev/null 2>&1; then
		xmllint --noout "$1" 2>"$tmp/xmlerr" || fail "$1 is not well-formed: $(cat "$tmp/xmlerr")"
	fi
}

run 1 --format junit "$S/pass.yaml" "$S/fail.yaml"
cp "$tmp/out" "$tmp/junit.xml"
xml_ok "$tmp/junit.xml"
has "$tmp/junit.xml" '<testsuites name="toolgate" tests="17" failures="3" errors="0">'
has "$tmp/junit.xml" 'name="engineers drop tables &lt;wrongly&gt; &amp; &quot;quoted&quot;"'
has "$tmp/junit.xml" '<failure type="failure" message="expected allow, got deny">'
[ "$(grep -c '<testcase ' "$tmp/junit.xml")" = 17 ] || fail "junit: 17 testcases"
has "$tmp/err" "14 passed, 3 failed"

run 1 --format=junit --output "$tmp/report.xml" "$S/fail.yaml"
[ -s "$tmp/out" ] && fail "--output leaves stdout empty"
xml_ok "$tmp/report.xml"
has "$tmp/report.xml" "<testsuite name=\"$S/fail.yaml\" tests=\"4\" failures=\"3\" errors=\"0\">"

run 2 --format junit "$B/alias.yaml" "$S/pass.yaml"
cp "$tmp/out" "$tmp/bad.xml"
xml_ok "$tmp/bad.xml"
has "$tmp/bad.xml" '<testcase classname="'"$B"'/alias.yaml" name="(suite)"'
has "$tmp/bad.xml" "<error message=\"the suite could not run\">"

if [ "$failures" -ne 0 ]; then
	echo "$failures check(s) failed" >&2
	exit 1
fi
echo "test_runner: all checks passed"
