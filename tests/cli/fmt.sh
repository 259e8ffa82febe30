# fmt.sh - `toolgate fmt`: printing, --check and -w, independent of the exact
# canonical layout (which the formatter's own golden tests pin).
. "$TG_SOURCE_DIR/tests/cli/data/lib.sh"

# The canonical text of basic.tg, and that text is a fixed point.
run 0 fmt "$DATA/basic.tg"
cp "$TMP/out" "$TMP/canon.tg"
[ -s "$TMP/canon.tg" ] || fail "fmt printed nothing"
run 0 fmt --check "$TMP/canon.tg"
empty "$TMP/out"
empty "$TMP/err"
run 0 fmt "$TMP/canon.tg"
same "$TMP/out" "$TMP/canon.tg"

# The same policy laid out badly: --check names it and exits 1 without
# touching it; -w rewrites it to the canonical text.
cat >"$TMP/ugly.tg" <<'TG'
policy   "basic"   version "1" ;
attribute context.environment : string in ["dev","staging","prod"];
attribute args.limit:int;
role reader; role engineer : reader;
role admin:engineer;
default   deny;
rule "readers-read": allow role reader to call tool "search_*";
rule "eng-sql": allow role engineer to call tool "postgres.query" when args.limit <= 1000;
rule "no-prod": deny anyone to call any tool when context.environment == "prod" unless principal is admin because "prod is admin only";
allow anyone to list tools;
TG
cp "$TMP/ugly.tg" "$TMP/ugly.orig"
chmod 640 "$TMP/ugly.tg"
run 1 fmt --check "$TMP/ugly.tg" "$TMP/canon.tg"
has "$TMP/err" "ugly.tg"
lacks "$TMP/err" "canon.tg"
same "$TMP/ugly.tg" "$TMP/ugly.orig"

run 0 fmt -w "$TMP/ugly.tg"
empty "$TMP/out"
run 0 fmt --check "$TMP/ugly.tg"
run 0 fmt "$TMP/ugly.orig"
same "$TMP/ugly.tg" "$TMP/out"
case $(ls -l "$TMP/ugly.tg") in
-rw-r-----*) ;;
*) fail "fmt -w did not keep the file mode: $(ls -l "$TMP/ugly.tg")" ;;
esac
ls -a "$TMP" | grep -q '^\.ugly' && fail "fmt -w left a temporary file"

# Through a symbolic link -w rewrites the file it names; the link stays.
mkdir "$TMP/src"
cp "$TMP/ugly.orig" "$TMP/src/linked.tg"
ln -s src/linked.tg "$TMP/link.tg"
run 0 fmt -w "$TMP/link.tg"
[ -L "$TMP/link.tg" ] || fail "fmt -w replaced the symbolic link"
same "$TMP/src/linked.tg" "$TMP/ugly.tg"

# -w leaves a formatted file alone (not even rewritten).
touch -t 200001010000 "$TMP/canon.tg"
run 0 fmt -w "$TMP/canon.tg"
[ -n "$(find "$TMP/canon.tg" -newer "$TMP/ugly.orig")" ] && fail "fmt -w rewrote a formatted file"

# Comments survive formatting.
printf '# keep me\npolicy "c";\n' >"$TMP/comment.tg"
run 0 fmt "$TMP/comment.tg"
has "$TMP/out" '# keep me'

# Syntax errors: diagnostics, exit 1, file untouched by -w.
printf 'rule "x": allow anyone to call tool "a"\n' >"$TMP/broken.tg"
cp "$TMP/broken.tg" "$TMP/broken.orig"
run 1 fmt "$TMP/broken.tg"
has "$TMP/err" 'broken.tg:[0-9]*:[0-9]*: error: '
run 1 fmt -w "$TMP/broken.tg"
same "$TMP/broken.tg" "$TMP/broken.orig"
run 1 fmt --check "$TMP/broken.tg"

run 2 fmt "$TMP/missing.tg"
run 2 fmt --check "$TMP/missing.tg"

finish
