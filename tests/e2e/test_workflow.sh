#!/bin/sh
# test_workflow.sh: the referral mechanism's workflows with a real broker
# and five real agents on loopback: refer, decline with a suggestion,
# refer again, accept, feedback, revoke, transfer, a prosecutor's file
# request granted and another refused; every illegal step refused with a
# clear message and nothing queued; cases and case views; consent on
# onward sharing.
. "$(dirname "$0")/../lib/cli.sh"
. "$(dirname "$0")/lib.sh"
W="$T/w"
mkdir -p "$W"
P=ml.police.segou
N=ml.ngo.espoir
N2=ml.ngo.refuge
S=ml.social.segou
J=ml.justice.pole
REF=MRN-2026-0042
DATA="$(pwd)/tests/data"

pki "$W" $P:police $N:ngo $N2:ngo $S:social_services $J:justice
cp "$W/ca/ca.crl" "$W/crl"
start_broker
for a in $P $N $N2 $S $J; do
	agent_init $a
	agent_start $a
done
knows() { ag "$1" directory --json | jq -e --arg id "$2" \
    'any(.[]; .agency == $id)' >/dev/null; }
for a in $P $N $N2 $S $J; do
	expect_true "$a fetched the directory" wait_for 30 knows $a $J
	expect_true "$a published its prekey" \
	    wait_for 30 grep -q "prekey.published" "$W/agent-$a.log"
done
# prekeys of everyone reach everyone with the next directory fetch
sleep 3

# case_is ID REF JQ: the case view of ID satisfies JQ.
case_is() {
	ag "$1" case "$2" --json >"$W/case.json" 2>/dev/null &&
	    jq -e "$3" "$W/case.json" >/dev/null
}
n_out() { ag "$1" outbox --json | jq length; }

# --- refusals at the keyboard: nothing is queued ---
sed 's/"female"/"feminin"/' "$DATA/referral-example.json" >"$W/bad.json"
expect_fail "a wrong field is named" '^sira-agent: sex: ' \
    ag $P refer --to $N --file "$W/bad.json"
jq '.consent.given = false | del(.consent.scope)' \
    "$DATA/referral-example.json" >"$W/noconsent.json"
expect_fail "no consent: identifying details are refused, and why" \
    'identifying: the person did not consent' \
    ag $P refer --to $N --file "$W/noconsent.json"
expect_fail "an unknown agency is refused" 'ml.ngo.nulle is not a known' \
    ag $P refer --to ml.ngo.nulle --file "$DATA/referral-example.json"
expect_fail "only a prosecutor requests a case file" 'role justice' \
    ag $P request-file --case $REF --from $N --basis "art. 12"
expect_fail "a missing document is named" 'absent.pdf' \
    ag $P refer --to $N --file "$DATA/referral-example.json" \
    --attach "$W/absent.pdf"
expect_true "nothing was queued by the refused commands" has 0 n_out $P
expect_fail "and the case was not opened by them" "no case $REF" \
    ag $P case $REF

# --- referral, declined with a suggestion ---
expect_ok "the police refer the child to the shelter" \
    ag $P refer --to $N --file "$DATA/referral-example.json"
expect_true "refer prints the case reference" grep -qx "$REF" "$OUT"
expect_fail "the same case cannot be referred twice to the same place" \
    "already referred to $N" \
    ag $P refer --to $N --file "$DATA/referral-example.json"
expect_true "the shelter sees the referral to answer" \
    wait_for 40 case_is $N $REF '.status | test("to answer")'
expect_ok "the shelter reads it with show" ag $N inbox --json
ID=$(jq -r '.[0].id' "$OUT")
expect_ok "show the referral" ag $N show "$ID"
expect_grep "show renders the referral, accents intact" \
    'Brigade des mœurs' "$OUT"
expect_fail "an agency it was not sent to cannot answer it" \
    "no case $REF" ag $S accept $REF
expect_fail "a decline needs a reason" 'reason is required' \
    ag $N decline $REF
expect_ok "the shelter declines: no place left, suggests another" \
    ag $N decline $REF --reason "Plus de place" --suggest $N2
expect_fail "accepting after declining is refused" 'already declined' \
    ag $N accept $REF
expect_fail "declining twice is refused" 'already declined' \
    ag $N decline $REF --reason "encore"
expect_true "the police see the decline and the suggestion" \
    wait_for 40 case_is $P $REF \
    '.referrals[0].state == "declined" and .referrals[0].suggested == "ml.ngo.refuge"'
expect_fail "the police cannot answer their own referral" \
    'no referral addressed to this agency' ag $P accept $REF

# --- referred again, accepted, feedback ---
expect_ok "the police refer to the suggested shelter" \
    ag $P refer --to $N2 --file "$DATA/referral-example.json"
