#!/bin/sh
# test_stats.sh: the committee's national figures (docs/STATS.md) with a
# real broker and four real agents: 14 fixture cases referred between the
# police, an NGO and social services (each known to two agencies), the
# committee's pseudonym key handed out, the daemons' monthly round, a
# report sent again on demand. The committee's totals equal the count made
# by hand below; each person counts once; a cell of 3 is hidden and so is
# the one that would give it away; CSV and SVG are well formed; and no
# name, phone, note, exact age or case reference reaches the committee.
. "$(dirname "$0")/../lib/cli.sh"
. "$(dirname "$0")/lib.sh"
W="$T/w"
mkdir -p "$W"
P=ml.police.segou
N=ml.ngo.espoir
S=ml.social.segou
C=ml.comite.national
DATA="$(pwd)/tests/data"
LANG=C
LC_ALL=C
export LANG LC_ALL

pki "$W" $P:police $N:ngo $S:social_services $C:coordination
cp "$W/ca/ca.crl" "$W/crl"
start_broker
for a in $P $N $S $C; do
	agent_init $a
	agent_start $a
done
knows() { ag "$1" directory --json | jq -e --arg id "$2" \
    'any(.[]; .agency == $id)' >/dev/null; }
for a in $P $N $S $C; do
	expect_true "$a fetched the directory" wait_for 30 knows $a $C
	expect_true "$a published its prekey" \
	    wait_for 30 grep -q "prekey.published" "$W/agent-$a.log"
done
sleep 3

# The fixtures, counted by hand. REF FROM TO SEX AGE NAT TYPES PLACE DATE
# OUTCOME (what the receiver does: accept, start, complete, decline, none)
cat >"$W/fixtures" <<'EOF'
MRN-2026-P01 P N female 14 ML forced_begging Ségou 2026-11-03 start
MRN-2026-P02 P N male 10 ML forced_begging Ségou 2026-11-04 start
MRN-2026-P03 P N male 9 ML forced_begging Mopti 2026-11-05 complete
MRN-2026-P04 P N female 16 NG sexual Kéniéba 2026-11-06 accept
MRN-2026-P05 P N female 19 NG sexual Bamako 2026-11-07 decline
MRN-2026-P06 P N female 22 NG sexual Bamako 2026-11-08 none
MRN-2026-P07 P S male 12 ML forced_begging Ségou 2026-11-09 start
MRN-2026-P08 P S male 13 BF forced_begging,child_labour Sikasso 2026-11-10 accept
MRN-2026-S01 S N female 15 ML servitude Ségou 2026-11-11 start
MRN-2026-S02 S N female 17 ML servitude Kati 2026-11-12 start
MRN-2026-S03 S N female 30 ML servitude Bamako 2026-11-13 none
MRN-2026-S04 S N female 40 ML servitude Ségou 2026-11-14 complete
MRN-2026-N01 N S female 13 ML servitude,forced_begging Ségou 2026-11-15 none
MRN-2026-O01 P N male 11 ML forced_begging Ségou 2026-10-15 start
EOF
id_of() { case $1 in P) echo $P ;; N) echo $N ;; S) echo $S ;; esac; }

# referral REF SEX AGE NAT TYPES PLACE DATE: a referral file from the
# template, with a name, phone and note of its own (which must never
# reach the committee).
referral() {
	jq --arg ref "$1" --arg sex "$2" --argjson age "$3" --arg nat "$4" \
	    --arg types "$5" --arg place "$6, commune urbaine" --arg date "$7" \
	    --arg name "Victime Fictive $1" --arg note "Note secrète $1" '
	    .case_ref = $ref | .victim_ref = ("V-" + $ref) | .sex = $sex |
	    .age = { years: $age, is_minor: ($age < 18) } |
	    .nationality = $nat | .exploitation = ($types | split(",")) |
	    .identification.place = $place | .identification.date = $date |
	    .identifying.full_name = $name |
	    .identifying.phone = "+223 77 12 34 56" |
	    del(.identifying.date_of_birth) | .notes = $note' \
	    "$DATA/referral-example.json"
}

