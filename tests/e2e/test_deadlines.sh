#!/bin/sh
# test_deadlines.sh: a referral left unanswered escalates at the right
# times, with a real broker and real agents (police, shelter, committee).
# Time is driven by SIRA_CLOCK_OFFSET (lib/clock.c), given to the broker
# and every agent alike, as if the whole country's clocks moved on: no
# sleep of hours. Before 48 h nothing; after 48 h the police see the step
# overdue and the shelter gets a reminder; 24 h after that the committee
# gets a metadata-only notice; a restart sends nothing twice; an answered
# referral never escalates; no name, age, note or case reference reaches
# the committee's files, even decrypted.
. "$(dirname "$0")/../lib/cli.sh"
. "$(dirname "$0")/lib.sh"
W="$T/w"
mkdir -p "$W"
P=ml.police.segou
N=ml.ngo.espoir
C=ml.coord.national
REF=MRN-2026-0042
REF2=MRN-2026-0043
DATA="$(pwd)/tests/data"
H=3600

pki "$W" $P:police $N:ngo $C:coordination
# A list valid 30 days: the clocks move three days on.
"$CERT" crl --ca-dir "$W/ca" --out "$W/crl" --crl-days 30 >/dev/null 2>&1
expect_true "a revocation list for the test" test -s "$W/crl"
start_broker
for a in $P $N $C; do agent_init $a; done
# The police's deadlines, as an operator writes them.
printf 'answer_hours.ngo = 48\nescalate_hours = 24\n' \
    >>"$W/home-$P/agent.conf"

knows() { ag "$1" directory --json | jq -e --arg id "$2" \
    'any(.[]; .agency == $id)' >/dev/null; }
# everyone OFFSET: broker and the three agents, all at this clock; back
# when the police's daemon is connected (its first escalation round runs
# in the same turn as the broker's Welcome).
everyone() {
	ups=$(count link.up "$W/agent-$P.log")
	ups=${ups:-0}
	for a in $P $N $C; do agent_stop $a; done
	stop_broker
	export SIRA_CLOCK_OFFSET=$1
	restart_broker
	for a in $P $N $C; do agent_start $a; done
	for a in $P $N $C; do
		wait_for 30 knows $a $C || fail_ "$a: no directory at +$1 s"
	done
	wait_for 30 sh -c "[ \$(grep -c link.up '$W/agent-$P.log') -gt $ups ]" ||
	    fail_ "the police's daemon did not connect at +$1 s"
}
n_log() { count "$2" "$W/agent-$1.log"; }
# notices ID: deadline notices in ID's outbox; inbox_notices ID: received.
notices() { ag "$1" outbox --json |
    jq '[.[] | select(.kind == "deadline_notice")] | length'; }
inbox_notices() { ag "$1" inbox --json |
    jq '[.[] | select(.kind == "deadline_notice")] | length'; }
overdue_is() { ag "$1" overdue --json >"$W/od.json" 2>/dev/null &&
    jq -e "$2" "$W/od.json" >/dev/null; }
case_is() { ag "$1" case "$2" --json >"$W/case.json" 2>/dev/null &&
    jq -e "$3" "$W/case.json" >/dev/null; }

everyone 0
sleep 3 # every prekey reaches everyone with the next directory

# --- two referrals: one left unanswered, one answered at once ---
expect_ok "the police refer a child to the shelter" \
    ag $P refer --to $N --file "$DATA/referral-example.json"
jq --arg r $REF2 '.case_ref = $r' "$DATA/referral-example.json" >"$W/r2.json"
expect_ok "and a second one" ag $P refer --to $N --file "$W/r2.json"
expect_true "the shelter has both" wait_for 40 case_is $N $REF2 \
    '.status | test("to answer")'
expect_ok "the shelter accepts the second" ag $N accept $REF2
expect_true "the police see it accepted" wait_for 40 case_is $P $REF2 \
    '.referrals[0].state == "accepted"'
expect_true "at once: nothing overdue" overdue_is $P '.waiting == []'

# --- 47 h later: still nothing ---
everyone $((47 * H))
sleep 3
expect_true "47 h: nothing overdue" overdue_is $P '.waiting == []'
expect_true "47 h: no reminder sent" has 0 n_log $P deadline.reminder

