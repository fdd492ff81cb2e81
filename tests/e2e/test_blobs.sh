#!/bin/sh
# test_blobs.sh: attachment blobs through a real broker (docs/PROTOCOL.md
# 9.4). A sender seals a multi-megabyte attachment (real secretstream
# ciphertext), starts uploading it, is killed mid-way, resumes at the
# broker's offset after a reconnect (and after a broker restart), then
# submits the envelope. The recipient downloads the blob (also killed and
# resumed); a non-recipient and the sender are refused; after the
# recipient's Ack it is refused too, and the next sweep deletes the blob.
# No plaintext reaches the broker.
. "$(dirname "$0")/../lib/cli.sh"
. "$(dirname "$0")/lib.sh"
W="$T/w"
mkdir -p "$W"
P=ml.police.bamako
N=ml.ngo.espoir
J=ml.justice.pole

expect_true "PKI" pki "$W" $P:police $N:ngo $J:justice
cp "$W/ca/ca.crl" "$W/crl"
expect_true "broker starts" start_broker
for a in $P $N $J; do
	expect_ok "$a publishes a prekey" probe publish-prekey "$a"
done

# A 6 MB attachment, with a marker that must never reach the broker.
{
	printf 'MARKER-PIECE-JOINTE-7731\n'
	head -c 6000000 /dev/urandom
} >"$W/plain.bin"
expect_ok "seal an envelope with the attachment" probe seal-attach $P \
    --to $N --kind referral --file "$W/plain.bin" --blob-out "$W/blob" \
    --env-out "$W/env"
HEX=$(sed -n 's/^blob \([0-9a-f]*\) len=.*/\1/p' "$OUT")
LEN=$(sed -n 's/^blob .* len=\([0-9]*\)$/\1/p' "$OUT")
expect_true "blob id printed" [ "${#HEX}" -eq 64 ]
PART="$W/data/blobs/$HEX.part"

# --- upload, broken mid-way: the probe is killed while sending ---
probe upload $P --file "$W/blob" --chunk 65536 --delay-ms 30 \
    >"$W/up1.out" 2>&1 &
UP=$!
size() { stat -c %s "$1" 2>/dev/null || echo 0; }
i=0
while [ "$(size "$PART")" -lt 1000000 ] && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
kill -9 $UP 2>/dev/null
wait $UP 2>/dev/null

# --- the broker restarts; the upload resumes where the broker's copy ends ---
stop_broker
STORED=$(size "$PART")
expect_true "killed mid-way with a partial upload ($STORED of $LEN)" \
    [ "$STORED" -gt 0 -a "$STORED" -lt "$LEN" ]
expect_true "the partial upload is only ours to see (0600)" \
    [ "$(stat -c %a "$PART")" = 600 ]
expect_true "broker restarts" start_broker
expect_ok "resume the upload" probe upload $P --file "$W/blob"
expect_grep "resumed at the stored offset, not at 0" "^resume at $STORED\$" "$OUT"
expect_grep "upload complete" "^uploaded $LEN complete" "$OUT"
expect_true "the blob is final, the part gone" \
    [ -f "$W/data/blobs/$HEX" -a ! -e "$PART" ]
expect_true "the broker holds exactly the sender's bytes" \
    cmp -s "$W/blob" "$W/data/blobs/$HEX"
expect_ok "uploading again is a no-op" probe upload $P --file "$W/blob"
expect_grep "already complete" "^uploaded $LEN complete" "$OUT"
expect_grep "completion logged with the id" "blob.stored agency=$P blob=$HEX size=$LEN" "$W/broker.log"

# --- nobody may fetch it before an envelope references it ---
run probe download $N --blob "$HEX" --out "$W/early.bin"
expect_true "recipient refused before the envelope (exit $rc)" [ "$rc" -ne 0 ]
expect_grep "refused as DENIED" "^nack denied" "$OUT"

expect_ok "submit the envelope" probe submit $P --env "$W/env"
expect_grep "accepted" "^accepted .* evidence=ok" "$OUT"
# The sweep (at start, then every 5 minutes) marks a referenced blob.
stop_broker
expect_true "broker restarts with the envelope spooled" start_broker
mode_is() { [ "$(stat -c %a "$1" 2>/dev/null)" = "$2" ]; }
expect_true "the sweep kept the referenced blob, marked in use (0400)" \
    wait_for 5 mode_is "$W/data/blobs/$HEX" 400

# --- the recipient downloads; killed mid-way, it resumes ---
rm -f "$W/got.bin"
probe download $N --blob "$HEX" --out "$W/got.bin" --delay-ms 200 \
    >"$W/down1.out" 2>&1 &
DN=$!
i=0
while [ "$(size "$W/got.bin")" -lt 500000 ] && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
kill -9 $DN 2>/dev/null
wait $DN 2>/dev/null
HAVE=$(size "$W/got.bin")
expect_true "download broken mid-way ($HAVE of $LEN)" \
    [ "$HAVE" -gt 0 -a "$HAVE" -lt "$LEN" ]
expect_ok "the recipient resumes the download" \
    probe download $N --blob "$HEX" --out "$W/got.bin"
expect_grep "resumed where it stopped" "^resume at $HAVE\$" "$OUT"
expect_grep "download complete" "^downloaded $LEN\$" "$OUT"
expect_true "the recipient has the sender's exact blob" \
    cmp -s "$W/blob" "$W/got.bin"

# --- no one else ---
run probe download $J --blob "$HEX" --out "$W/stolen.bin"
expect_true "a non-recipient is refused (exit $rc)" [ "$rc" -ne 0 ]
expect_grep "with DENIED" "^nack denied" "$OUT"
expect_true "and got no byte" [ "$(size "$W/stolen.bin")" -eq 0 ]
run probe download $P --blob "$HEX" --out "$W/sender.bin"
expect_true "the sender is not a recipient either (exit $rc)" [ "$rc" -ne 0 ]
run probe upload $J --file "$W/blob"
expect_grep "a complete blob is never rewritten" "^uploaded $LEN complete" "$OUT"

# --- after its Ack, the recipient is done with the blob ---
expect_ok "the recipient takes and acknowledges the envelope" \
    probe recv $N --count 1
sleep 2.5
rm -f "$W/again.bin"
run probe download $N --blob "$HEX" --out "$W/again.bin"
expect_true "refused after the Ack (exit $rc)" [ "$rc" -ne 0 ]
expect_grep "with DENIED" "^nack denied" "$OUT"

# --- once nothing references it, the next sweep deletes it ---
stop_broker
expect_true "broker restarts after the Ack" start_broker
gone() { [ ! -e "$1" ] && [ ! -e "$1.owner" ]; }
expect_true "the delivered blob is gone, with its owner file" \
    wait_for 5 gone "$W/data/blobs/$HEX"
expect_grep "and the sweep said why" \
    "blob.swept blob=$HEX size=$LEN state=complete why=delivered" "$W/broker.log"

# --- what the broker kept and said ---
expect_true "no plaintext marker in the broker's data" \
    sh -c "! grep -r -q -a MARKER-PIECE-JOINTE-7731 '$W/data'"
expect_true "no plaintext marker in the broker's log" \
    sh -c "! grep -q MARKER-PIECE-JOINTE-7731 '$W/broker.log'"
expect_grep "refusals logged with agency and id" \
    "blob.refused agency=$J op=get blob=$HEX" "$W/broker.log"
expect_true "the blob directory is private" \
    [ "$(stat -c %a "$W/data/blobs")" = 700 ]

done_
