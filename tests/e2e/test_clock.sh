#!/bin/sh
# test_clock.sh: field laptops have wrong clocks. SIRA_CLOCK_OFFSET shifts
# one agent's clock (lib/clock.h). Within the tolerance (300 s) everything
# works without a word; beyond it the agent says so in its log and its
# status, seals nothing and refuses nothing on a date, and every message
# goes once the clock is set right.
. "$(dirname "$0")/../lib/cli.sh"
. "$(dirname "$0")/lib.sh"
W="$T/w"
mkdir -p "$W"
P=ml.police.bamako
N=ml.ngo.espoir

# Certificates made an hour ago, as in the field (issued days before use),
# so that an agent 15 minutes slow still finds them valid.
export SIRA_CLOCK_OFFSET=-3600
pki "$W" $P:police $N:ngo
unset SIRA_CLOCK_OFFSET
cp "$W/ca/ca.crl" "$W/crl"
start_broker
for a in $P $N; do agent_init $a; done
agent_start $N
expect_true "the shelter publishes its prekey" \
    wait_for 20 grep -q "prekey.published" "$W/agent-$N.log"

note() {
	printf '%s\n' "$1" >"$W/note.txt"
	ag $P send --to $N --kind note --file "$W/note.txt" >"$W/id" &&
	    cat "$W/id"
}

# --- 200 s fast: inside the tolerance ---
agent_start_env $P SIRA_CLOCK_OFFSET=200
M1=$(note "horloge en avance de 200 s")
expect_true "200 s ahead: delivered with its receipt" \
    wait_for 60 has delivered out_state $P "$M1"
expect_true "and no clock warning" sh -c "! grep -q clock.skew '$W/agent-$P.log'"
agent_stop $P

# --- 900 s fast: beyond it ---
agent_start_env $P SIRA_CLOCK_OFFSET=900
expect_true "900 s ahead: the log says the clock is wrong" \
    wait_for 30 grep -q "clock.skew seconds=-9" "$W/agent-$P.log"
M2=$(note "horloge en avance de 900 s")
expect_true "status says so in plain words" wait_for 10 sh -c \
    "'$AGENT' status --home '$W/home-$P' | grep -q 'ALARM:.*clock: this computer is 9[0-9][0-9] s ahead of the broker'"
expect_ok "status --json" ag $P status --json
expect_true "and flags it" jq -e '.clock_wrong == true' "$OUT"
sleep 3
expect_true "the message waits, not sealed with a wrong date" \
    has queued out_state $P "$M2"
agent_stop $P
agent_start $P
expect_true "clock right again: the message goes" \
    wait_for 60 has delivered out_state $P "$M2"
expect_ok "status --json" ag $P status --json
expect_true "the alarm is gone" \
    jq -e '.clock_wrong == false and .alarm == "" and (.clock_skew | fabs) < 300' "$OUT"

# --- the recipient 900 s slow: deliveries held, not refused ---
agent_stop $N
agent_start_env $N SIRA_CLOCK_OFFSET=-900
expect_true "900 s behind: the shelter's log says so" \
    wait_for 30 grep -q "clock.skew seconds=9" "$W/agent-$N.log"
M3=$(note "destinataire en retard de 900 s")
expect_true "the delivery is held at the broker, not refused" \
    wait_for 30 grep -q "message.held" "$W/agent-$N.log"
expect_true "nothing was refused" sh -c "! grep -q message.refused '$W/agent-$N.log'"
expect_true "not received yet" has 0 received $N "$M3"
agent_stop $N
agent_start $N
expect_true "clock right again: received once" \
    wait_for 60 has 1 received $N "$M3"
expect_true "and its receipt comes back" wait_for 60 has delivered out_state $P "$M3"

# --- a clock so wrong that even the CA is not valid yet ---
agent_stop $N
export SIRA_CLOCK_OFFSET=-7200
expect_fail "two hours slow: the agent will not start, and says why" \
    "not valid before .*this computer's clock says .*: set the date and time" \
    "$AGENT" run --home "$W/home-$N"
unset SIRA_CLOCK_OFFSET
done_
