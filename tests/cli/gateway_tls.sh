# gateway_tls.sh - `toolgate gateway` and transport security: HTTPS with a
# certificate and key from the configuration (libmicrohttpd with GnuTLS),
# answered to a client that checks the certificate and not in plain HTTP;
# plain HTTP on a non-loopback address refused unless the gateway has TLS or
# sits behind a TLS-terminating proxy; behind_proxy accepting connections
# from the proxies' addresses only; a key file open to others warned about;
# a certificate GnuTLS cannot use stops the start (and fails --check, as
# unusable auth key files do); a certificate and key
# replaced on disk served from the next handshake on, a pair that does not
# match refused while the current one keeps serving.
. "$(dirname "$0")/data/lib.sh"
. "$(dirname "$0")/data/gateway_lib.sh"

need node curl openssl

node "$TG_SOURCE_DIR/tests/gateway/recorder.mjs" "$TMP/rec.log" "$TMP/rec.port" &
recpid=$!
gwpid=
trap 'kill $recpid $gwpid 2>/dev/null; rm -rf "$TMP"' EXIT
wait_for "$TMP/rec.port" .
RPORT=$(cat "$TMP/rec.port")

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" \
	-days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 ||
	{ fail "openssl could not make a certificate"; finish; }
chmod 600 "$TMP/key.pem"
cat >"$TMP/p.tg" <<'P'
policy "tls" version "1";
role reader;
default deny;
allow anyone to list tools;
rule "ro": allow role reader to call tool "echo";
P
# conf NAME LISTEN EXTRA: $TMP/NAME.yaml
conf() {
	cat >"$TMP/$1.yaml" <<Y
listen: $2
resource: https://127.0.0.1:8443
policy: p.tg
audit: $1.audit.jsonl
upstreams:
  - name: rec
    path: /rec/mcp
    url: http://127.0.0.1:$RPORT/mcp
$3
Y
}
ID='identity: {principal: {id: alice, roles: [reader]}}'
call='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{}}}'

# ---- HTTPS ----------------------------------------------------------------------
conf tls 127.0.0.1:0 "$ID
tls: {cert_file: cert.pem, key_file: key.pem}"
"$TOOLGATE" gateway --config "$TMP/tls.yaml" 2>"$TMP/tls.err" &
gwpid=$!
wait_listening "$TMP/tls.err" tls
has "$TMP/tls.err" 'listening on 127.0.0.1:[0-9]* (HTTPS)'
has "$TMP/tls.err" "gateway: TLS certificate '$TMP/cert.pem': CN=127.0.0.1; expires 20[0-9-]* [0-9:]* UTC$"
lacks "$TMP/tls.err" 'open to other users'
req tls_health 200 --cacert "$TMP/cert.pem" "https://127.0.0.1:$PORT/healthz"
req tls_call 200 --cacert "$TMP/cert.pem" -H "$JSON" -H "$ACC" -d "$call" \
	"https://127.0.0.1:$PORT/rec/mcp"
has "$TMP/tls_call.body" '"result"'
req tls_plain 000 "http://127.0.0.1:$PORT/healthz"
kill -TERM $gwpid
stopped $gwpid "$TMP/tls.err"
gwpid=

# A key others may read: said at start. A certificate GnuTLS cannot use:
# no start.
chmod 644 "$TMP/key.pem"
"$TOOLGATE" gateway --config "$TMP/tls.yaml" 2>"$TMP/tls2.err" &
gwpid=$!
wait_listening "$TMP/tls2.err" tls2
has "$TMP/tls2.err" "warning: '$TMP/key.pem' is open to other users (mode 0644)"
kill -TERM $gwpid
stopped $gwpid "$TMP/tls2.err"
gwpid=
chmod 600 "$TMP/key.pem"
echo 'not a certificate' >"$TMP/bad.pem"
conf badcert 127.0.0.1:0 "$ID
tls: {cert_file: bad.pem, key_file: key.pem}"
run 2 gateway --config "$TMP/badcert.yaml"
has "$TMP/err" "gateway: GnuTLS cannot use the certificate '$TMP/bad.pem' with the key '$TMP/key.pem': Base64 decoding error.$"

