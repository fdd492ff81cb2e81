#!/bin/sh
# test_broker_backup.sh: the broker's disk is lost and it is rebuilt from
# a backup taken while it ran (docs/OPERATIONS.md, "Sauvegarde du
# broker"). The archive alone (data and conf/) is enough to start it
# again; what it spooled at the backup is delivered, exactly once; its
# transparency log verifies; an agent that saw a newer checkpoint sees
# the rollback and says so (the log is tamper-evident: a restore cannot
# hide); traffic goes on. Refusals: wrong passphrase, an agency's archive.
. "$(dirname "$0")/../lib/cli.sh"
. "$(dirname "$0")/lib.sh"
W="$T/w"
mkdir -p "$W"
P=ml.police.bamako
N=ml.ngo.espoir

pki "$W" $P:police $N:ngo
cp "$W/ca/ca.crl" "$W/crl"
start_broker
for a in $P $N; do agent_init $a; done
printf 'phrase du broker\n' >"$W/pass"
chmod 600 "$W/pass"
agent_start $N
agent_start $P
expect_true "both agencies published their prekeys" wait_for 20 sh -c \
    "grep -q prekey.published '$W/agent-$N.log' && grep -q prekey.published '$W/agent-$P.log'"
agent_stop $N # offline: the broker keeps what is sent to it

send_notes() {
	i=0
	while [ $i -lt "$1" ]; do
		printf 'note %s %s\n' "$2" $i >"$W/note.txt"
		ag $P send --to $N --kind note --file "$W/note.txt" \
		    >>"$W/sent-$2" || return 1
		i=$((i + 1))
	done
}
n_inbox_ids() { ag $N inbox --json | jq -r '.[].id' | sort -u | wc -l | tr -d ' '; }

expect_true "spooled before the backup" send_notes 20 kept
expect_true "  all accepted" \
    wait_for 60 has 20 n_state $P "accepted by broker"
expect_ok "broker backup while it runs" \
    "$BROKER" backup --data "$W/data" --out "$W/broker.bak" \
    --passphrase-file "$W/pass" --ca "$W/ca/ca.cert" \
    --cert "$W/broker/ml.sira.broker.cert" \
    --key "$W/broker/ml.sira.broker.key" --certs "$W/certs" --crl "$W/crl"
expect_true "the archive is private (0600)" \
    sh -c "[ \$(stat -c %a '$W/broker.bak') = 600 ]"
expect_true "spooled after the backup" send_notes 5 lost
expect_true "  accepted by the live broker" \
    wait_for 60 has 25 n_state $P "accepted by broker"

kill -9 "$BPID"
wait "$BPID" 2>/dev/null
rm -rf "$W/data"
printf 'une autre\n' >"$W/wrong"
chmod 600 "$W/wrong"
expect_fail "a wrong passphrase restores nothing" "wrong passphrase.*nothing was restored" \
    "$BROKER" restore "$W/broker.bak" --data "$W/data" \
    --passphrase-file "$W/wrong"
expect_true "  nothing written" sh -c "! ls -d '$W'/data* 2>/dev/null"
expect_ok "restore the broker's data" \
    "$BROKER" restore "$W/broker.bak" --data "$W/data" \
    --passphrase-file "$W/pass"
expect_ok "its transparency log verifies" \
    "$BROKER" log verify --data "$W/data"
D="$W/data/conf"
"$BROKER" run --listen "tcp://127.0.0.1:${EP##*:}" --data "$W/data" \
    --ca "$D/ca.cert" --cert "$D/broker.cert" --key "$D/broker.key" \
    --certs "$D/certs" --crl "$D/crl" --heartbeat 2 --redeliver 5 \
    2>>"$W/broker.log" &
BPID=$!
PIDS="$PIDS $BPID"
expect_true "the broker starts from the archive alone" \
    wait_for 20 test -s "$W/data/endpoint"
agent_start $N
expect_true "what it held at the backup is delivered" \
    wait_for 60 has 20 n_inbox $N
expect_true "  and receipted" wait_for 60 has 20 n_state $P delivered
expect_true "new traffic flows" send_notes 5 after
expect_true "  delivered" wait_for 60 has 25 n_inbox $N
# The last receipts may still be on their way back to the sender: only
# once all 25 are in does "accepted by broker" count only the lost ones.
expect_true "  and receipted" wait_for 60 has 25 n_state $P delivered
# Its proofs are checked against the newer checkpoint the sender kept.
expect_true "the sender sees that the log went back, and says so" \
    wait_for 60 grep -Eq "alarm.*(shrank|not consistent)" "$W/agent-$P.log"
expect_true "nothing twice" has 25 n_inbox_ids
expect_true "lost with the broker's disk: what came after its backup" \
    has 5 n_state $P "accepted by broker"
expect_ok "an agency backs up" \
    ag $P backup --out "$W/agency.bak" --passphrase-file "$W/pass"
expect_fail "an agency's archive is not a broker's" "agency's backup" \
    "$BROKER" restore "$W/agency.bak" --data "$W/d2" \
    --passphrase-file "$W/pass"
done_
