#!/bin/sh
# test_agent.sh: real agents and a real broker on loopback. Exchange with
# receipts; an offline recipient; the broker SIGKILLed mid-stream; a
# recipient SIGKILLed while receiving (no duplicates); a sender killed
# after queueing; a revoked sender; no plaintext at rest; the audit chain.
. "$(dirname "$0")/../lib/cli.sh"
. "$(dirname "$0")/lib.sh"
W="$T/w"
mkdir -p "$W"
P=ml.police.bamako
N=ml.ngo.espoir
S=ml.social.kayes

pki "$W" $P:police $N:ngo $S:social_services ml.justice.pole:justice
cp "$W/ca/ca.crl" "$W/crl"
start_broker
for a in $P $N $S; do agent_init $a; done
# Social services connects once (publishing its encryption key), then goes
# offline: senders need a recipient's prekey before they can seal to it.
agent_start $S
expect_true "social services publishes its prekey" \
    wait_for 20 grep -q "prekey.published" "$W/agent-$S.log"
agent_stop $S

# --- queueing needs neither daemon nor broker ---
printf 'Référence: MARKER-Awa-Diarra-2026. Besoin: hébergement.\n' >"$W/ref.txt"
expect_ok "send with no daemon running returns at once" \
    ag $P send --to $N --kind referral --file "$W/ref.txt"
ID1=$(cat "$OUT")
expect_true "the message is queued" has 1 n_state $P queued

# --- two agencies exchange a message and receipts ---
agent_start $P
agent_start $N
expect_true "delivered to the shelter" wait_for 30 has 1 n_inbox $N
expect_true "the sender holds the shelter's signed receipt" \
    wait_for 60 has 1 n_state $P delivered
expect_ok "show the message at the shelter" ag $N show "$ID1" --json
expect_true "content intact, accents included" \
    grep -q "MARKER-Awa-Diarra-2026. Besoin: hébergement" "$OUT"
expect_ok "show it at the police" ag $P show "$ID1" --json
expect_true "receipt from the shelter recorded" \
    jq -e '.receipts_from == ["ml.ngo.espoir"] and .broker_evidence' "$OUT"

# --- the recipient is offline for the whole send ---
for i in 1 2 3; do
	echo "dossier $i" >"$W/m$i.txt"
	ag $P send --to $S --kind referral --file "$W/m$i.txt" >/dev/null
done
expect_true "accepted by the broker while social services is offline" \
    wait_for 30 has 3 n_state $P "accepted by broker"
agent_start $S
expect_true "social services gets all three once online" \
    wait_for 30 has 3 n_inbox $S
expect_true "and the police get three receipts" \
    wait_for 30 has 4 n_state $P delivered

# --- the broker dies mid-stream and comes back ---
for i in $(seq 1 12); do
	echo "lot $i" >"$W/b$i.txt"
	ag $P send --to $N --kind case_transfer --file "$W/b$i.txt" >/dev/null
