#!/bin/sh
# test_enrol.sh: enrolment by request (docs/PKI.md) with real processes.
# An agency makes its keys and request (sira-agent keygen), the committee
# signs it after checking the fingerprint (sira-cert sign-request), the
# agency's agent exchanges messages through a real broker with an agency
# made the demo way; then refusals (tampered, truncated, wrong fingerprint,
# id taken, key file 0644, revoked keys), the renewal path end to end
# (renew-request, sign-request, install-cert) and the expiry warning.
. "$(dirname "$0")/../lib/cli.sh"
. "$(dirname "$0")/lib.sh"
W="$T/w"
mkdir -p "$W"
P=ml.police.bamako
N=ml.ngo.espoir
S=ml.social.kayes
REQ="$W/agency-$P/$P.req"

pki "$W" $N:ngo
cp "$W/ca/ca.crl" "$W/crl"
printf 'une phrase de passe longue\n' >"$W/pass"
chmod 600 "$W/pass"

# --- at the agency: keys and request ---
expect_ok "keygen makes keys and a request at the agency" \
    "$AGENT" keygen --id $P --name "Police de Bamako" --role police \
    --ca "$W/ca/ca.cert" --out "$W/agency-$P" --passphrase-file "$W/pass"
cp "$OUT" "$W/keygen.out"
FP=$(sed -n 's/^fingerprint: //p' "$W/keygen.out")
expect_true "keygen shows a fingerprint of six groups" \
    sh -c "echo '$FP' | grep -Eq '^([0-9A-F]{4}-){5}[0-9A-F]{4}$'"
expect_true "the key file is 0600" \
    [ "$(stat -c %a "$W/agency-$P/$P.key")" = 600 ]
expect_fail "keygen never overwrites" "already exists" \
    "$AGENT" keygen --id $P --name "Police de Bamako" --role police \
    --ca "$W/ca/ca.cert" --out "$W/agency-$P" --no-passphrase
run "$AGENT" keygen --id ml.x.y --name X --role broker --ca "$W/ca/ca.cert" \
    --out "$W/x" --no-passphrase
expect_true "keygen refuses a role an agency cannot have (usage error)" \
    [ "$rc" -eq 2 ]
expect_true "and makes no key for it" [ ! -e "$W/x/ml.x.y.key" ]

expect_ok "sira-cert show reads a request" "$CERT" show "$REQ"
expect_grep "and shows the same fingerprint" "fingerprint: +$FP" "$OUT"

# --- at the committee: what it refuses ---
/usr/bin/python3 - "$REQ" "$W/tampered.req" <<'EOF'
import sys
b = open(sys.argv[1], "rb").read()
assert b.count(b"Bamako") == 1
open(sys.argv[2], "wb").write(b.replace(b"Bamako", b"Bamakx"))
EOF
expect_fail "a tampered request is refused" "not signed by the key it carries" \
    "$CERT" sign-request --ca-dir "$W/ca" "$W/tampered.req" \
    --out "$W/t.cert" --yes
head -c 120 "$REQ" >"$W/short.req"
expect_fail "a truncated request is refused" "short.req refused" \
    "$CERT" sign-request --ca-dir "$W/ca" "$W/short.req" --out "$W/t.cert" \
    --yes
expect_fail "a certificate is not a request" "not a Sira enrolment request" \
    "$CERT" sign-request --ca-dir "$W/ca" "$W/ag/$N.cert" --out "$W/t.cert" \
    --yes
"$CERT" init --ca-dir "$W/ca2" --name "Autre CA" --insecure-no-passphrase \
    >/dev/null 2>&1
"$AGENT" keygen --id ml.ngo.autre --name "Autre" --role ngo \
    --ca "$W/ca2/ca.cert" --out "$W/other-ca" --no-passphrase >/dev/null 2>&1
expect_fail "a request made for another CA is refused before any call" \
    "made for another CA" \
    "$CERT" sign-request --ca-dir "$W/ca" "$W/other-ca/ml.ngo.autre.req" \
    --out "$W/t.cert" --yes
expect_true "without showing a fingerprint to confirm" \
    sh -c "! grep -q FINGERPRINT '$OUT'"
expect_fail "a wrong fingerprint is refused" "is not the request's" \
    "$CERT" sign-request --ca-dir "$W/ca" "$REQ" --out "$W/t.cert" \
    --fingerprint 0000-0000-0000-0000-0000-0000
run sh -c "echo non | '$CERT' sign-request --ca-dir '$W/ca' '$REQ' --out '$W/t.cert'"
expect_true "an operator who does not say yes signs nothing" \
    [ "$rc" -eq 1 ] && [ ! -e "$W/t.cert" ]
