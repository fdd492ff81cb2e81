#!/bin/sh
# test_attach.sh: documents end to end between two real agents through a
# real broker on loopback (docs/PROTOCOL.md 7.4, 9.4). A 6 MiB document
# arrives byte-identical and the sender holds the signed receipt; the
# broker is SIGKILLed mid-upload and the upload resumes at its offset; the
# recipient is SIGKILLed mid-download and the download resumes from its
# disk; the document arrives once. An oversized file is refused at `send`
# with nothing queued; a blob altered at the broker is refused with a
# signed rejection and no plaintext appears.
. "$(dirname "$0")/../lib/cli.sh"
. "$(dirname "$0")/lib.sh"
W="$T/w"
mkdir -p "$W"
P=ml.police.bamako
N=ml.ngo.espoir

pki "$W" $P:police $N:ngo
cp "$W/ca/ca.crl" "$W/crl"
start_broker
expect_ok "init the sender with an 8 MiB document limit" \
    "$AGENT" init --home "$W/home-$P" --cert "$W/ag/$P.cert" \
    --key "$W/ag/$P.key" --ca "$W/ca/ca.cert" --broker "$EP" \
    --broker-cert "$W/broker/ml.sira.broker.cert" --attach-max 8388608
agent_init $N
expect_grep "the limit is in agent.conf" "^attach_max = 8388608$" \
    "$W/home-$P/agent.conf"

echo "Dossier de Mme A., voir pièces jointes." >"$W/note.txt"
{
	printf 'MARKER-PIECE-JOINTE-7731\n'
	head -c 6291431 /dev/urandom
} >"$W/doc.bin"
cp "$W/doc.bin" "$W/Rapport médical.pdf"
head -c 9437184 /dev/zero >"$W/big.bin"
mkdir -p "$W/adir"

# throttle PID: slow a process down (stopped 90% of the time) so that a
# transfer on loopback lasts long enough to be cut in the middle.
throttle() {
	while kill -0 "$1" 2>/dev/null; do
		kill -STOP "$1" 2>/dev/null
		sleep 0.09
		kill -CONT "$1" 2>/dev/null
		sleep 0.01
	done
}
# size FILE: bytes in FILE, 0 if absent.
size() { stat -c %s "$1" 2>/dev/null || echo 0; }
# grow_past GLOB N: some file matching GLOB holds more than N bytes.
grow_past() {
	for f in $1; do [ "$(size "$f")" -gt "$2" ] && return 0; done
	return 1
}
# n_docs_of ID AGENCY: documents `show` lists for message ID.
n_present() {
	ag "$2" show "$1" --json | jq '[.documents[] | select(.present)] | length'
}

# --- refusals at send: nothing queued ---
expect_fail "a document over the limit is refused, naming file and limit" \
    "big.bin is 9.0 MiB: larger than this agency's limit of 8.0 MiB" \
    ag $P send --to $N --kind referral --file "$W/note.txt" \
    --attach "$W/big.bin"
expect_fail "a directory is not a document" "adir is not a regular file" \
    ag $P send --to $N --kind referral --file "$W/note.txt" \
    --attach "$W/adir"
expect_fail "a missing file is named" "cannot read .*absent.pdf" \
    ag $P send --to $N --kind referral --file "$W/note.txt" \
    --attach "$W/absent.pdf"
expect_true "nothing spooled" sh -c "[ -z \"\$(ls -A '$W/home-$P/spool' 2>/dev/null)\" ]"
expect_fail "one bad document refuses the whole message" "big.bin is 9.0 MiB" \
    ag $P send --to $N --kind referral --file "$W/note.txt" \
    --attach "$W/note.txt" --attach "$W/big.bin"
expect_true "nothing was queued" has 0 sh -c "'$AGENT' outbox --json --home '$W/home-$P' | jq length"
expect_true "its first document's spool is an orphan until the daemon sweeps" \
    sh -c "[ -n \"\$(ls -A '$W/home-$P/spool')\" ]"

# --- a 6 MiB document, the broker SIGKILLed mid-upload ---
agent_start $N
expect_true "the recipient publishes its prekey" \
    wait_for 20 grep -q "prekey.published" "$W/agent-$N.log"
agent_stop $N
expect_ok "send with a document" ag $P send --to $N --kind referral \
    --file "$W/note.txt" --attach "$W/Rapport médical.pdf"
ID1=$(cat "$OUT")
rm "$W/Rapport médical.pdf" # captured at queueing: the original may go
expect_true "spooled encrypted: no plaintext in the sender's home" \
    sh -c "[ -s '$W/home-$P/spool/$ID1/0.spool' ] && ! grep -r -a -q MARKER-PIECE-JOINTE '$W/home-$P'"
throttle "$BPID" &
TH=$!
agent_start $P
expect_true "the upload starts" \
    wait_for 60 grow_past "$W/data/blobs/*.part" 1048576