case_is() {
	ag "$1" case "$2" --json >"$W/case.json" 2>/dev/null &&
	    jq -e "$3" "$W/case.json" >/dev/null
}

while read -r ref from to sex age nat types place date what; do
	referral "$ref" "$sex" "$age" "$nat" "$types" "$place" "$date" \
	    >"$W/$ref.json"
	expect_ok "$from refers $ref" \
	    ag "$(id_of "$from")" refer --to "$(id_of "$to")" \
	    --file "$W/$ref.json"
done <"$W/fixtures"

# act AGENCY REF WHAT: the receiver's answer and feedback.
act() {
	case $3 in
	none) return 0 ;;
	decline) ag "$1" decline "$2" --reason "complet" >/dev/null ;;
	*) ag "$1" accept "$2" >/dev/null || return 1 ;;
	esac
	case $3 in
	start) ag "$1" feedback "$2" --status started >/dev/null ;;
	complete) ag "$1" feedback "$2" --status started >/dev/null &&
	    ag "$1" feedback "$2" --status completed >/dev/null ;;
	esac
}
want_state() {
	case $1 in
	none) echo "awaiting answer" ;; decline) echo "declined" ;;
	accept) echo "accepted" ;; start) echo "services started" ;;
	complete) echo "services completed" ;;
	esac
}
while read -r ref from to sex age nat types place date what; do
	expect_true "$to received $ref" wait_for 40 case_is "$(id_of "$to")" \
	    "$ref" '.referrals | length == 1'
	expect_true "$to answers $ref ($what)" act "$(id_of "$to")" "$ref" \
	    "$what"
done <"$W/fixtures"
while read -r ref from to sex age nat types place date what; do
	expect_true "$from sees $ref as $(want_state "$what")" wait_for 40 \
	    case_is "$(id_of "$from")" "$ref" \
	    ".referrals[0].state == \"$(want_state "$what")\""
done <"$W/fixtures"

# --- the pseudonym key: made at the committee, installed at agencies ---
expect_fail "stats send without a key says what to do" \
    'no statistics key' ag $P stats send --period 2026-11
expect_ok "the committee makes the key file" \
    ag $C stats key --out "$W/stats.key"
expect_true "the key file is private (0600)" \
    test "$(stat -c %a "$W/stats.key")" = 600
expect_fail "a key file is never overwritten" 'exists' \
    ag $C stats key --out "$W/stats.key"
kept() { count "stats.kept" "$W/agent-$C.log"; }
for a in $P $N $S; do
	expect_ok "$a installs the key" ag $a stats key --file "$W/stats.key"
	expect_grep "it names the committee" "$C" "$OUT"
done
# The daemons' monthly round: November (the month that is over) and the
# two before it, from each of the three agencies.
expect_true "the committee keeps the 9 reports of the round" \
    wait_for 60 has 9 kept
n_stats_out() {
	ag "$1" outbox --json | jq '[.[] | select(.kind == "stats_report")] | length'
}
expect_true "the police sent 3 reports" has 3 n_stats_out $P
# November by agency: police P01-P08 = 8, NGO P01-P06 S01-S04 N01 = 11,
# social services P07 P08 S01-S04 N01 = 7: 26 rows for 13 persons.
expect_grep "the police reported 8 persons for November" \
    'stats.queued.*period=202611.*persons=8' "$W/agent-$P.log"
expect_grep "the NGO 11" 'stats.queued.*period=202611.*persons=11' \
    "$W/agent-$N.log"
expect_grep "social services 7" 'stats.queued.*period=202611.*persons=7' \
    "$W/agent-$S.log"

