#!/bin/sh
# test_backup.sh: an agency's laptop dies and its home is restored from a
# backup taken while it ran (docs/OPERATIONS.md, "Sauvegarde et
# restauration"). Real broker, real agents, real archives.
#  sender side: the police back up mid-traffic (messages accepted by the
#    broker, their receipts still on the way), the home is destroyed,
#    restored, restarted, and more traffic follows. Every message reaches
#    the shelter's application exactly once; every entry of the restored
#    outbox ends with the shelter's signed receipt (those whose receipt
#    reached the lost copy are submitted again: the broker delivers them
#    once more, the shelter stores nothing twice and sends its receipt
#    again).
#  recipient side: the shelter backs up, receives more, dies, is restored:
#    what it had received after the backup is gone from its store, until
#    the restored daemon asks every agency for it (a resend request): the
#    police submit those messages again, the shelter has each once more,
#    exactly once, and nothing it had before the backup twice.
#  refusals: wrong passphrase, a changed byte, a cut archive, a home that
#    is not empty, a passphrase file others can read.
# BACKUP_N (default 150) messages before the backup, as many after.
. "$(dirname "$0")/../lib/cli.sh"
. "$(dirname "$0")/lib.sh"
W="$T/w"
mkdir -p "$W"
P=ml.police.bamako
N=ml.ngo.espoir
M=${BACKUP_N:-150}

pki "$W" $P:police $N:ngo
cp "$W/ca/ca.crl" "$W/crl"
start_broker
for a in $P $N; do agent_init $a; done
printf 'une phrase de passe pour la sauvegarde\n' >"$W/pass"
chmod 600 "$W/pass"
agent_start $N
agent_start $P
expect_true "both agencies published their prekeys" wait_for 20 sh -c \
    "grep -q prekey.published '$W/agent-$N.log' && grep -q prekey.published '$W/agent-$P.log'"

# send_notes FROM COUNT TAG: COUNT notes; their ids appended to W/sent-FROM.
send_notes() {
	i=0
	while [ $i -lt "$2" ]; do
		printf 'note %s %s\n' "$3" $i >"$W/note.txt"
		ag "$1" send --to $N --kind note --file "$W/note.txt" \
		    >>"$W/sent-$1" || return 1
		i=$((i + 1))
	done
}

# inbox_ids: the notes of the shelter's inbox, one id a line, sorted; n_notes:
# how many (its inbox also holds the police's resend request after the
# police's restore).
inbox_ids() { ag $N inbox --json | jq -r '.[] | select(.kind=="note") | .id' | sort; }
n_notes() { ag $N inbox --json | jq '[.[] | select(.kind=="note")] | length'; }
# n_distinct: distinct ids in the shelter's inbox.
n_distinct() { inbox_ids | uniq | wc -l | tr -d ' '; }
# n_received_audit: "received" entries in the shelter's audit chain.
n_received_audit() {
	ag $N audit show --json | jq '[.[] | select(.action=="received")] | length'
}
# n_out ID: notes in ID's outbox; n_not_delivered ID: entries not delivered.
n_out() { ag "$1" outbox --json | jq '[.[] | select(.kind=="note")] | length'; }
n_not_delivered() {
	ag "$1" outbox --json | jq '[.[] | select(.state!="delivered")] | length'
}

# --- the sender: backed up mid-traffic, destroyed, restored ---
# The shelter is offline while the first batch goes: the broker holds it,
# so the backup sees messages accepted whose receipts are yet to come.
agent_stop $N
expect_true "first batch queued" send_notes $P "$M" before
expect_true "first batch sealed and accepted by the broker" \
    wait_for 120 has "$M" n_state $P "accepted by broker"
agent_start $N
expect_ok "backup while both daemons run and receipts flow" \
    ag $P backup --out "$W/police.bak" --passphrase-file "$W/pass"
expect_true "the archive is private (0600)" \
    sh -c "[ \$(stat -c %a '$W/police.bak') = 600 ]"
expect_true "the archive holds no plaintext of the notes" \
    sh -c "! grep -q 'note before' '$W/police.bak'"
expect_true "the lost copy gets every receipt of the first batch" \
    wait_for 120 has "$M" n_state $P delivered
# After the backup: more messages the restored copy will never know of.
expect_true "messages sent after the backup" send_notes $P 20 after
expect_true "they arrive" wait_for 60 has $((M + 20)) n_notes
agent_kill $P
rm -rf "$W/home-$P"
expect_ok "restore into the destroyed home" \
    ag $P restore "$W/police.bak" --passphrase-file "$W/pass"
expect_true "the restored outbox is the one of the backup" \
    has "$M" n_out $P
expect_true "its receipts are missing: they went to the lost copy" \
    has 0 n_state $P delivered
agent_start $P
expect_true "the restored daemon resubmits what lacks a receipt" \
    wait_for 20 grep -q "restore.resumed.*resubmitted=$M" "$W/agent-$P.log"
expect_true "second batch from the restored copy" send_notes $P "$M" restored
expect_true "every message reaches the shelter" \
    wait_for 150 has $((2 * M + 20)) n_notes
expect_true "every entry of the restored outbox is receipted" \
    wait_for 150 has 0 n_not_delivered $P
expect_true "  and it holds all of them" has $((2 * M)) n_out $P
expect_true "no message shown twice" has $((2 * M + 20)) n_distinct
# (+1: the restored police's request for what it lost.)
expect_true "each stored once (audit: one 'received' each)" \
    has $((2 * M + 21)) n_received_audit
