# check_formats.sh - `toolgate check` with lints: the text format's lint ids,
# --strict, the JSON output against its golden, SARIF output validated
# against the SARIF 2.1.0 schema (tests/sarif), and exit codes in every
# format; a file name that is not UTF-8 in JSON and SARIF.
. "$TG_SOURCE_DIR/tests/cli/data/lib.sh"
OUT="$TG_SOURCE_DIR/tests/golden/lint/output"
SARIF="$TG_SOURCE_DIR/tests/sarif/validate.sh"

# Every example policy is lint-clean, even under --strict.
run 0 check --strict --quiet "$TG_SOURCE_DIR"/policies/examples/*.tg
empty "$TMP/out"
empty "$TMP/err"
run 0 check "$TG_SOURCE_DIR"/policies/examples/*.tg
lacks "$TMP/out" "warning[^s]"
lacks "$TMP/out" "[1-9][0-9]* warnings"

# Text: warnings carry their id and do not fail the check; --strict does.
run 0 check "$OUT/warnings.tg"
has "$TMP/out" "warnings.tg: 4 rules, no errors, 3 warnings$"
has "$TMP/err" "warnings.tg:7:17: warning: deny rule 'blocked' has no 'because' \[deny-without-because\]$"
has "$TMP/err" "hint: add because"
lacks "$TMP/err" "blocked-2"
run 1 check --strict "$OUT/warnings.tg"
has "$TMP/err" "warnings.tg:7:17: error: deny rule 'blocked' has no 'because' \[deny-without-because\]$"
# A file with errors is not linted.
run 1 check "$OUT/errors.tg"
lacks "$TMP/err" "warning"

# JSON: the golden, written from the golden folder so paths are relative.
(cd "$OUT" && "$TOOLGATE" check --format json warnings.tg errors.tg >"$TMP/check.json" 2>"$TMP/err")
[ $? -eq 1 ] || fail "check --format json with errors: want exit 1"
same "$OUT/check.json" "$TMP/check.json"
empty "$TMP/err"
run 0 check --format=json "$OUT/warnings.tg"
has "$TMP/out" '"warnings": 3,'
has "$TMP/out" '"strict": false,'
run 1 check --format json --strict "$OUT/warnings.tg"
has "$TMP/out" '"severity": "error",'
has "$TMP/out" '"strict": true,'
run 0 check --format json "$TG_SOURCE_DIR/policies/examples/saas.tg"
has "$TMP/out" '"diagnostics": \[\]'
# An unreadable file: exit 2, and still one document naming it.
run 2 check --format json "$OUT/warnings.tg" "$TMP/missing.tg"
has "$TMP/out" '"message": "cannot read '
has "$TMP/out" '"range": null'

# SARIF: structure, then the schema.
run 1 check --format sarif "$OUT/warnings.tg" "$OUT/errors.tg"
cp "$TMP/out" "$TMP/mixed.sarif"
has "$TMP/mixed.sarif" '"version": "2.1.0",'
has "$TMP/mixed.sarif" '"ruleId": "contradictory-condition",'
has "$TMP/mixed.sarif" '"ruleId": "compile-error",'
has "$TMP/mixed.sarif" '"text": "see docs/lints.md#unused-suppression"'
has "$TMP/mixed.sarif" '"startColumn": 41,'
run 1 check --format sarif --strict "$OUT/warnings.tg"
cp "$TMP/out" "$TMP/strict.sarif"
has "$TMP/strict.sarif" '"level": "error",'
run 0 check --format sarif "$TG_SOURCE_DIR"/policies/examples/*.tg
cp "$TMP/out" "$TMP/clean.sarif"
has "$TMP/clean.sarif" '"results": \[\]'
run 2 check --format sarif "$TMP/missing.tg"
cp "$TMP/out" "$TMP/missing.sarif"
has "$TMP/missing.sarif" '"executionSuccessful": false,'
for f in "$TG_SOURCE_DIR"/tests/golden/lint/*.tg; do
	"$TOOLGATE" check --format sarif "$f" >"$TMP/golden-$(basename "$f" .tg).sarif" 2>>"$TMP/err"
done
sh "$SARIF" "$TMP"/*.sarif || fail "SARIF output does not validate against the SARIF 2.1.0 schema"

# The rule list names every lint id, whether it fired or not.
for id in shadowed-rule overridden-allow over-broad-grant default-allow unused-role \
	unused-set unused-attribute duplicate-pattern undeclared-attribute \
	deny-without-because missing-rule-id deny-inherited-role deny-reads-method-path \
	unreachable-path missing-list-grant \
	contradictory-condition suppression-without-reason invalid-suppression \
	unused-suppression compile-error; do
	has "$TMP/clean.sarif" "\"id\": \"$id\","
done

# A file name with a space and a byte that is not UTF-8: JSON carries it with
# U+FFFD in its place, SARIF percent-encodes both in the artifact URI.
odd="$TMP/$(printf 'my \377policy.tg')"
printf 'allow anyone to list tools when 1;\n' >"$odd"
(cd "$TMP" && "$TOOLGATE" check --format json "$(basename "$odd")" >"$TMP/odd.json" 2>"$TMP/err")
python3 -c 'import json, sys; d = json.load(open(sys.argv[1], encoding="utf-8")); f = d["files"][0]
assert f["path"] == "my \ufffdpolicy.tg" and f["errors"] == 1, f' "$TMP/odd.json" ||
	fail "check --format json: the odd file name is not carried as valid JSON"
(cd "$TMP" && "$TOOLGATE" check --format sarif "$(basename "$odd")" >"$TMP/odd.sarif" 2>"$TMP/err")
has "$TMP/odd.sarif" '"uri": "my%20%FFpolicy.tg"'

run 2 check --format xml "$OUT/warnings.tg"
has "$TMP/err" "unknown format 'xml'"

finish