# --- the committee's figures, against the count by hand ---
# November: 13 persons (26 case records across the three agencies), all
# referred; assisted (services started or completed): P01 P02 P03 P07
# S01 S02 S04 = 7.
expect_ok "the committee's table for November" \
    ag $C stats --from 2026-11 --to 2026-11 --by type \
    --csv "$W/type.csv" --svg "$W/chart.svg"
expect_grep "the headline counts each person once" \
    'Persons identified: 13, referred: 13, assisted .*: 7' "$OUT"
expect_grep "3 reports, from the three agencies" '3 reports from 3 agencies' \
    "$OUT"
cp "$OUT" "$W/table.txt"
csv() { grep "^$1,\"$2\"," "$W/type.csv"; }
# By type: forced begging P01 P02 P03 P07 P08 N01 = 6; servitude S01-S04
# N01 = 5; sexual P04 P05 P06 = 3 (hidden); child labour P08 = 1 (hidden).
expect_true "forced begging: 6 persons, 6 referred, 4 assisted" \
    sh -c "grep -q '^type,\"forced begging\",6,6,<5$' '$W/type.csv'"
expect_true "servitude: 5 persons, 5 referred, 3 assisted (hidden)" \
    sh -c "grep -q '^type,\"servitude\",5,5,<5$' '$W/type.csv'"
expect_true "the cell of 3 (sexual exploitation) is hidden" \
    sh -c "grep -q '^type,\"sexual exploitation\",<5,<5,' '$W/type.csv'"
expect_true "the 3 never appears for it" \
    sh -c "! grep -q '^type,\"sexual exploitation\",3' '$W/type.csv'"
expect_true "child labour, 1 person (accepted, not yet assisted), is hidden" \
    sh -c "grep -q '^type,\"child labour\",<5,<5,0$' '$W/type.csv'"
expect_true "the total line counts persons once" \
    sh -c "grep -q '^type,\"total\",13,13,7$' '$W/type.csv'"
# By sex: female 9, male P02 P03 P07 P08 = 4 (hidden); with the total of
# 13 shown, 9 would give the 4 away: it is hidden too.
expect_ok "by sex" ag $C stats --from 2026-11 --to 2026-11 --by sex \
    --csv "$W/sex.csv"
expect_true "male (4) is hidden" \
    sh -c "grep -q '^sex,\"male\",<5,' '$W/sex.csv'"
expect_true "and female (9) with it, so 13 - 9 cannot give it away" \
    sh -c "grep -q '^sex,\"female\",<5,' '$W/sex.csv'"
# By region: Ségou P01 P02 P07 S01 S04 N01 = 6, Bamako P05 P06 S03 = 3,
# Mopti 1, Kayes (Kéniéba) 1, Sikasso 1, Koulikoro (Kati) 1.
expect_ok "by region" ag $C stats --from 2026-11 --to 2026-11 --by region \
    --csv "$W/region.csv"
expect_true "Segou: 6 persons" \
    sh -c "grep -q '^region,\"Segou\",6,' '$W/region.csv'"
expect_true "Kéniéba is counted in Kayes, hidden (1)" \
    sh -c "grep -q '^region,\"Kayes\",<5,' '$W/region.csv'"
# By outcome: started P01 P02 P07 S01 S02 = 5; completed P03 S04 = 2. In
# the assisted column those are the only cells, and with the total (7)
# shown the 5 would give the hidden 2 away: it is hidden as well.
expect_ok "by outcome" ag $C stats --from 2026-11 --to 2026-11 \
    --by outcome --csv "$W/outcome.csv"
expect_true "services started: 5 persons, 5 referred, assisted hidden" \
    sh -c "grep -q '^outcome,\"services started\",5,5,<5$' '$W/outcome.csv'"
expect_true "services completed: 2, hidden" \
    sh -c "grep -q '^outcome,\"services completed\",<5,<5,<5$' '$W/outcome.csv'"
expect_ok "by month, October and November" \
    ag $C stats --from 2026-10 --to 2026-11 --csv "$W/month.csv"
expect_true "October holds its one person, hidden" \
    sh -c "grep -q '^month,\"2026-10\",<5,' '$W/month.csv'"
