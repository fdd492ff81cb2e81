#!/bin/sh
# test_bundle.sh: evidence bundles with a real broker and two real agents on
# loopback. Messages of one case go both ways with receipts; each side
# exports the case; verify-bundle checks each bundle offline with only the
# CA certificate and prints the chain of custody; then the bundle is
# tampered with (bytes flipped, truncated, another CA) and must be refused
# with one clear line.
. "$(dirname "$0")/../lib/cli.sh"
. "$(dirname "$0")/lib.sh"
W="$T/w"
mkdir -p "$W"
P=ml.police.bamako
N=ml.ngo.espoir
CASE=DOSSIER-2026-017

pki "$W" $P:police $N:ngo
cp "$W/ca/ca.crl" "$W/crl"
start_broker
agent_init $P
agent_init $N
agent_start $P
agent_start $N
expect_true "both agencies publish their prekeys" \
    wait_for 20 sh -c "grep -q prekey.published '$W/agent-$P.log' && grep -q prekey.published '$W/agent-$N.log'"

printf 'Signalement : mineure, 15 ans, Kayes.\nBesoin : hébergement sûr.\n' >"$W/m1.txt"
printf 'Complément : audition prévue lundi.\n' >"$W/m2.txt"
printf 'Prise en charge acceptée, lit disponible.\n' >"$W/r1.txt"
printf 'Un autre dossier.\n' >"$W/other.txt"
ag $P send --to $N --kind note --case $CASE --file "$W/m1.txt" >/dev/null
ag $P send --to $N --kind note --case $CASE --file "$W/m2.txt" >/dev/null
ag $P send --to $N --kind note --case AUTRE-1 --file "$W/other.txt" >/dev/null
expect_true "the shelter receives all three" wait_for 30 has 3 n_inbox $N
ag $N send --to $P --kind note --case $CASE --file "$W/r1.txt" >/dev/null
expect_true "the police hold three receipts" \
    wait_for 60 has 3 n_state $P delivered
expect_true "the shelter holds the police's receipt" \
    wait_for 60 has 1 n_state $N delivered

# The broker's log leaf arrives with its proof, just after Accepted.
complete() {
	ag "$1" export --case $CASE --out "$2" 2>"$W/export.err" &&
	    ! grep -q WARNING "$W/export.err"
}
expect_true "police export with full broker evidence" \
    wait_for 30 complete $P "$W/police.bundle"
expect_true "shelter export with full broker evidence" \
    wait_for 30 complete $N "$W/ngo.bundle"
expect_ok "shelter export" ag $N export --case $CASE --out "$W/ngo.bundle"
expect_grep "export says what it took" "1 sent and 2 received" "$OUT"
expect_true "and warns of nothing" [ ! -s "$ERR" ]
expect_true "the bundle is private (0600)" \
    [ "$(stat -c %a "$W/police.bundle")" = 600 ]
expect_fail "export of an unknown case is refused" "no message of case" \
    ag $P export --case INCONNU --out "$W/none.bundle"