expect_true "the broker delivered the first batch again" sh -c \
    "[ \$(grep -c envelope.redelivered '$W/broker.log') -ge $M ]"
expect_true "every message sent is in the inbox" sh -c \
    "sort '$W/sent-$P' | uniq >'$W/sent.sorted'; \
     '$AGENT' inbox --json --home '$W/home-$N' | jq -r '.[] | select(.kind==\"note\") | .id' | sort >'$W/inbox.sorted'; \
     comm -23 '$W/sent.sorted' '$W/inbox.sorted' | grep -c . | grep -qx 0"
expect_ok "the restored audit chain verifies" ag $P audit verify

# --- the recipient: what it received after its backup is lost ---
expect_ok "the shelter backs up" \
    ag $N backup --out "$W/shelter.bak" --passphrase-file "$W/pass"
inbox_ids >"$W/at-backup"
expect_true "more traffic after the shelter's backup" send_notes $P 10 late
expect_true "it arrives at the shelter" \
    wait_for 60 has $((2 * M + 30)) n_notes
# Its receipts must be back before the loss: a receipt still queued at the
# shelter dies with its home, and nothing can bring it back (the police's
# entry would wait for it for ever; OPERATIONS.md, what a restore loses).
expect_true "and their receipts are back at the police" \
    wait_for 60 has 0 n_not_delivered $P
inbox_ids >"$W/at-loss"
agent_kill $N
agent_stop $P
expect_true "queued while the shelter is down" send_notes $P 10 down
rm -rf "$W/home-$N"
expect_ok "restore the shelter" \
    ag $N restore "$W/shelter.bak" --passphrase-file "$W/pass"
expect_true "its inbox is the one of the backup" \
    has $((2 * M + 20)) n_notes
agent_start $N
agent_start $P
expect_true "the restored shelter asks the police for what it lost" \
    wait_for 30 grep -q "restore.resend_asked agencies=1" "$W/agent-$N.log"
expect_true "  and the police answer it" \
    wait_for 60 grep -q "resend.asked from=$N after=" "$W/agent-$P.log"
expect_true "what was queued meanwhile, and what was lost, arrive" \
    wait_for 90 has $((2 * M + 40)) n_notes
expect_true "  and are receipted" wait_for 60 has 0 n_not_delivered $P
# back: what it received between the backup and the loss, each once.
back() {
	inbox=$(inbox_ids)
	lost=$(comm -23 "$W/at-loss" "$W/at-backup")
	[ "$(printf '%s\n' "$lost" | grep -c .)" = 10 ] || return 1
	for id in $lost; do
		[ "$(printf '%s\n' "$inbox" | grep -cx "$id")" = 1 ] || return 1
	done
}
expect_true "what it received after its backup is back, once each" back
expect_true "nothing twice at the restored shelter" \
    has $((2 * M + 40)) n_distinct
expect_true "the broker delivered the lost ones again" sh -c \
    "[ \$(grep -c envelope.redelivered '$W/broker.log') -ge $((M + 10)) ]"
expect_ok "the shelter's audit chain verifies" ag $N audit verify

# --- refusals: nothing half-written, French messages ---
printf 'une autre phrase\n' >"$W/wrong"
chmod 600 "$W/wrong"
expect_fail "wrong passphrase refused, in French" "mauvaise phrase de passe" \
    env LANGUAGE=fr LANG=fr_FR.UTF-8 LC_ALL= "$AGENT" restore "$W/police.bak" --home "$W/r1" \
    --passphrase-file "$W/wrong"
expect_true "  nothing written" sh -c "! ls -d '$W'/r1* 2>/dev/null"
cp "$W/police.bak" "$W/changed.bak"
printf 'X' | dd of="$W/changed.bak" bs=1 seek=5000 conv=notrunc 2>/dev/null
expect_fail "a changed byte refused" "modifiée" \
    env LANGUAGE=fr LANG=fr_FR.UTF-8 LC_ALL= "$AGENT" restore "$W/changed.bak" --home "$W/r2" \
    --passphrase-file "$W/pass"
expect_true "  nothing written" sh -c "! ls -d '$W'/r2* 2>/dev/null"
head -c $(($(stat -c %s "$W/police.bak") / 2)) "$W/police.bak" >"$W/cut.bak"
expect_fail "a cut archive refused" "nothing was restored|rien n'a été restauré" \
    "$AGENT" restore "$W/cut.bak" --home "$W/r3" --passphrase-file "$W/pass"
expect_true "  nothing written" sh -c "! ls -d '$W'/r3* 2>/dev/null"
expect_fail "a home in use is not overwritten" "force" \
    "$AGENT" restore "$W/police.bak" --home "$W/home-$P" \
    --passphrase-file "$W/pass"
chmod 644 "$W/pass"
expect_fail "a passphrase file others can read is refused" "600|0600" \
    "$AGENT" backup --home "$W/home-$P" --out "$W/x.bak" \
    --passphrase-file "$W/pass"
expect_true "  and no archive made" test ! -e "$W/x.bak"
expect_fail "an existing archive is never replaced" "exists|existe" \
    "$AGENT" backup --home "$W/home-$P" --out "$W/police.bak" \
    --passphrase-file "$W/wrong"
done_