# --- 49 h: overdue, the shelter reminded, the committee not yet ---
everyone $((49 * H))
expect_true "49 h: the police's agent sends a reminder" \
    wait_for 30 grep -q "deadline.reminder step=answer owing=$N" \
    "$W/agent-$P.log"
expect_true "the police see the step overdue, stage 1" overdue_is $P \
    "(.waiting | length) == 1 and .waiting[0].case == \"$REF\" and
     .waiting[0].step == \"answer\" and .waiting[0].owing == \"$N\" and
     .waiting[0].stage == 1 and .waiting[0].late_seconds >= 3600"
expect_ok "cases" ag $P cases
expect_grep "cases marks it late" "$REF .*\\[late by 1 h\\]" "$OUT"
expect_true "and only it" sh -c "! grep '$REF2.*late by' '$OUT'"
expect_ok "status" ag $P status
expect_grep "status says it" "OVERDUE: .*1 steps" "$OUT"
expect_ok "inbox" ag $P inbox
expect_grep "the inbox says it" "OVERDUE: " "$OUT"
expect_true "the case timeline records it" case_is $P $REF \
    'any(.timeline[]; .action == "deadline.overdue")'
expect_true "the shelter receives the reminder" \
    wait_for 40 has 1 inbox_notices $N
expect_true "its overdue list names the case and who waits" overdue_is $N \
    "(.reminders | length) == 1 and .reminders[0].case == \"$REF\" and
     .reminders[0].waiting == \"$P\""
expect_true "and its case shows the reminder" case_is $N $REF \
    'any(.timeline[]; .action == "deadline.reminder")'
expect_true "the committee is not told yet" has 0 inbox_notices $C
# The web inbox marks the case « en retard de 1 h » (French, the
# caseworker's language).
printf 'mot de passe de test\n' >"$W/pw" && chmod 600 "$W/pw"
expect_ok "a police caseworker's account" ag $P user add awa \
    --name "Awa Traoré" --role caseworker --password-file "$W/pw"
"$AGENT" web --home "$W/home-$P" --port 0 2>>"$W/web.log" &
WPID=$!
PIDS="$PIDS $WPID"
expect_true "the web interface starts" \
    wait_for 20 test -s "$W/home-$P/web.port"
U="http://127.0.0.1:$(cat "$W/home-$P/web.port")"
expect_ok "she logs in" curl -sf -c "$W/jar" -b "$W/jar" -o /dev/null \
    -H "Origin: $U" --data-urlencode login=awa \
    --data-urlencode "password=mot de passe de test" "$U/login"
expect_ok "the web inbox" curl -sf -b "$W/jar" -o "$W/inbox.html" "$U/"
expect_grep "marks the case late" \
    "$REF</a>.*<span class=\"late\">en retard de 1 h</span>" "$W/inbox.html"
expect_grep "and counts it" \
    '<strong>1</strong>dossiers avec une étape en retard' "$W/inbox.html"
expect_ok "the case page" curl -sf -b "$W/jar" -o "$W/case.html" \
    "$U/case?ref=$REF"
expect_grep "marks the referral to the shelter late by as much" \
    "<td>$N</td><td>[^<]*<span class=\"late\">en retard de 1 h</span>" \
    "$W/case.html"
kill "$WPID" 2>/dev/null
wait "$WPID" 2>/dev/null

# --- 74 h: the committee is told, metadata only ---
everyone $((74 * H))
expect_true "74 h: the police's agent escalates to the committee" \
    wait_for 30 grep -q "deadline.escalated step=answer owing=$N" \
    "$W/agent-$P.log"
expect_true "the committee receives one notice" \
    wait_for 40 has 1 inbox_notices $C