# ---- a certificate and key replaced while serving -----------------------------------
# live.pem and live.key start as cert.pem and key.pem. The rotation writes
# the new certificate first: with the old key it is refused and the old
# pair keeps serving; once the new key is there too, new handshakes get the
# new certificate. An expired certificate is served, and said to be.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/new.key" -out "$TMP/new.pem" \
	-days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1 ||
	fail "openssl could not make the second certificate"
mkdir "$TMP/ca" && : >"$TMP/ca/index.txt" && echo 01 >"$TMP/ca/serial"
cat >"$TMP/ca.cnf" <<CNF
[ca]
default_ca = d
[d]
database = $TMP/ca/index.txt
new_certs_dir = $TMP/ca
serial = $TMP/ca/serial
default_md = sha256
policy = p
[p]
commonName = supplied
CNF
{ openssl req -new -newkey rsa:2048 -nodes -keyout "$TMP/old.key" -out "$TMP/old.csr" \
	-subj /CN=127.0.0.1 &&
	openssl ca -batch -notext -config "$TMP/ca.cnf" -selfsign -keyfile "$TMP/old.key" \
		-in "$TMP/old.csr" -out "$TMP/old.pem" -startdate 20200101000000Z \
		-enddate 20200102000000Z; } >/dev/null 2>&1 ||
	fail "openssl could not make the expired certificate"
chmod 600 "$TMP/new.key" "$TMP/old.key"
cp "$TMP/cert.pem" "$TMP/live.pem"
cp -p "$TMP/key.pem" "$TMP/live.key"
conf rotate 127.0.0.1:0 "$ID
tls: {cert_file: live.pem, key_file: live.key}"
"$TOOLGATE" gateway --config "$TMP/rotate.yaml" 2>"$TMP/rotate.err" &
gwpid=$!
wait_listening "$TMP/rotate.err" rotate
req rot_old 200 --cacert "$TMP/cert.pem" "https://127.0.0.1:$PORT/healthz"
cp "$TMP/new.pem" "$TMP/live.pem"
# (a look between cp's truncation and its write may report an empty file
# first; the mismatch is reported once the certificate is whole)
wait_for "$TMP/rotate.err" "gateway: reload of the TLS certificate failed; keeping the current one: GnuTLS cannot use the certificate '$TMP/live.pem' with the key '$TMP/live.key': The certificate and the given key do not match.$" ||
	fail "a certificate without its key was not reported"
req rot_kept 200 --cacert "$TMP/cert.pem" "https://127.0.0.1:$PORT/healthz"
cp "$TMP/new.key" "$TMP/live.key"
wait_for "$TMP/rotate.err" 'reloaded the TLS certificate' ||
	fail "the new certificate and key were not taken"
has "$TMP/rotate.err" "gateway: reloaded the TLS certificate '$TMP/live.pem': CN=127.0.0.1; expires 20[0-9-]* [0-9:]* UTC$"
req rot_new 200 --cacert "$TMP/new.pem" -H "$JSON" -H "$ACC" -d "$call" \
	"https://127.0.0.1:$PORT/rec/mcp"
has "$TMP/rot_new.body" '"result"'
req rot_gone 000 --cacert "$TMP/cert.pem" "https://127.0.0.1:$PORT/healthz"
# SIGHUP reads the files again; the same bytes replace nothing.
kill -HUP $gwpid
wait_for "$TMP/rotate.err" "reloaded configuration" || fail "no reload after SIGHUP"
n=$(grep -c 'reloaded the TLS certificate' "$TMP/rotate.err")
[ "$n" -eq 1 ] || fail "the TLS certificate was reloaded $n times, want 1"
cp "$TMP/old.pem" "$TMP/live.pem"
cp "$TMP/old.key" "$TMP/live.key"
wait_for "$TMP/rotate.err" 'EXPIRED' || fail "the expired certificate was not taken"
has "$TMP/rotate.err" "gateway: reloaded the TLS certificate '$TMP/live.pem': CN=127.0.0.1; EXPIRED on 2020-01-02 00:00:00 UTC$"
req rot_metrics 200 -k "https://127.0.0.1:$PORT/metrics"
has "$TMP/rot_metrics.body" 'toolgate_gateway_reloads_total{result="failed"} [1-9]'
# A reloaded configuration that names other files: they serve once they
# make a pair; a pair that does not is reported once, not at every look.
sed -i 's/live.pem/new.pem/; s/live.key/new.key/' "$TMP/rotate.yaml"
wait_for "$TMP/rotate.err" "reloaded the TLS certificate '$TMP/new.pem'" ||
	fail "the configuration's new certificate files were not taken"
