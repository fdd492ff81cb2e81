#!/bin/sh
# test_crash.sh: power cuts at the worst instants (lib/crashpoint.h). Each
# process is run with SIRA_CRASH_AT naming one instant between two durable
# steps, dies there by SIGKILL, and is started again normally; the message
# must then arrive exactly once, documents intact, with its receipt back:
#   agent.stored          recipient: in the inbox, the broker not yet told
#   agent.receipt         recipient: acknowledged, its receipt not yet sent
#   broker.stored         broker: spooled and fsync'd, Accepted not yet sent
#   broker.blob.appended  broker: a document half uploaded; and one whose
#                         every byte is stored, before the blob is finished
#   agent.upload.chunk    sender: a document half sent
#   agent.download.chunk  recipient: a document half downloaded
#   agent.download.whole  recipient: a document whole, not yet renamed
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
agent_start $N
agent_start $P
expect_true "both agencies published their prekeys" wait_for 20 sh -c \
    "grep -q prekey.published '$W/agent-$N.log' && grep -q prekey.published '$W/agent-$P.log'"

# send_note TEXT [DOC]: queue a note from the police to the shelter.
send_note() {
	printf '%s\n' "$1" >"$W/note.txt"
	ag $P send --to $N --kind note --file "$W/note.txt" ${2:+--attach "$2"}
}

# once MSG WHAT: MSG arrives exactly once and its receipt comes back.
once() {
	expect_true "$2: delivered" wait_for 90 has 1 received $N "$1"
	expect_true "$2: receipt back" wait_for 90 has delivered out_state $P "$1"
	expect_true "$2: still exactly once" has 1 received $N "$1"
	expect_true "$2: one inbox entry" sh -c \
	    "[ \$('$AGENT' inbox --json --home '$W/home-$N' | jq '[.[] | select(.id==\"$1\")] | length') = 1 ]"
}

# n_accepted: accepted leaves in the broker's transparency log.
n_accepted() {
	"$BROKER" log show --data "$W/data" --json |
	    jq '[.[] | select(.type=="accepted")] | length'
}

# doc_intact MSG SRC: the shelter's copy of MSG's document equals SRC.
doc_intact() {
	path=$(ag $N show "$1" --json | jq -r '.documents[0].path')
	cmp -s "$path" "$2"
}

head -c 300000 /dev/urandom >"$W/doc.bin" # five chunks

# --- the recipient dies between storing and acknowledging ---
agent_stop $N
agent_start_env $N SIRA_CRASH_AT=agent.stored
send_note "coupure après stockage" >"$W/id" || fail_ "send"
M=$(cat "$W/id")
expect_true "the shelter dies after storing" \
    await_crash "$W/agent-$N.log" agent.stored "$(cat "$W/pid-$N")"
expect_true "stored before it died" has 1 received $N "$M"
agent_start $N
once "$M" "stored, not acknowledged"

# --- the recipient dies between acknowledging and sending its receipt ---
agent_stop $N
agent_start_env $N SIRA_CRASH_AT=agent.receipt
send_note "coupure avant l'accusé de réception" >"$W/id" || fail_ "send"
M=$(cat "$W/id")
expect_true "the shelter dies before its receipt leaves" \
    await_crash "$W/agent-$N.log" agent.receipt "$(cat "$W/pid-$N")"
expect_true "no receipt yet" has "accepted by broker" out_state $P "$M"
agent_start $N
once "$M" "acknowledged, receipt unsent"

# --- the broker dies between its durable commit and its Accepted ---
stop_broker
A0=$(n_accepted)
restart_broker broker.stored
send_note "coupure au courtier" >"$W/id" || fail_ "send"
M=$(cat "$W/id")
expect_true "the broker dies after its commit" \
    await_crash "$W/broker.log" broker.stored "$BPID"
restart_broker
once "$M" "spooled, Accepted unsent"
expect_ok "the broker's log verifies" "$BROKER" log verify --data "$W/data"
A1=$(n_accepted)
expect_true "logged once: the note and its receipt, no second leaf" \
    [ "$((A1 - A0))" -eq 2 ]

# --- the broker dies with a document half uploaded ---
stop_broker
restart_broker broker.blob.appended
send_note "document coupé au courtier" "$W/doc.bin" >"$W/id" || fail_ "send"
M=$(cat "$W/id")
expect_true "the broker dies mid-upload" \
    await_crash "$W/broker.log" broker.blob.appended "$BPID"
restart_broker
once "$M" "document half at the broker"
expect_true "the document arrives intact" doc_intact "$M" "$W/doc.bin"

# --- the broker dies after the last byte, before the blob is complete ---
# One chunk: its append is the last, so the crash falls between the last
# write and the rename. The broker then holds every byte of an unfinished
# blob: the agent must send the last chunk again (agents/daemon/docs_up.c).
head -c 20000 /dev/urandom >"$W/small.bin" # one chunk
stop_broker
restart_broker broker.blob.appended
send_note "document entier, jamais fini" "$W/small.bin" >"$W/id" || fail_ "send"
M=$(cat "$W/id")
expect_true "the broker dies after storing the whole document" \
    await_crash "$W/broker.log" broker.blob.appended "$BPID"
restart_broker
once "$M" "every byte at the broker, the blob unfinished"
expect_true "the document arrives intact" doc_intact "$M" "$W/small.bin"

# doc_crash WHO POINT TEXT DIES ARRIVES: WHO (the police or the shelter)
# dies at POINT while a note TEXT with the document travels; restarted, the
# note arrives once, receipted, its document intact. Leaves its id in M.
doc_crash() {
	agent_stop "$1"
	agent_start_env "$1" SIRA_CRASH_AT="$2"
	send_note "$3" "$W/doc.bin" >"$W/id" || fail_ "send"
	M=$(cat "$W/id")
	expect_true "$4" await_crash "$W/agent-$1.log" "$2" "$(cat "$W/pid-$1")"
	agent_start "$1"
	once "$M" "$5"
	expect_true "the document arrives intact" doc_intact "$M" "$W/doc.bin"
}

doc_crash $P agent.upload.chunk "document coupé à l'envoi" \
    "the police die mid-upload" "document half sent"
doc_crash $N agent.download.chunk "document coupé à la réception" \
    "the shelter dies mid-download" "document half downloaded"
# Every byte of a document on disk, not yet renamed: nothing is left to ask
# the broker for, so the restart must finish the file itself, or this and
# every later document would wait for ever.
doc_crash $N agent.download.whole "document reçu en entier, pas encore rangé" \
    "the shelter dies with the whole document on disk" \
    "document whole, not renamed"
send_note "le document suivant" "$W/doc.bin" >"$W/id" || fail_ "send"
M=$(cat "$W/id")
once "$M" "the next document after it"

expect_ok "the police audit chain holds" ag $P audit verify
expect_ok "the shelter's audit chain holds" ag $N audit verify
done_