expect_true "its list: blinded case, both agencies, step, how late" \
    overdue_is $C "(.committee | length) == 1 and
     (.committee[0].case_blinded | test(\"^[0-9a-f]{64}\$\")) and
     .committee[0].waiting == \"$P\" and .committee[0].owing == \"$N\" and
     .committee[0].step == \"answer\" and
     .committee[0].late_seconds >= 25 * 3600"
expect_ok "the committee's text report" ag $C overdue
expect_grep "lists the stuck referral" "$P -> $N .*late by 1 d" "$OUT"
run env LANGUAGE=fr LANG=fr_FR.UTF-8 LC_ALL= "$AGENT" overdue --home "$W/home-$C"
expect_grep "in French too" "Étapes bloquées signalées au comité \\(1\\)" "$OUT"
expect_grep "how late, in French" "$P -> $N .*réponse au signalement.*en retard de 1 j" "$OUT"
expect_ok "the committee's status" ag $C status
expect_grep "counts it" "COMMITTEE: .*1 stuck" "$OUT"
expect_true "the police sent two notices in all" has 2 notices $P

# --- a restart sends nothing twice ---
agent_stop $P
agent_start $P
expect_true "the police's agent is back" \
    wait_for 30 sh -c "[ \$(grep -c agent.started '$W/agent-$P.log') -ge 5 ]"
sleep 3
expect_true "no notice queued again" has 2 notices $P
expect_true "one reminder logged in all" has 1 n_log $P deadline.reminder
expect_true "one escalation logged in all" has 1 n_log $P deadline.escalated
expect_true "the shelter got one reminder" has 1 inbox_notices $N
expect_true "the committee one notice" has 1 inbox_notices $C
expect_true "the answered referral never escalated" overdue_is $P \
    "all(.waiting[]; .case != \"$REF2\")"

# --- nothing that names the person or the case at the committee ---
D="$W/committee-dump"
{
	ag $C inbox --json
	ag $C outbox --json
	ag $C overdue --json
	ag $C cases --json
	ag $C status --json
	ag $C audit show --json
	for id in $(ag $C inbox --json | jq -r '.[].id'); do
		ag $C show "$id" --json
	done
} >"$D" 2>&1
expect_true "the committee's listings were read" grep -q case_blinded "$D"
expect_true "the committee holds no case" has 0 sh -c \
    "'$AGENT' cases --json --home '$W/home-$C' | jq length"
for secret in "$REF" "Exemplaire" "Fictive" "V-SEG-0107" "bambara" \
    "Suivi médical" "Ségou" '"years"' '"is_minor"' '"sex"'; do
	expect_true "no '$secret' in the committee's listings" \
	    sh -c "! grep -q -- '$secret' '$D'"
	expect_true "no '$secret' in any file of the committee's home" \
	    sh -c "! grep -r -q -a -- '$secret' '$W/home-$C'"
done
# --- a clock far ahead of the broker's: nothing escalates on it ---
jq '.case_ref = "MRN-2026-0044"' "$DATA/referral-example.json" >"$W/r3.json"
expect_ok "a third referral" ag $P refer --to $N --file "$W/r3.json"
expect_true "reaches the shelter" wait_for 40 case_is $N MRN-2026-0044 \
    '.status | test("to answer")'
agent_stop $P
agent_start_env $P SIRA_CLOCK_OFFSET=$((124 * H))
expect_true "the police's laptop is 50 h ahead: it says so" \
    wait_for 30 grep -q "clock.skew" "$W/agent-$P.log"
sleep 2
expect_true "and sends no reminder on that clock" \
    has 1 n_log $P deadline.reminder
agent_stop $P

# --- a wrong deadline line: said, and the defaults apply ---
agent_stop $N
printf 'answer_hours.ngoo = 12\n' >>"$W/home-$N/agent.conf"
agent_start $N
expect_true "the shelter's daemon says which line is wrong" \
    wait_for 20 grep -q "deadline.config reason=agent.conf line .*unknown role" \
    "$W/agent-$N.log"
expect_true "status shows the alarm" wait_for 10 sh -c \
    "'$AGENT' status --home '$W/home-$N' | grep -q 'ALARM:.*deadlines: agent.conf line'"
expect_fail "overdue refuses the file, naming the line" \
    'agent.conf line [0-9]+: unknown role after the key' ag $N overdue

# The same words are at the police (the check can fail).
expect_true "the police's case view has the name" sh -c \
    "'$AGENT' case $REF --json --home '$W/home-$P' | grep -q Exemplaire"
done_