# --- offline verification: no home, only the CA ---
agent_stop $P
agent_stop $N
for side in police ngo; do
	expect_ok "$side bundle verifies offline" env -u SIRA_HOME \
	    "$AGENT" verify-bundle "$W/$side.bundle" --ca "$W/ca/ca.cert"
	cp "$OUT" "$W/$side.txt"
	cat "$W/$side.txt"
	expect_grep "$side: chain of custody of the case" \
	    "^Dossier $CASE : chaîne de possession" "$W/$side.txt"
	expect_grep "$side: three messages, signatures valid" \
	    "^OK : 3 messages, 3 certificats" "$W/$side.txt"
	expect_grep "$side: the police as sender" "de +$P \\(Agence $P\\)" \
	    "$W/$side.txt"
	expect_grep "$side: the shelter's receipt" \
	    "accusé +$N : reçu et vérifié" "$W/$side.txt"
	expect_grep "$side: the content, accents intact" \
	    "\\| Besoin : hébergement sûr." "$W/$side.txt"
	expect_true "$side: the other case is not in it" \
	    sh -c "! grep -q 'autre dossier' '$W/$side.txt'"
	expect_ok "$side bundle as JSON" "$AGENT" verify-bundle \
	    "$W/$side.bundle" --ca "$W/ca/ca.cert" --json
	cp "$OUT" "$W/$side.json"
	expect_true "$side JSON: 2 from the police, 1 from the shelter" \
	    jq -e "([.messages[] | select(.from.agency == \"$P\")] | length == 2)
	        and ([.messages[] | select(.from.agency == \"$N\")] | length == 1)" \
	    "$W/$side.json"
	expect_true "$side JSON: every message has its receipt" \
	    jq -e '[.messages[] | select(.receipts | length == 1) |
	        select(.receipts[0].result == "accepted")] | length == 3' \
	    "$W/$side.json"
done
expect_true "the police's sent messages carry the broker's evidence" \
    jq -e "[.messages[] | select(.from.agency == \"$P\") |
        select(.broker.leaf_index >= 0 and .broker.checkpoint_size > .broker.leaf_index)] | length == 2" \
    "$W/police.json"
expect_true "the shelter's one sent message too" \
    jq -e "[.messages[] | select(.broker != null)] | length == 1" \
    "$W/ngo.json"
expect_grep "the broker's acceptance is shown" \
    "courtier +accepté, feuille [0-9]+ du journal" "$W/police.txt"

# --- tampering ---
# flip FILE OFFSET OUT: OUT is FILE with the byte at OFFSET xor 1.
flip() {
	cp "$1" "$3"
	b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	printf "\\$(printf %o $((b ^ 1)))" |
	    dd of="$3" bs=1 seek="$2" count=1 conv=notrunc 2>/dev/null
}
size=$(stat -c %s "$W/police.bundle")
for pct in 20 35 50 65 80 95; do
	flip "$W/police.bundle" $((size * pct / 100)) "$W/bad.bundle"
	expect_true "flip at $pct% changed the file" \
	    sh -c "! cmp -s '$W/police.bundle' '$W/bad.bundle'"
	expect_fail "a byte flipped at $pct% is refused, naming what failed" \
	    "^sira-agent: (message [0-9] \\([0-9a-f?]+\\): .+|bundle: .+)" \
	    "$AGENT" verify-bundle "$W/bad.bundle" --ca "$W/ca/ca.cert"
done
head -c $((size / 2)) "$W/police.bundle" >"$W/half.bundle"
expect_fail "a truncated bundle is refused" "damaged or truncated" \
    "$AGENT" verify-bundle "$W/half.bundle" --ca "$W/ca/ca.cert"
printf 'SIRACRT1' >"$W/notabundle"
expect_fail "a file that is not a bundle is refused" \
    "not a Sira evidence bundle file" \
    "$AGENT" verify-bundle "$W/notabundle" --ca "$W/ca/ca.cert"
"$CERT" init --ca-dir "$W/ca2" --name "Une autre AC" \
    --insecure-no-passphrase >/dev/null 2>&1
expect_fail "another CA does not vouch for it" \
    "^sira-agent: bundle: revocation list signature does not verify against CA" \
    "$AGENT" verify-bundle "$W/police.bundle" --ca "$W/ca2/ca.cert"
run "$AGENT" verify-bundle "$W/police.bundle"
expect_true "verify-bundle without --ca is a usage error" [ "$rc" -eq 2 ]
expect_grep "and says what is missing" "needs FILE and --ca" "$ERR"

# A seed for tests/fuzz/fuzz_bundle.c, when asked for.
if [ -n "${SIRA_KEEP_BUNDLE:-}" ]; then
	cp "$W/police.bundle" "$W/ca/ca.cert" "$SIRA_KEEP_BUNDLE/"
	cp "$W"/agent-*.log "$SIRA_KEEP_BUNDLE/" 2>/dev/null
fi
done_
