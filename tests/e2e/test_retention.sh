#!/bin/sh
# test_retention.sh: the retention rules of agent.conf (docs/WORKFLOWS.md,
# "Retention"), with a real broker and two real agents. The police refer
# four people to a shelter: one declined (with a document), one taken on
# and closed, one still under way, one child declined. The clock is moved
# on (SIRA_CLOCK_OFFSET): 31 days later only the declined adult is due at
# the police, and `erase --due` erases it there and nowhere else; the
# shelter, whose only rule is for declined cases, erases it too but keeps
# the child (a child's case is of kind "child", which it has no rule
# for); 366 days later the closed case goes, the open one never. A wrong
# rule erases nothing and says which line; a clock the daemon found wrong
# stops it. Every step is in the audit, which still verifies.
. "$(dirname "$0")/../lib/cli.sh"
. "$(dirname "$0")/lib.sh"
W="$T/w"
mkdir -p "$W"
P=ml.police.segou
N=ml.ngo.espoir
R1=MRN-2026-8101 # adult, declined, with a document
R2=MRN-2026-8102 # adult, taken on, completed
R3=MRN-2026-8103 # adult, taken on, under way
R4=MRN-2026-8104 # child, declined
DOCMARK=ZZDOC-RETENTION-8101
DATA="$(pwd)/tests/data"
D=86400

pki "$W" $P:police $N:ngo
cp "$W/ca/ca.crl" "$W/crl"
start_broker
for a in $P $N; do
	agent_init $a
	agent_start $a
done
knows() { ag "$1" directory --json | jq -e --arg id "$2" \
    'any(.[]; .agency == $id)' >/dev/null; }
for a in $P $N; do
	expect_true "$a fetched the directory" wait_for 30 knows $a $N
	expect_true "$a published its prekey" \
	    wait_for 30 grep -q "prekey.published" "$W/agent-$a.log"
done
# at OFFSET ID CMD...: a command at ID with the clock OFFSET seconds on.
at() {
	off=$1
	id=$2
	shift 2
	env SIRA_CLOCK_OFFSET="$off" "$AGENT" "$@" --home "$W/home-$id"
}
case_is() {
	ag "$1" case "$2" --json >"$W/case.json" 2>/dev/null &&
	    jq -e "$3" "$W/case.json" >/dev/null
}
adult() {
	jq --arg r "$1" '.case_ref = $r | .age = {"years": 27} |
	    del(.consent.guardian_consent)' "$DATA/referral-example.json" >"$2"
}
adult $R1 "$W/r1.json"
adult $R2 "$W/r2.json"
adult $R3 "$W/r3.json"
jq --arg r $R4 '.case_ref = $r' "$DATA/referral-example.json" >"$W/r4.json"
printf 'Rapport %s\n' "$DOCMARK" >"$W/rapport.txt"

expect_ok "refer the first adult, with a document" \
    ag $P refer --to $N --file "$W/r1.json" --attach "$W/rapport.txt"
for r in 2 3 4; do
	expect_ok "refer case $r" ag $P refer --to $N --file "$W/r$r.json"
done
for r in $R1 $R2 $R3 $R4; do
	expect_true "the shelter has $r" wait_for 60 case_is $N $r '.referral != null'
done
expect_true "the shelter has the document" \
    wait_for 60 sh -c "grep -rqa '$DOCMARK' '$W/home-$N/documents'"
expect_ok "the shelter declines the first" \
    ag $N decline $R1 --reason "Plus de place"
expect_ok "and the child" ag $N decline $R4 --reason "Plus de place"
expect_ok "it takes on the second" ag $N accept $R2
expect_ok "  and closes it" ag $N feedback $R2 --status completed
expect_ok "it takes on the third" ag $N accept $R3
expect_ok "  under way" ag $N feedback $R3 --status started
for r in $R1 $R4; do
	expect_true "the police see $r declined" \
	    wait_for 60 case_is $P $r '.referrals[0].state == "declined"'
done
expect_true "  $R2 completed" \
    wait_for 60 case_is $P $R2 '.referrals[0].state == "services completed"'
expect_true "  $R3 under way" \
    wait_for 60 case_is $P $R3 '.referrals[0].state == "services started"'
pending() { ag "$1" outbox --json |
    jq -e '[.[] | select(.state != "delivered")] | length == 0' >/dev/null; }
expect_true "  every receipt is back" wait_for 60 pending $N

# --- no rule: nothing is ever due ---
expect_ok "without rules, erase --due lists nothing" \
    at $((3000 * D)) $P erase --due --dry-run --json
expect_true "  nothing due" jq -e '.due == [] and .cases == 4' "$OUT"

cat >>"$W/home-$P/agent.conf" <<'CONF'
retain_days = 30
retain_days.closed = 365
retain_days.child = 1000
CONF
echo "retain_days.declined = 30" >>"$W/home-$N/agent.conf"

