#!/bin/sh
# test_erase.sh: erasure that really erases, with a real broker and four
# real agents on loopback (docs/SECURITY.md, "Effacement"). The police
# refer a victim (marker strings in the name, the notes and an attached
# document) to the shelter and transfer the case to social services; then
# erase it. Each agency erases, answers with a signed receipt, and the
# police show both; the shelter's daemon is killed in the middle of its
# compaction (after the copy, before the swap) and comes back whole. Then
# no file of any agency's home holds a marker or the case reference, the
# broker never did, and the erased case cannot come back. A prosecutor's
# legal hold makes erase refuse, naming the prosecutor and the basis;
# released, the erasure goes through.
. "$(dirname "$0")/../lib/cli.sh"
. "$(dirname "$0")/lib.sh"
W="$T/w"
mkdir -p "$W"
P=ml.police.segou
N=ml.ngo.espoir
S=ml.social.segou
J=ml.justice.pole
REF=MRN-2026-7731
REF2=MRN-2026-7732
MARK=ZZMARKER-AMINATA-7731
DOCMARK=ZZDOC-PIECE-7731
DATA="$(pwd)/tests/data"

pki "$W" $P:police $N:ngo $S:social_services $J:justice
cp "$W/ca/ca.crl" "$W/crl"
start_broker
for a in $P $N $S $J; do
	agent_init $a
done
for a in $P $S $J; do
	agent_start $a
done
agent_start_env $N SIRA_CRASH_AT=vault.compact.copied
knows() { ag "$1" directory --json | jq -e --arg id "$2" \
    'any(.[]; .agency == $id)' >/dev/null; }
for a in $P $N $S $J; do
	expect_true "$a fetched the directory" wait_for 30 knows $a $J
	expect_true "$a published its prekey" \
	    wait_for 30 grep -q "prekey.published" "$W/agent-$a.log"
done
sleep 3
case_is() {
	ag "$1" case "$2" --json >"$W/case.json" 2>/dev/null &&
	    jq -e "$3" "$W/case.json" >/dev/null
}
# referral REF FILE: the example referral as case REF, with the markers.
referral() {
	jq --arg r "$1" --arg m "$MARK" \
	    '.case_ref = $r | .identifying.full_name = ("Aminata " + $m) |
	     .notes = ("Suivi : " + $m)' "$DATA/referral-example.json" >"$2"
}
referral $REF "$W/ref1.json"
referral $REF2 "$W/ref2.json"
printf 'Certificat médical %s\n' "$DOCMARK" >"$W/certificat.txt"

# --- the case travels: police -> shelter (with a document) -> transfer ---
expect_ok "the police refer the victim with a document" \
    ag $P refer --to $N --file "$W/ref1.json" --attach "$W/certificat.txt"
expect_true "the shelter has the referral and its document" \
    wait_for 60 sh -c "grep -rqa '$DOCMARK' '$W/home-$N/documents'"
expect_ok "the shelter accepts" ag $N accept $REF
expect_ok "the police hand the case to social services" \
    ag $P transfer --case $REF --to $S --note "Réinsertion"
expect_true "social services hold it, with the name" \
    wait_for 60 case_is $S $REF ".referral.identifying.full_name | test(\"$MARK\")"
expect_true "the police saw the acceptance" \
    wait_for 40 case_is $P $REF '.referrals[0].state == "accepted"'

# --- erasure at the police, ordered at the shelter and social services ---
run ag $P erase --case $REF
expect_true "erase without a reason is a usage error" test "$rc" -eq 2
expect_grep "which says what is missing" "needs --case and --reason" "$ERR"
expect_ok "the police erase the case" \
    ag $P erase --case $REF --reason "Demande de la victime, art. 5"
expect_grep "erase says what it removed" "case $REF erased here" "$OUT"
expect_grep "and where it ordered erasure" "erasure ordered at 2 agencies" \
    "$OUT"
expect_fail "the case is gone at the police" "was erased" ag $P case $REF
erasures_are() { ag $P status --json | jq -e ".erasures | $1" >/dev/null; }
expect_true "status counts the two orders sent" \
    erasures_are '.cases == 1 and .orders == 2'
expect_true "the shelter's daemon died in its compaction, as planned" \
    await_crash "$W/agent-$N.log" vault.compact.copied "$(cat "$W/pid-$N")"