expect_true "the two months together: 14 persons" \
    sh -c "grep -q '^month,\"total\",14,14,8$' '$W/month.csv'"
expect_ok "a lower threshold shows the small cells" \
    ag $C stats --from 2026-11 --to 2026-11 --by type --threshold 1 \
    --csv "$W/type1.csv"
expect_true "sexual exploitation: 3 persons, 2 referred and answered..." \
    sh -c "grep -q '^type,\"sexual exploitation\",3,3,0$' '$W/type1.csv'"
# The committee reads its table in French.
run env LANGUAGE=fr LANG=fr_FR.UTF-8 LC_ALL= "$AGENT" stats --home "$W/home-$C" \
    --from 2026-11 --to 2026-11 --by type
cp "$OUT" "$W/table-fr.txt"
expect_grep "the French headline" \
    'Personnes identifiées : 13, orientées : 13, prises en charge .*: 7' \
    "$W/table-fr.txt"
expect_grep "a French category with its hidden cell" \
    '^exploitation sexuelle +<5 +<5 ' "$W/table-fr.txt"
expect_fail "a wrong dimension is refused" 'by is one of' \
    ag $C stats --by commune
expect_fail "a wrong month is refused" 'YYYY-MM' ag $C stats --from 2026-13

expect_true "the CSV has 5 columns on every line" \
    sh -c "awk -F, 'NF != 5 { exit 1 }' '$W/type.csv'"
expect_true "the SVG is well-formed XML" /usr/bin/python3 -c \
    "import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); sys.exit(0 if r.tag.endswith('svg') and len(r.findall('{http://www.w3.org/2000/svg}rect')) > 3 else 1)" \
    "$W/chart.svg"
expect_grep "the chart names its month" '2026-11' "$W/chart.svg"

# --- a report sent again replaces, never adds ---
expect_ok "the NGO starts services for P04" \
    ag $N feedback MRN-2026-P04 --status started
expect_ok "the NGO sends November again, on demand" \
    ag $N stats send --period 2026-11
expect_true "the committee keeps it" wait_for 40 has 10 kept
expect_ok "the figures again" ag $C stats --from 2026-11 --to 2026-11
expect_grep "13 persons still, 8 assisted now" \
    'Persons identified: 13, referred: 13, assisted .*: 8' "$OUT"
expect_fail "a month not over yet is refused" 'over' \
    ag $N stats send --period 2099-01

# --- restarts do not send the round again ---
agent_stop $P
agent_start $P
sleep 20
expect_true "the police sent no new round after a restart" \
    has 3 n_stats_out $P

# --- nothing personal reaches the committee ---
ag $C inbox --json >"$W/c-inbox.json"
ag $C audit show --json >"$W/c-audit.json"
ag $C cases --json >"$W/c-cases.json"
for id in $(jq -r '.[].id' "$W/c-inbox.json"); do
	ag $C show "$id" --json >>"$W/c-show.json" 2>&1
done
expect_true "the committee did receive the reports (listed)" \
    test "$(jq '[.[] | select(.kind == "stats_report")] | length' "$W/c-inbox.json")" -ge 10
# Every file of the committee's home (its vault is sealed: this also
# checks nothing is kept beside it in clear), its log, its decrypted
# listings and what stats wrote.
leak_re='Fictive|Victime|secr[eè]te|\+223|MRN-2026|V-MRN|commune urbaine|Brigade|"years"'
no_leak() {
	! grep -r -a -q -E "$leak_re" "$W/home-$C" "$W/agent-$C.log" \
	    "$W"/c-*.json "$W"/*.csv "$W/chart.svg" "$W/table.txt" "$W/table-fr.txt"
}
expect_true "no name, phone, note, age in years, place or case reference" \
    no_leak
expect_true "(the same check finds them where they are: the police's)" \
    grep -q -a -E "$leak_re" "$W/MRN-2026-P01.json"
done_