# --- 29 days on: not yet ---
expect_ok "29 days on, a dry run" at $((29 * D)) $P erase --due --dry-run --json
expect_true "  nothing is due yet" jq -e '.due == [] and .open == 1' "$OUT"

# --- 31 days on: the declined adult ---
expect_ok "31 days on, the status" at $((31 * D)) $P status --json
expect_true "  counts one case past its period" \
    jq -e '.retention_due == 1' "$OUT"
expect_ok "  and says it in words" at $((31 * D)) $P status
expect_grep "  pointing at erase --due" "RETENTION: .*1 cases.*erase --due" "$OUT"
run env LANGUAGE=fr LANG=fr_FR.UTF-8 LC_ALL= SIRA_CLOCK_OFFSET=$((31 * D)) \
    "$AGENT" erase --due --dry-run --home "$W/home-$P"
expect_grep "in French, the rules" "refusé : 30 jours ; clos : 365 jours" "$OUT"
expect_grep "  and the case, with its kind" \
    "$R1 +refusé +dernière activité le .*échu depuis le" "$OUT"
expect_ok "a dry run lists it" at $((31 * D)) $P erase --due --dry-run --json
expect_true "  the declined adult alone, as declined" jq -e --arg r $R1 \
    '[.due[] | .case] == [$r] and .due[0].kind == "declined" and
     .rules.closed == 365 and .rules.child == 1000' "$OUT"
expect_true "  and erased nothing" case_is $P $R1 '.referral != null'
expect_ok "erase --due" at $((31 * D)) $P erase --due
expect_grep "  says what it erased" "1 cases erased here" "$OUT"
expect_grep "  and that no other agency is told" "no other agency" "$OUT"
expect_fail "the declined adult is gone at the police" "was erased" \
    ag $P case $R1
for r in $R2 $R3 $R4; do
	expect_true "  $r is kept" case_is $P $r '.referral != null'
done
erased_subjects() { ag $P audit show --json |
    jq -r '.[] | select(.action == "case.erased") | .subject'; }
erased_subjects >"$W/subjects"
expect_grep "the audit names the rule" "retain_days.declined = 30" "$W/subjects"
expect_true "  which gives no case reference" sh -c "! grep -q MRN '$W/subjects'"
expect_true "the shelter still has it: each agency keeps its own rules" \
    case_is $N $R1 '.referral != null'

expect_ok "the shelter, 31 days on" at $((31 * D)) $N erase --due --json
expect_true "  erases the declined adult, not the child" jq -e --arg r $R1 \
    '[.due[] | .case] == [$r] and .erased == 1' "$OUT"
expect_fail "  gone at the shelter" "was erased" ag $N case $R1
expect_true "  the child's case is kept (kind child, no rule)" \
    case_is $N $R4 '.referral != null'
expect_true "  and its document is wiped" \
    sh -c "! grep -rqa '$DOCMARK' '$W/home-$N/documents'"

# --- 366 days on: the closed case; the open one never ---
expect_ok "366 days on" at $((366 * D)) $P erase --due --json
expect_true "  the closed case goes" jq -e --arg r $R2 \
    '[.due[] | .case] == [$r] and .erased == 1 and .open == 1' "$OUT"
expect_fail "  gone" "was erased" ag $P case $R2
expect_true "  the case under way stays" case_is $P $R3 '.referral != null'
expect_true "  the child's stays (1000 days)" case_is $P $R4 '.referral != null'
expect_ok "1,100 days on" at $((1100 * D)) $P erase --due --dry-run --json
expect_true "  the child's case is due, the open one still not" \
    jq -e --arg r $R4 '[.due[] | .case] == [$r]' "$OUT"

# --- a wrong rule erases nothing ---
cp "$W/home-$P/agent.conf" "$W/agent.conf.good"
echo "retain_days.victime = 3" >>"$W/home-$P/agent.conf"
line=$(wc -l <"$W/home-$P/agent.conf")
expect_fail "a wrong rule is refused with its line" \
    "agent.conf line $line: unknown kind" at $((1100 * D)) $P erase --due
expect_true "  and nothing was erased" case_is $P $R4 '.referral != null'
expect_ok "status still answers" ag $P status
expect_grep "  and says no rule applies" "RETENTION: .*no rule applies" "$OUT"
cp "$W/agent.conf.good" "$W/home-$P/agent.conf"

# --- a clock the daemon found wrong stops it ---
agent_stop $P
jq '.clock_wrong = true' "$W/home-$P/status.json" >"$W/status.json"
cp "$W/status.json" "$W/home-$P/status.json"
expect_fail "a wrong clock stops erase --due" "clock does not agree" \
    at $((1100 * D)) $P erase --due
expect_true "  nothing erased" case_is $P $R4 '.referral != null'
expect_ok "  a dry run still lists" at $((1100 * D)) $P erase --due --dry-run

for a in $P $N; do
	expect_ok "$a: the audit chain verifies" ag $a audit verify
done
done_