expect_true "the second shelter has it" \
    wait_for 40 case_is $N2 $REF '.status | test("to answer")'
expect_fail "feedback before accepting is refused" 'needs an accepted' \
    ag $N2 feedback $REF --status started
expect_ok "the second shelter accepts" ag $N2 accept $REF
expect_fail "accepting twice is refused" 'already accepted' \
    ag $N2 accept $REF
expect_true "the police see it accepted" \
    wait_for 40 case_is $P $REF \
    '.referrals[1].state == "accepted" and .referrals[1].to == "ml.ngo.refuge"'
expect_fail "an accepted referral cannot be withdrawn" \
    'cannot be withdrawn' ag $P revoke $REF --to $N2 --reason "erreur"
expect_fail "feedback needs a status" 'needs --status started' \
    ag $N2 feedback $REF
expect_ok "services started" \
    ag $N2 feedback $REF --status started --note "Prise en charge médicale"
expect_true "the police see the feedback" \
    wait_for 40 case_is $P $REF '.referrals[1].state == "services started"'
expect_true "every message the police sent carries a receipt" \
    wait_for 40 case_is $P $REF \
    '[.timeline[] | select(.agency == "ml.police.segou") | .delivery.state] | all(. == "delivered")'

# --- transfer: shelter to social services for reintegration ---
expect_ok "the shelter hands the case to social services" \
    ag $N2 transfer --case $REF --to $S --note "Réinsertion familiale"
expect_fail "a case handed over cannot be transferred again" \
    "transferred to $S" ag $N2 transfer --case $REF --to $P
expect_true "social services hold the case with its history" \
    wait_for 40 case_is $S $REF \
    '.held and (.earlier_history | length) == 3 and .referral.identifying.full_name != null'
expect_true "the shelter's view says where it went" \
    case_is $N2 $REF ".transferred_to == \"$S\" and (.held | not)"

# --- a prosecutor's case-file request, granted ---
expect_fail "a request needs a legal basis" 'legal basis' \
    ag $J request-file --case $REF --from $S
expect_ok "the prosecutor asks social services for the file" \
    ag $J request-file --case $REF --from $S \
    --basis "Art. 18 loi n°2012-023, réquisition du 28/11/2026"
REQ=$(cat "$OUT")
expect_true "request-file prints a request id" \
    sh -c "echo '$REQ' | grep -Eqx '[0-9a-f]{32}'"
expect_true "social services see the pending request" \
    wait_for 40 case_is $S $REF '.file_requests[0].state == "pending"'
expect_fail "granting a request never made is refused" \
    'no file request with that id' ag $S grant 00000000000000000000000000000000
expect_fail "the prosecutor cannot grant its own request" \
    'no request for the file' ag $J grant "$REQ"
expect_ok "social services grant it" ag $S grant "$REQ"
expect_true "consent covers services only: identifying details withheld" \
    grep -q 'identifying details withheld' "$ERR"
expect_fail "granting twice is refused" 'already granted' \
    ag $S grant "$REQ"
expect_fail "refusing after granting is refused" 'already granted' \
    ag $S refuse "$REQ" --reason "non"
# The file's timeline holds 5 events; the prosecutor's own request is one
# of them, already on its timeline under the same message id, so 4 are
# earlier history.
expect_true "the prosecutor has the file, without identifying details" \
    wait_for 40 case_is $J $REF \
    '.file_requests[0].state == "granted" and .referral.case_ref == "MRN-2026-0042" and .referral.identifying == null and (.earlier_history | length) == 4 and ([.timeline[] | select(.action == "file.requested")] | length) == 1'

# --- a second request, refused with a reason ---
expect_ok "a second request, to the police" \
    ag $J request-file --case $REF --from $P --basis "Art. 18"
REQ2=$(cat "$OUT")
expect_true "the police see it" \
    wait_for 40 case_is $P $REF '[.file_requests[] | select(.state == "pending")] | length == 1'
expect_fail "a refusal needs a reason" 'reason is required' \
    ag $P refuse "$REQ2"
expect_ok "the police refuse it" \
    ag $P refuse "$REQ2" --reason "Dossier déjà transmis au parquet"
expect_true "the prosecutor sees the refusal and its reason" \
    wait_for 40 case_is $J $REF \
    '[.file_requests[] | select(.state == "refused" and .reason == "Dossier déjà transmis au parquet")] | length == 1'

# --- a referral withdrawn before an answer ---
jq '.case_ref = "MRN-2026-0043"' "$DATA/referral-example.json" >"$W/r43.json"
expect_ok "another referral" ag $P refer --to $N --file "$W/r43.json"
expect_true "it arrived" \
    wait_for 40 case_is $N MRN-2026-0043 '.status | test("to answer")'
