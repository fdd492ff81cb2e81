#!/bin/sh
# test_history.sh: an agency's life is longer than a demo. 300 notes with no
# faults all arrive with their receipts (the outbox once stopped at 256);
# then the sender and the recipient are given 10,000 messages of history
# each, six months of it, and a new message still goes out, arrives and is
# receipted, while every table is far larger than any batch in the code.
. "$(dirname "$0")/../lib/cli.sh"
. "$(dirname "$0")/lib.sh"
W="$T/w"
mkdir -p "$W"
P=ml.police.bamako
N=ml.ngo.espoir
FILL="$(pwd)/$O/tools/sira-fill"

pki "$W" $P:police $N:ngo
cp "$W/ca/ca.crl" "$W/crl"
start_broker
for a in $P $N; do agent_init $a; done
agent_start $N
expect_true "the shelter publishes its prekey" \
    wait_for 20 grep -q "prekey.published" "$W/agent-$N.log"
agent_start $P

# --- 300 notes, one send each, no faults ---
i=1
while [ $i -le 300 ]; do
	echo "note $i" >"$W/n.txt"
	ag $P send --to $N --kind note --file "$W/n.txt" >/dev/null || break
	i=$((i + 1))
done
expect_true "300 notes queued" has 300 sh -c \
    "'$AGENT' outbox --json --home '$W/home-$P' | jq length"
expect_true "all 300 reach the shelter" wait_for 120 has 300 n_inbox $N
expect_true "all 300 receipts come back" \
    wait_for 120 has 300 n_state $P delivered
expect_true "each note once, none missing" sh -c \
    "[ \$('$AGENT' inbox --json --home '$W/home-$N' | jq '[.[].id] | unique | length') = 300 ]"

# --- 10,000 more of history at both ends ---
agent_stop $P
agent_stop $N
expect_ok "six months of history for the police" \
    "$FILL" --home "$W/home-$P" --peer $N --count 10000 --days 180
expect_ok "and for the shelter" \
    "$FILL" --home "$W/home-$N" --peer $P --count 10000 --days 180
agent_start $P
agent_start $N
echo "Référence: MARKER-nouvelle-orientation" >"$W/new.txt"
expect_ok "a new message after 10,300 of history" \
    ag $P send --to $N --kind note --file "$W/new.txt"
NEW=$(cat "$OUT")
expect_true "it reaches the shelter" wait_for 60 sh -c \
    "'$AGENT' show '$NEW' --json --home '$W/home-$N' | grep -q MARKER-nouvelle-orientation"
expect_true "and its receipt comes back" wait_for 60 has 10301 n_state $P delivered
expect_true "the shelter's inbox holds all 10,301" has 10301 n_inbox $N
expect_ok "the police audit chain holds" ag $P audit verify
expect_ok "the shelter's audit chain holds" ag $N audit verify
expect_ok "audit show lists every entry" ag $N audit show --json
expect_true "with 10,301 receptions in it" sh -c \
    "[ \$(jq '[.[] | select(.action==\"received\")] | length' '$OUT') = 10301 ]"
done_