expect_true "nothing was issued by the refusals" [ ! -e "$W/ca/issued/3.cert" ]

# --- signed on the fingerprint read over the phone ---
typed=$(echo "$FP" | tr 'A-F-' 'a-f ')
expect_ok "sign-request signs on the fingerprint (typed in any case)" \
    "$CERT" sign-request --ca-dir "$W/ca" "$REQ" --out "$W/$P.cert" \
    --fingerprint "$typed"
S1=$(sed -n 's/^issued .*, serial \([0-9]*\),.*/\1/p' "$OUT")
expect_grep "it showed the request's fingerprint" "FINGERPRINT: $FP" "$OUT"
expect_grep "and who asks" "agency: +$P" "$OUT"
expect_true "the CA holds no key of the agency" \
    [ "$(find "$W/ca" -name '*.key' | wc -l)" -eq 1 ]
expect_ok "the certificate verifies" "$CERT" verify --ca "$W/ca/ca.cert" \
    "$W/$P.cert"

# The same id with other keys, while the first certificate is valid.
"$AGENT" keygen --id $P --name "Faux" --role police --ca "$W/ca/ca.cert" \
    --out "$W/impostor" --no-passphrase >/dev/null 2>&1
expect_fail "an id already certified for other keys is refused" \
    "already holds a valid certificate" \
    "$CERT" sign-request --ca-dir "$W/ca" "$W/impostor/$P.req" \
    --out "$W/i.cert" --yes

# --- the agency's key file must stay private ---
chmod 644 "$W/agency-$P/$P.key"
expect_fail "a key file readable by others is refused" "0600|permission|mode" \
    "$AGENT" init --home "$W/home-$P" --cert "$W/$P.cert" \
    --key "$W/agency-$P/$P.key" --ca "$W/ca/ca.cert" --broker tcp://x:1 \
    --broker-cert "$W/broker/ml.sira.broker.cert" --passphrase-file "$W/pass"
expect_true "and no home is made" [ ! -e "$W/home-$P/agent.conf" ]
chmod 600 "$W/agency-$P/$P.key"

# --- the agent runs with the certificate from its request ---
cp "$W/$P.cert" "$W/certs/"
start_broker
expect_ok "init with the signed certificate and the agency's own key" \
    "$AGENT" init --home "$W/home-$P" --cert "$W/$P.cert" \
    --key "$W/agency-$P/$P.key" --ca "$W/ca/ca.cert" --broker "$EP" \
    --broker-cert "$W/broker/ml.sira.broker.cert" --passphrase-file "$W/pass"
agent_init $N
agent_start $P --passphrase-file "$W/pass"
agent_start $N
expect_true "the enrolled agency publishes its prekey" \
    wait_for 30 grep -q "prekey.published" "$W/agent-$P.log"
expect_true "and so does the other" \
    wait_for 30 grep -q "prekey.published" "$W/agent-$N.log"
echo "Signalement: ENROL-1" >"$W/m1.txt"
expect_ok "the enrolled police queue a referral" \
    ag $P send --passphrase-file "$W/pass" --to $N --kind referral \
    --file "$W/m1.txt"
expect_true "the shelter receives it" wait_for 60 has 1 n_inbox $N
expect_true "and the police hold its receipt" \
    sh -c "for i in \$(seq 1 150); do [ \"\$('$AGENT' outbox --json --home '$W/home-$P' --passphrase-file '$W/pass' | jq '[.[]|select(.state==\"delivered\")]|length')\" = 1 ] && exit 0; sleep 0.4; done; exit 1"

# --- renewal: same keys, a new certificate, installed by the agency ---
expect_ok "renew-request at the agency" \
    "$AGENT" renew-request --home "$W/home-$P" --passphrase-file "$W/pass" \
    --out "$W/renew.req"
RFP=$(sed -n 's/^fingerprint: //p' "$OUT")
expect_true "a renewal request has its own fingerprint" \
    [ -n "$RFP" ] && [ "$RFP" != "$FP" ]
expect_fail "a request is signed once only" "already signed" \
    "$CERT" sign-request --ca-dir "$W/ca" "$REQ" --out "$W/again.cert" --yes
expect_true "and the replay wrote nothing" [ ! -e "$W/again.cert" ]
expect_ok "the committee signs the renewal" \
    "$CERT" sign-request --ca-dir "$W/ca" "$W/renew.req" --days 400 \
    --out "$W/$P-2.cert" --fingerprint "$RFP"
expect_grep "it says it is a renewal" "renewal of: +serial" "$OUT"
S2=$(sed -n 's/^issued .*, serial \([0-9]*\),.*/\1/p' "$OUT")
expect_fail "install-cert refuses another agency's certificate" \
    "not for this agency" \
    "$AGENT" install-cert --home "$W/home-$P" --passphrase-file "$W/pass" \
    "$W/ag/$N.cert"