expect_fail "a withdrawal needs a reason" 'reason is required' \
    ag $P revoke MRN-2026-0043
expect_ok "the police withdraw it" \
    ag $P revoke MRN-2026-0043 --reason "Victime rentrée en famille"
expect_true "the shelter sees it withdrawn" \
    wait_for 40 case_is $N MRN-2026-0043 '.referrals[0].state == "withdrawn"'
expect_fail "a withdrawn referral cannot be accepted" 'withdrawn' \
    ag $N accept MRN-2026-0043
expect_fail "nor withdrawn twice" 'no referral from this agency waiting' \
    ag $P revoke MRN-2026-0043 --reason "encore"

# --- two agencies refer the same case to one shelter ---
jq '.case_ref = "MRN-2026-0044"' "$DATA/referral-example.json" >"$W/r44.json"
jq '.case_ref = "MRN-2026-0044" | .notes = "autre version"' \
    "$DATA/referral-example.json" >"$W/r44b.json"
expect_ok "the police refer a case" ag $P refer --to $N --file "$W/r44.json"
expect_ok "the other shelter refers the same reference, other content" \
    ag $N2 refer --to $N --file "$W/r44b.json"
expect_true "both reach the shelter" \
    wait_for 40 case_is $N MRN-2026-0044 '(.referrals | length) == 2'
expect_true "the first content is kept, the other flagged" \
    case_is $N MRN-2026-0044 '.referral.notes != "autre version" and any(.timeline[]; .action == "anomaly")'
expect_fail "two waiting: the shelter must say whose it accepts" \
    'say whose with --from' ag $N accept MRN-2026-0044
expect_ok "accept the police's" ag $N accept MRN-2026-0044 --from $P
expect_true "the police see it accepted" \
    wait_for 40 case_is $P MRN-2026-0044 '.referrals[0].state == "accepted"'
expect_true "the other referrer's is still waiting" \
    case_is $N MRN-2026-0044 '[.referrals[] | select(.from == "ml.ngo.refuge")][0].state == "awaiting answer"'

# --- a referral the broker refuses does not block the case ---
jq '.case_ref = "MRN-2026-0045"' "$DATA/referral-example.json" >"$W/r45.json"
expect_ok "the prosecutor tries to refer (the broker's policy refuses it)" \
    ag $J refer --to $N --file "$W/r45.json"
expect_true "the broker refuses it" \
    wait_for 40 case_is $J MRN-2026-0045 '.timeline[0].delivery.state == "refused"'
expect_ok "referring again is not blocked by the refused one" \
    ag $J refer --to $N --file "$W/r45.json"
expect_true "which is closed as not delivered, with why" \
    case_is $J MRN-2026-0045 '.referrals[0].state == "not delivered" and (.referrals[0].reason | test("refused")) and .referrals[1].state == "awaiting answer"'

# --- notes on a case; case steps only through their commands ---
echo "Rendez-vous médical le 2 décembre" >"$W/note.txt"
expect_ok "a note about the case" \
    ag $P send --to $N2 --kind note --case $REF --file "$W/note.txt"
expect_true "it is on the police's timeline" \
    case_is $P $REF '[.timeline[] | select(.action == "note.sent")] | length == 1'
expect_true "and on the shelter's" \
    wait_for 40 case_is $N2 $REF '[.timeline[] | select(.action == "note.received")] | length == 1'
run ag $P send --to $N2 --kind referral_response --case $REF --file "$W/note.txt"
expect_true "send cannot forge a case step" [ "$rc" -eq 2 ]
expect_grep "and says which commands to use" 'notes only' "$ERR"

# --- views ---
expect_ok "cases lists every case" ag $P cases
expect_grep "both cases listed" "MRN-2026-0042" "$OUT"
expect_grep "with where they stand" "MRN-2026-0043 .*withdrawn" "$OUT"
expect_ok "case shows a readable timeline" ag $P case $REF
expect_grep "the timeline names who did what" \
    "ml.ngo.refuge +reported: services started" "$OUT"
expect_grep "and deliveries" "delivered at" "$OUT"
expect_fail "an unknown case" 'no case MRN-1' ag $P case MRN-1
run ag $P accept 'MRN 1;'
expect_true "a bad case reference is a usage error" [ "$rc" -eq 2 ]
expect_grep "that says what a reference is" 'case reference is 1 to 64' "$ERR"
expect_true "no case reference in clear in any LMDB file" \
    sh -c "! grep -rq 'MRN-2026-0042' $W/home-*/vault"
expect_ok "the audit chains still verify" ag $P audit verify

for a in $P $N $N2 $S $J; do agent_stop $a; done
stop_broker
done_