rm -f "$W/pid-$N"
agent_start $N
proofs() { ag $P erase --case $REF --reason "x" >"$W/proofs.txt" 2>&1 &&
    grep -q "erased at $N" "$W/proofs.txt" &&
    grep -q "erased at $S" "$W/proofs.txt"; }
expect_true "both signed erasure receipts reach the police" \
    wait_for 90 proofs
expect_grep "a second erase answers the same" "already erased here" \
    "$W/proofs.txt"
expect_true "status: no order left unanswered" \
    erasures_are '.unanswered == 0 and .refused == 0'
expect_fail "the case is gone at the shelter" "was erased" ag $N case $REF
expect_fail "and at social services" "was erased" ag $S case $REF
expect_true "the shelter's daemon compacted after its restart" \
    wait_for 30 grep -q "vault.compacted" "$W/agent-$N.log"
expect_true "social services' daemon compacted" \
    wait_for 30 grep -q "vault.compacted" "$W/agent-$S.log"
expect_true "the shelter's audit chain still verifies" \
    ag $N audit verify
expect_true "the police's audit chain still verifies" \
    ag $P audit verify

# --- a legal hold: refused, then released ---
expect_ok "the police refer a second case" ag $P refer --to $N --file "$W/ref2.json"
expect_true "the shelter has it" wait_for 60 case_is $N $REF2 '.status != null'
expect_ok "the prosecutor asks the police for the file" \
    ag $J request-file --case $REF2 --from $P --basis "Art. 18, réquisition"
REQ=$(cat "$OUT")
expect_true "the police see the request" \
    wait_for 40 case_is $P $REF2 '.file_requests[0].state == "pending"'
expect_ok "the police grant it" ag $P grant "$REQ"
expect_true "the prosecutor has the file" \
    wait_for 40 case_is $J $REF2 '.file_requests[0].state == "granted"'
expect_fail "only justice sets a hold" "only a justice agency" \
    ag $P hold --case $REF2 --basis "non"
expect_ok "the prosecutor sets a legal hold" \
    ag $J hold --case $REF2 --basis "Instruction 12/2026"
expect_true "the police acknowledge the hold" wait_for 40 case_is $J $REF2 \
    '[.timeline[] | select(.action == "hold.answered")] | length >= 1'
expect_fail "erase refuses, naming the prosecutor and the basis" \
    "legal hold set by $J \\(basis: Instruction 12/2026\\)" \
    ag $P erase --case $REF2 --reason "fin de prise en charge"
expect_true "nothing was erased" case_is $P $REF2 '.referral != null'
expect_ok "the prosecutor releases the hold" ag $J hold --case $REF2 --release
expect_true "the police have the release" wait_for 40 case_is $J $REF2 \
    '[.timeline[] | select(.action == "hold.answered")] | length >= 2'
expect_ok "now the erasure goes through" \
    ag $P erase --case $REF2 --reason "fin de prise en charge"
proofs2() { ag $P erase --case $REF2 --reason "x" >"$W/proofs2.txt" 2>&1 &&
    grep -q "erased at $N" "$W/proofs2.txt" &&
    grep -q "erased at $J" "$W/proofs2.txt"; }
expect_true "the shelter and the prosecutor erase it too" wait_for 90 proofs2

# --- nothing left in any file of any agency ---
sleep 3 # a last receipt's compaction
for a in $P $N $S $J; do
	agent_stop $a
done
for a in $P $N $S $J; do
	# Compacts what the daemon had left to compact (nothing else).
	ag $a erase --case $REF --reason x >/dev/null 2>&1
	ag $a erase --case $REF2 --reason x >/dev/null 2>&1
done
for a in $P $N $S $J; do
	expect_true "$a: no marker, document or case reference in any file" \
	    sh -c "! grep -rqa -e '$MARK' -e '$DOCMARK' -e '$REF' -e '$REF2' \
	    '$W/home-$a'"
	expect_true "$a: its vault was compacted (no temporary copy left)" \
	    test ! -e "$W/home-$a/vault/compact.tmp/data.mdb"
done
expect_true "the broker never held a marker in clear" \
    sh -c "! grep -rqa -e '$MARK' -e '$DOCMARK' '$W/data'"
agent_start $N
expect_true "the shelter's agent starts again after all this" \
    wait_for 30 sh -c "grep -c agent.started '$W/agent-$N.log' | grep -qv '^[12]$'"
expect_fail "an erased case cannot come back" "was erased" ag $N case $REF
agent_stop $N
stop_broker
done_