expect_fail "install-cert refuses a certificate for other keys" \
    "not for the keys of this agency" \
    sh -c "'$CERT' issue --ca-dir '$W/ca' --id $P --name Autre --role police --out '$W/other' >/dev/null 2>&1; '$AGENT' install-cert --home '$W/home-$P' --passphrase-file '$W/pass' '$W/other/$P.cert'"
cp "$W/$P-2.cert" "$W/certs/"
kill -HUP "$BPID"
sleep 1
agent_stop $P
expect_ok "install-cert takes the renewed certificate" \
    "$AGENT" install-cert --home "$W/home-$P" --passphrase-file "$W/pass" \
    "$W/$P-2.cert"
expect_fail "and refuses to go back to the older one" "does not last longer" \
    "$AGENT" install-cert --home "$W/home-$P" --passphrase-file "$W/pass" \
    "$W/$P.cert"
expect_ok "status after renewal" ag $P status --json --passphrase-file "$W/pass"
expect_true "status shows the renewed validity" \
    jq -e '.certificate_expiry_warning == false' "$OUT"
expect_ok "the audit records the installation" \
    ag $P audit show --json --passphrase-file "$W/pass"
expect_true "cert-installed in the audit" \
    jq -e '[.[] | select(.action == "cert-installed")] | length == 1' "$OUT"
: >"$W/agent-$P.log"
agent_start $P --passphrase-file "$W/pass"
expect_true "the renewed agency publishes a prekey for its new certificate" \
    wait_for 30 grep -q "prekey.published" "$W/agent-$P.log"
agent_stop $N
agent_start $N
echo "Suite: ENROL-2" >"$W/m2.txt"
echo "Réponse: ENROL-3" >"$W/m3.txt"
ag $P send --passphrase-file "$W/pass" --to $N --kind note \
    --file "$W/m2.txt" >/dev/null
expect_true "after renewal the police still reach the shelter" \
    wait_for 60 has 2 n_inbox $N
ag $N send --to $P --kind note --file "$W/m3.txt" >/dev/null
expect_true "and the shelter reaches the police" \
    sh -c "for i in \$(seq 1 150); do [ \"\$('$AGENT' inbox --json --home '$W/home-$P' --passphrase-file '$W/pass' | jq length)\" = 1 ] && exit 0; sleep 0.4; done; exit 1"

# --- revoked keys are not renewed ---
"$AGENT" renew-request --home "$W/home-$P" --passphrase-file "$W/pass" \
    --out "$W/renew2.req" >/dev/null
for s in $S1 $S2; do
	"$CERT" revoke --ca-dir "$W/ca" --serial $s --reason key_compromise \
	    >/dev/null 2>&1
done
expect_fail "a request with revoked keys is refused" "were revoked" \
    "$CERT" sign-request --ca-dir "$W/ca" "$W/renew2.req" \
    --out "$W/r2.cert" --yes

# --- the expiry warning, from 30 days before the end ---
expect_ok "keygen for a short-lived agency" \
    "$AGENT" keygen --id $S --name "Services sociaux de Kayes" \
    --role social_services --ca "$W/ca/ca.cert" --out "$W/agency-$S" \
    --no-passphrase
expect_ok "signed for 10 days, the operator answering oui" \
    sh -c "echo oui | '$CERT' sign-request --ca-dir '$W/ca' '$W/agency-$S/$S.req' --days 10 --out '$W/$S.cert'"
cp "$W/$S.cert" "$W/certs/"
kill -HUP "$BPID"
expect_ok "init the short-lived agency" \
    "$AGENT" init --home "$W/home-$S" --cert "$W/$S.cert" \
    --key "$W/agency-$S/$S.key" --ca "$W/ca/ca.cert" --broker "$EP" \
    --broker-cert "$W/broker/ml.sira.broker.cert"
expect_ok "status" ag $S status
expect_grep "status warns the certificate expires within 30 days" \
    "WARNING: expires within 30 days.*renew-request" "$OUT"
expect_ok "status --json" ag $S status --json
expect_true "the JSON says so too" \
    jq -e '.certificate_expiry_warning == true' "$OUT"
agent_start $S
expect_true "the daemon logs the coming expiry at start" \
    wait_for 20 grep -Eq "certificate.expiring.*days_left=(9|10) " "$W/agent-$S.log"
agent_stop $S
run env LANGUAGE=fr LANG=fr_FR.UTF-8 LC_ALL= "$AGENT" status --home "$W/home-$S"
expect_grep "in French for French users" "expire dans moins de 30 jours" "$OUT"

done_