req rot_renamed 200 --cacert "$TMP/new.pem" "https://127.0.0.1:$PORT/healthz"
sed -i 's/new.pem/cert.pem/' "$TMP/rotate.yaml"
wait_for "$TMP/rotate.err" "certificate '$TMP/cert.pem' with the key '$TMP/new.key'" ||
	fail "a configuration naming a certificate and a key that do not match was not reported"
sleep 1
n=$(grep -c "certificate '$TMP/cert.pem' with the key" "$TMP/rotate.err")
[ "$n" -eq 1 ] || fail "the mismatched files were reported $n times, want once"
req rot_kept2 200 --cacert "$TMP/new.pem" "https://127.0.0.1:$PORT/healthz"
lacks "$TMP/rotate.err" 'take effect at the next start'
kill -TERM $gwpid
stopped $gwpid "$TMP/rotate.err"
gwpid=

# ---- plain HTTP only on loopback, or behind a proxy --------------------------------
AUTH="auth: {issuer: http://127.0.0.1:9100, jwks_file: $TG_SOURCE_DIR/tests/gateway/keys/jwks.json}"
conf open 0.0.0.0:0 "$AUTH"
run 1 gateway --config "$TMP/open.yaml" --check
has "$TMP/err" "open.yaml:1:9: error: plain HTTP on a non-loopback address would carry bearer tokens in the clear"
conf open_tls 0.0.0.0:0 "$AUTH
tls: {cert_file: cert.pem, key_file: key.pem}"
run 0 gateway --config "$TMP/open_tls.yaml" --check
conf open_proxy 0.0.0.0:0 "$AUTH
behind_proxy: [10.0.0.5, '::1']"
run 0 gateway --config "$TMP/open_proxy.yaml" --check
# --check reads what a start reads: the certificate and key, auth's files.
run 1 gateway --config "$TMP/badcert.yaml" --check
has "$TMP/err" "gateway: GnuTLS cannot use the certificate '$TMP/bad.pem' with the key '$TMP/key.pem': Base64 decoding error.$"
lacks "$TMP/err" 'configuration OK'
printf '{"keys":[]}' >"$TMP/empty-jwks.json"
printf 'short' >"$TMP/short.key"
conf bad_auth 127.0.0.1:0 "auth: {issuer: http://127.0.0.1:9100, jwks_file: empty-jwks.json, hs_secret_file: short.key}"
run 1 gateway --config "$TMP/bad_auth.yaml" --check
has "$TMP/err" "gateway: jwks_file '$TMP/empty-jwks.json': "
has "$TMP/err" "gateway: HMAC secret '$TMP/short.key' has 5 bytes; it needs at least 32"
lacks "$TMP/err" 'configuration OK'
conf bad_proxy 0.0.0.0:0 "$AUTH
behind_proxy: [proxy.example:443]"
run 1 gateway --config "$TMP/bad_proxy.yaml" --check
has "$TMP/err" "bad_proxy.yaml:10:16: error: 'proxy.example:443' is not a numeric IPv4 or IPv6 address (no port)"

# ---- behind_proxy: the proxy's address may connect, no other ------------------------
conf proxied 127.0.0.1:0 "$ID
behind_proxy: [127.0.0.2]"
"$TOOLGATE" gateway --config "$TMP/proxied.yaml" 2>"$TMP/proxied.err" &
gwpid=$!
wait_listening "$TMP/proxied.err" proxied
has "$TMP/proxied.err" 'behind a proxy'
req from_proxy 200 --interface 127.0.0.2 -H "$JSON" -H "$ACC" -d "$call" \
	"http://127.0.0.1:$PORT/rec/mcp"
has "$TMP/from_proxy.body" '"result"'
req from_other 000 "http://127.0.0.1:$PORT/healthz"
req metrics 200 --interface 127.0.0.2 "http://127.0.0.1:$PORT/metrics"
has "$TMP/metrics.body" 'toolgate_gateway_refusals_total{reason="peer"} 1'
kill -TERM $gwpid
stopped $gwpid "$TMP/proxied.err"
gwpid=
finish