kill "$TH" 2>/dev/null
wait "$TH" 2>/dev/null
kill -CONT "$BPID" 2>/dev/null
kill -9 "$BPID"
wait "$BPID" 2>/dev/null
STORED=0
for f in "$W"/data/blobs/*.part; do STORED=$(size "$f"); done
expect_true "the broker died with part of the blob ($STORED bytes)" \
    [ "$STORED" -gt 0 ]
port=${EP##*:}
"$BROKER" run --listen "tcp://127.0.0.1:$port" --data "$W/data" \
    --ca "$W/ca/ca.cert" --cert "$W/broker/ml.sira.broker.cert" \
    --key "$W/broker/ml.sira.broker.key" --certs "$W/certs" \
    --crl "$W/crl" --heartbeat 2 --redeliver 5 2>>"$W/broker.log" &
BPID=$!
PIDS="$PIDS $BPID"
expect_true "accepted by the broker after its restart" \
    wait_for 60 has 1 n_state $P "accepted by broker"
expect_true "the upload resumed at the broker's offset, not at zero" \
    sh -c "grep 'attach.upload_resume' '$W/agent-$P.log' | grep -Eq 'offset=[1-9][0-9]*'"
expect_true "the sender's spool is gone once the broker holds it" \
    wait_for 10 sh -c "[ ! -e '$W/home-$P/spool/$ID1' ]"
expect_true "and the refused message's leftover spool was swept" \
    sh -c "[ -z \"\$(ls -A '$W/home-$P/spool')\" ]"

# --- the recipient SIGKILLed mid-download ---
throttle "$BPID" &
TH=$!
agent_start $N
expect_true "the download starts" \
    wait_for 60 grow_past "$W/home-$N/incoming/*.part" 1048576
agent_kill $N
kill "$TH" 2>/dev/null
wait "$TH" 2>/dev/null
kill -CONT "$BPID" 2>/dev/null
expect_true "nothing shown before every document is verified" \
    has 0 n_inbox $N
expect_true "no plaintext document yet" \
    sh -c "[ -z \"\$(ls -A '$W/home-$N/documents' 2>/dev/null)\" ]"
agent_start $N
expect_true "the message arrives" wait_for 60 has 1 n_inbox $N
expect_true "the download resumed from the bytes on disk" \
    sh -c "grep 'attach.download_resume' '$W/agent-$N.log' | grep -Eq 'offset=[1-9][0-9]*'"
expect_ok "show lists the document" ag $N show "$ID1" --json
expect_true "name from the signed manifest, present, 6 MiB" \
    jq -e '.documents | length == 1 and .[0].name == "Rapport médical.pdf" and .[0].size == 6291456 and .[0].present and .[0].verified' "$OUT"
DOC=$(jq -r '.documents[0].path' "$OUT")
expect_true "the recipient's copy is byte-identical" cmp "$W/doc.bin" "$DOC"
expect_true "a private file in a private directory" \
    sh -c "[ \$(stat -c %a '$DOC') = 600 ] && [ \$(stat -c %a \"\$(dirname '$DOC')\") = 700 ]"
expect_true "the sender holds the signed receipt" \
    wait_for 30 has 1 n_state $P delivered
expect_ok "show at the sender" ag $P show "$ID1" --json
expect_true "receipt from the shelter, document at the broker" \
    jq -e '.receipts_from == ["ml.ngo.espoir"] and .documents[0].at_broker' "$OUT"
sleep 3
expect_true "delivered once" has 1 n_inbox $N
expect_true "one copy on disk" \
    has 1 sh -c "ls '$W/home-$N/documents' | wc -l"
expect_true "downloaded blobs cleaned up" \
    sh -c "[ -z \"\$(ls -A '$W/home-$N/incoming')\" ]"
expect_true "no plaintext at the broker or in the logs" \
    sh -c "! grep -r -a -q MARKER-PIECE-JOINTE '$W/data' '$W/home-$P' '$W/home-$N/vault' $W/*.log"
expect_ok "text show names the document" ag $N show "$ID1"
expect_grep "documents line" "^documents +Rapport médical.pdf +6.0 MiB" "$OUT"

# --- a blob altered at the broker: refused, nothing appears ---
agent_stop $N
head -c 300000 /dev/urandom >"$W/photo.jpg"
expect_ok "send a photo" ag $P send --to $N --kind referral \
    --file "$W/note.txt" --attach "$W/photo.jpg"
ID2=$(cat "$OUT")
expect_true "at the broker" wait_for 30 has 1 sh -c "'$AGENT' outbox --json --home '$W/home-$P' | jq '[.[] | select(.id==\"$ID2\" and .state==\"accepted by broker\")] | length'"
BLOB=$(ls "$W/data/blobs" | grep -E '^[0-9a-f]{64}$' | while read -r b; do
	[ "$(size "$W/data/blobs/$b")" -lt 400000 ] && echo "$b"; done | head -1)
expect_true "found its blob" [ -n "$BLOB" ]
printf 'X' | dd of="$W/data/blobs/$BLOB" bs=1 seek=100000 conv=notrunc 2>/dev/null
agent_start $N
expect_true "the recipient refuses the message" \
    wait_for 30 grep -q "message.refused from=$P" "$W/agent-$N.log"
expect_true "the sender is told by a signed rejection" \
    wait_for 30 has 1 sh -c "'$AGENT' outbox --json --home '$W/home-$P' | jq '[.[] | select(.id==\"$ID2\" and .state==\"refused\")] | length'"
expect_true "not in the inbox" has 1 n_inbox $N
expect_true "no plaintext, whole or partial" \
    sh -c "[ \$(ls -A '$W/home-$N/documents' | wc -l) = 1 ] && ! ls -A '$W/home-$N/documents' | grep -q '$ID2'"
expect_true "no half-written file anywhere" \
    sh -c "! find '$W/home-$N' -name '*.partial' | grep -q ."

agent_stop $N
agent_stop $P
grep -h 'attach\.' "$W"/agent-*.log | sort | uniq -c | sort -rn | head -20
done_