done
sleep 1
kill -9 "$BPID"
wait "$BPID" 2>/dev/null
sleep 1
# Same port as before: the agents' configuration names it.
port=${EP##*:}
BROKER_LISTEN="tcp://127.0.0.1:$port"
"$BROKER" run --listen "$BROKER_LISTEN" --data "$W/data" \
    --ca "$W/ca/ca.cert" --cert "$W/broker/ml.sira.broker.cert" \
    --key "$W/broker/ml.sira.broker.key" --certs "$W/certs" \
    --crl "$W/crl" --heartbeat 2 --redeliver 5 2>>"$W/broker.log" &
BPID=$!
PIDS="$PIDS $BPID"
expect_true "after a broker SIGKILL every message reaches the shelter" \
    wait_for 90 has 13 n_inbox $N
expect_true "and every sender holds a receipt" \
    wait_for 60 has 16 n_state $P delivered
expect_true "nothing twice in the shelter's inbox" \
    sh -c "[ \$('$AGENT' inbox --json --home '$W/home-$N' | jq '[.[].id] | unique | length') = 13 ]"

# --- the recipient is killed while receiving ---
agent_stop $S
for i in $(seq 1 15); do
	echo "vague $i" >"$W/k$i.txt"
	ag $P send --to $S --kind note --file "$W/k$i.txt" >/dev/null
done
expect_true "all fifteen at the broker" wait_for 30 has 15 n_state $P "accepted by broker"
agent_start $S
sleep 0.4
agent_kill $S
agent_start $S
sleep 0.3
agent_kill $S
agent_start $S
expect_true "all delivered after the recipient was killed twice" \
    wait_for 60 has 18 n_inbox $S
expect_true "and no message shown twice" \
    sh -c "[ \$('$AGENT' inbox --json --home '$W/home-$S' | jq '[.[].id] | unique | length') = 18 ]"

# --- the sender is killed after queueing ---
agent_kill $P
echo "après la coupure" >"$W/late.txt"
expect_ok "queue while the sender's daemon is dead" \
    ag $P send --to $N --kind note --file "$W/late.txt"
agent_start $P
expect_true "it goes out after the daemon restarts" \
    wait_for 30 has 14 n_inbox $N

# --- forward secrecy: a prekey deleted after its retention period ---
J=ml.justice.pole
agent_init $J
agent_start $J --prekey-rotate 4 --prekey-retain 1
expect_true "justice publishes a short-lived prekey" \
    wait_for 20 grep -q "prekey.published" "$W/agent-$J.log"
agent_stop $J
echo "scellé pour une clé bientôt effacée" >"$W/fs.txt"
ag $P send --to $J --kind case_transfer --file "$W/fs.txt" >/dev/null
expect_true "sealed to that prekey and accepted while justice is away" \
    wait_for 20 has 1 sh -c "'$AGENT' outbox --json --home '$W/home-$P' | jq '[.[] | select(.to==[\"$J\"] and .state==\"accepted by broker\")] | length'"
# The prekey is valid 2 x rotate = 8 s from its publication and its secret
# kept 1 s more: justice comes back after that, counted from before the
# message was even sealed.
sleep 11
agent_start $J --prekey-rotate 4 --prekey-retain 1
expect_true "justice deleted the old prekey secret" \
    wait_for 20 grep -q "prekey.deleted" "$W/agent-$J.log"
expect_true "the captured envelope can no longer be opened" \
    wait_for 30 grep -q "message.refused from=$P reason=unknown or expired prekey" "$W/agent-$J.log"
expect_true "the sender is told, by a signed rejection" \
    wait_for 60 has 1 sh -c "'$AGENT' outbox --json --home '$W/home-$P' | jq '[.[] | select(.to==[\"$J\"] and .state==\"refused\" and .reason==\"unknown or expired prekey\")] | length'"
expect_true "and justice never shows it" has 0 n_inbox $J
agent_stop $J

# --- a revoked sender's message is refused by the recipient ---
agent_stop $N
echo "de la part d'une agence compromise" >"$W/rev.txt"
ag $S send --to $N --kind note --file "$W/rev.txt" >/dev/null
expect_true "spooled for the shelter" \
    wait_for 30 has 1 n_state $S "accepted by broker"
serial=$("$CERT" show --json "$W/ag/$S.cert" | jq .serial)
"$CERT" revoke --ca-dir "$W/ca" --serial "$serial" --reason key_compromise \
    --compromised-since 2020-01-01 >/dev/null 2>&1
cp "$W/ca/ca.crl" "$W/crl"
kill -HUP "$BPID"
sleep 1
agent_start $N
expect_true "the shelter refuses it: logged in its audit" \
    wait_for 30 grep -q "message.refused from=$S reason=revoked" "$W/agent-$N.log"
expect_true "and never shows it" sh -c "! '$AGENT' inbox --json --home '$W/home-$N' | grep -q '$S'"

# --- a passphrase-protected agency key ---
printf 'une phrase de passe assez longue\n' >"$W/kpass"
printf 'pas la bonne phrase du tout\n' >"$W/kbad"
chmod 600 "$W/kpass" "$W/kbad"
"$CERT" issue --ca-dir "$W/ca" --id ml.social.segou --name "Service social de Ségou" \
    --role social_services --out "$W/ag" --key-passphrase-file "$W/kpass" \
    --kdf interactive >/dev/null 2>&1
run "$AGENT" init --home "$W/home-segou" --cert "$W/ag/ml.social.segou.cert" \
    --key "$W/ag/ml.social.segou.key" --ca "$W/ca/ca.cert" --broker "$EP" \
    --broker-cert "$W/broker/ml.sira.broker.cert" --passphrase-file "$W/kbad"
expect_true "wrong key passphrase refused" [ "$rc" -eq 1 ]
expect_grep "with a clear reason" "wrong passphrase" "$ERR"
expect_true "and no home was made" [ ! -e "$W/home-segou/agent.conf" ]
expect_ok "init with the right passphrase" "$AGENT" init --home "$W/home-segou" \
    --cert "$W/ag/ml.social.segou.cert" --key "$W/ag/ml.social.segou.key" \
    --ca "$W/ca/ca.cert" --broker "$EP" \
    --broker-cert "$W/broker/ml.sira.broker.cert" --passphrase-file "$W/kpass"
expect_true "the key was copied in with mode 0600" \
    [ "$(stat -c %a "$W/home-segou/agency.key")" = 600 ]
run "$AGENT" status --home "$W/home-segou" </dev/null
expect_true "without the passphrase nothing opens" [ "$rc" -eq 1 ]
expect_ok "with it, status works" "$AGENT" status --home "$W/home-segou" \
    --passphrase-file "$W/kpass"

# --- nothing readable at rest, and the audit chain ---
for a in $P $N $S; do
	expect_true "no plaintext marker in $a's files" \
	    sh -c "! grep -r -a -q MARKER-Awa-Diarra '$W/home-$a'"
	expect_true "no plaintext marker in $a's log" \
	    sh -c "! grep -q MARKER-Awa-Diarra '$W/agent-$a.log'"
done
expect_true "no plaintext marker at the broker" \
    sh -c "! grep -r -a -q MARKER-Awa-Diarra '$W/data'"
agent_stop $P
expect_ok "audit verify" ag $P audit verify
expect_grep "audit chain intact" "audit chain OK" "$OUT"
mdb_dump -s audit "$W/home-$P/vault" >"$W/audit.dump"
awk '/^ /{n++; if (n==8) { c=substr($0,40,1); c=(c=="0")?"1":"0"; $0=substr($0,1,39) c substr($0,41) } } {print}' \
    "$W/audit.dump" >"$W/audit.bad"
mdb_load -s audit "$W/home-$P/vault" <"$W/audit.bad" 2>/dev/null
run ag $P audit verify
expect_true "audit verify detects a modified entry" [ "$rc" -ne 0 ]
expect_grep "and names it" "audit entry 4 was altered" "$ERR"

done_
