#!/bin/sh
# test_broker.sh: the broker as agencies meet it, with real CURVE sockets on
# loopback, real sealed envelopes (sira-probe) and real LMDB files:
# authentication, routing, store-and-forward across SIGKILL, policy,
# hostile input, quotas, expiry, revocation, and the transparency log.
. "$(dirname "$0")/../lib/cli.sh"
. "$(dirname "$0")/lib.sh"
W="$T/w"
mkdir -p "$W"

expect_true "PKI" pki "$W" ml.police.bamako:police ml.ngo.espoir:ngo \
    ml.justice.pole:justice ml.social.kayes:social_services \
    ml.ngo.sikasso:ngo ml.ngo.kati:ngo
cp "$W/ca/ca.crl" "$W/crl"
expect_true "broker starts (self-test refused an unknown key)" start_broker
expect_grep "self-test saw an unknown key refused" "selftest.zap .*decision=refused" "$W/broker.log"

# --- authentication ---
expect_ok "known agency says hello" probe hello ml.police.bamako
"$CERT" init --ca-dir "$W/rogue" --name "Rogue CA" --insecure-no-passphrase >/dev/null 2>&1
"$CERT" issue --ca-dir "$W/rogue" --id ml.police.bamako --name "Faux" \
    --role police --out "$W/rogue-ag" >/dev/null 2>&1
run "$PROBE" hello --endpoint "$EP" --ca "$W/ca/ca.cert" \
    --broker-cert "$W/broker/ml.sira.broker.cert" \
    --cert "$W/rogue-ag/ml.police.bamako.cert" \
    --key "$W/rogue-ag/ml.police.bamako.key" --timeout 3
expect_true "unknown CURVE key refused at handshake (exit $rc)" [ "$rc" -ne 0 ]

for a in ml.police.bamako ml.ngo.espoir ml.justice.pole ml.social.kayes ml.ngo.sikasso ml.ngo.kati; do
	expect_ok "$a publishes a prekey (logged, with evidence)" \
	    probe publish-prekey "$a"
done
expect_ok "hello after the log has grown" probe hello ml.police.bamako
expect_grep "Welcome carries the newest checkpoint, signed by the broker" \
    "welcome checkpoint=([6-9]|[1-9][0-9]+)$" "$OUT"

# --- delivery to an online recipient ---
probe recv ml.ngo.espoir --count 1 --timeout 10 >"$W/online.out" 2>&1 &
RX=$!
sleep 0.5
expect_ok "police refers to the shelter" probe send ml.police.bamako \
    --to ml.ngo.espoir --kind referral --text MARKER-VICTIM-4242
expect_grep "accepted with valid evidence" "accepted .* evidence=ok" "$OUT"
wait $RX
expect_grep "online recipient got it" "delivered .* text=MARKER-VICTIM-4242" "$W/online.out"

# --- offline recipient: spooled, delivered in order on reconnect ---
for i in 1 2 3 4 5; do
	probe send ml.police.bamako --to ml.justice.pole --kind case_transfer \
	    --text "ordre-$i" >/dev/null
done
"$BROKER" status --data "$W/data" --json >"$W/status1.json"
expect_true "five waiting for justice" [ "$(jq '.spool[] | select(.agency=="ml.justice.pole") | .spooled' "$W/status1.json")" = 5 ]
probe recv ml.justice.pole --count 5 >"$W/order.out"
expect_true "delivered in order" [ "$(grep -o 'text=ordre-[0-9]' "$W/order.out" | tr '\n' ' ')" = "text=ordre-1 text=ordre-2 text=ordre-3 text=ordre-4 text=ordre-5 " ]
sleep 2.5
"$BROKER" status --data "$W/data" --json >"$W/status2.json"
expect_true "acks emptied the spool" [ "$(jq '.spool[] | select(.agency=="ml.justice.pole") | .spooled' "$W/status2.json")" = 0 ]

# --- SIGKILL with envelopes spooled: nothing lost, nothing twice ---
probe send ml.police.bamako --to ml.social.kayes --kind referral \
    --text spooled --count 10 >"$W/kill-send.out"
expect_true "ten accepted before the kill" [ "$(count '^accepted' "$W/kill-send.out")" = 10 ]
kill -9 "$BPID"
wait "$BPID" 2>/dev/null
expect_true "broker restarts on the same data" start_broker
probe recv ml.social.kayes --count 10 >"$W/kill-recv.out"
expect_true "all ten delivered after SIGKILL" [ "$(count '^delivered' "$W/kill-recv.out")" = 10 ]
expect_true "none twice" [ "$(count '^duplicate' "$W/kill-recv.out")" = 0 ]
run probe recv ml.social.kayes --count 1 --timeout 2
expect_true "and nothing more afterwards" grep -q "received=0" "$OUT"

# --- SIGKILL in the middle of a stream: every Accepted survives ---
probe send ml.police.bamako --to ml.ngo.sikasso --kind referral \
    --text stream --count 40 --timeout 3 >"$W/mid-send.out" 2>&1 &
SX=$!
sleep 0.3
kill -9 "$BPID"
wait "$BPID" 2>/dev/null
wait $SX
n_acc=$(count '^accepted' "$W/mid-send.out")
start_broker
probe recv ml.ngo.sikasso --count "$n_acc" --timeout 5 >"$W/mid-recv.out"
missing=0
for id in $(grep '^accepted' "$W/mid-send.out" | cut -d' ' -f2); do
	grep -q "delivered $id" "$W/mid-recv.out" || missing=$((missing + 1))
done
expect_true "every one of $n_acc accepted envelopes delivered after a mid-stream SIGKILL" [ $missing -eq 0 ]
expect_true "no duplicates after the mid-stream kill" [ "$(count '^duplicate' "$W/mid-recv.out")" = 0 ]
# Whatever was spooled but never answered is drained too (not counted).
probe recv ml.ngo.sikasso --count 40 --timeout 2 >/dev/null 2>&1

# --- policy: only justice requests case files ---
expect_ok "ngo tries a file request" probe send ml.ngo.espoir \
    --to ml.police.bamako --kind file_request --text nope
expect_grep "policy violation nacked" "nack denied by policy" "$OUT"
run probe recv ml.police.bamako --count 1 --timeout 2
expect_grep "and never delivered" "received=0" "$OUT"
expect_ok "justice may" probe send ml.justice.pole --to ml.police.bamako \
    --kind file_request --text "requisition"
expect_grep "justice request accepted" "accepted" "$OUT"
probe recv ml.police.bamako --count 1 >/dev/null

# --- spoofing ---
expect_ok "ngo sends as police" probe send ml.ngo.espoir \
    --to ml.police.bamako --kind note --text x --as ml.police.bamako
expect_grep "spoofed sender nacked" "nack sender does not match" "$OUT"

# --- hostile input while another agency's traffic flows ---
probe recv ml.social.kayes --count 3 --timeout 15 >"$W/flow.out" 2>&1 &
RX=$!
probe garbage ml.ngo.espoir --count 50 >"$W/garbage.out" 2>&1 &
GX=$!
probe oversize ml.ngo.sikasso --size 9000000 >/dev/null 2>&1
probe send ml.police.bamako --to ml.social.kayes --kind referral \
    --text during-attack --count 3 >"$W/flow-send.out"
wait $GX
wait $RX
expect_grep "garbage frames each nacked" "garbage=50 nacks=50" "$W/garbage.out"
expect_true "a burst of garbage is logged once, not 50 times" \
    has 1 count 'frame.malformed agency=ml.ngo.espoir reason=' "$W/broker.log"
expect_true "honest traffic still accepted" [ "$(count '^accepted' "$W/flow-send.out")" = 3 ]
expect_true "and delivered" [ "$(count 'delivered .*during-attack' "$W/flow.out")" = 3 ]
expect_true "broker survived" kill -0 "$BPID"

# --- expiry: a TTL passes with the recipient offline ---
# --expires-in makes the probe pick, from its own sealing clock, the TTL
# that ends 5 s after sealing (created_at is rounded down to the minute).
expect_ok "short-lived message to an offline agency" probe send \
    ml.police.bamako --to ml.ngo.sikasso --kind note --text ephemeral \
    --expires-in 5 --wait-nack 20
expect_grep "sender told it expired" "nack expired" "$OUT"
run probe recv ml.ngo.sikasso --count 1 --timeout 2
expect_grep "expired message never delivered" "received=0" "$OUT"
# The count is written when the burst's 10 s window closes: wait for it.
expect_true "then with its count, once the burst is over" wait_for 15 \
    grep -q "frame.malformed agency=ml.ngo.espoir count=49 seconds=10" \
    "$W/broker.log"

# --- quota ---
stop_broker
start_broker --quota-messages 3
probe send ml.police.bamako --to ml.justice.pole --kind case_transfer \
    --text q --count 4 >"$W/quota.out"
expect_true "three fit" [ "$(count '^accepted' "$W/quota.out")" = 3 ]
expect_grep "fourth nacked: quota" "nack quota exceeded" "$W/quota.out"
probe recv ml.justice.pole --count 3 >/dev/null

# --- revocation: dropped on reload, refused on reconnect ---
# ml.ngo.kati is connected, silent, with a full window of deliveries it has
# not acknowledged (and more spooled behind them) when it is revoked: from
# the reload on it must get nothing, not even the redeliveries.
stop_broker
start_broker # without the small quota of the test above
# The window by bytes: envelopes of about 100 KiB, 12 of them, to a
# silent agency: the broker's 1 MiB bound lets fewer than 12 wait for an
# Ack at once; once acknowledged, all 12 arrive, once each.
big=$(head -c 76800 /dev/zero | tr '\0' 'a')
probe send ml.police.bamako --to ml.social.kayes --kind note --text "$big" \
    --count 12 >/dev/null
probe recv ml.social.kayes --no-ack --count 1000 --timeout 4 \
    >"$W/kayes.out" 2>&1
n=$(count '^(delivered|duplicate)' "$W/kayes.out")
expect_true "large envelopes: the window holds more than one ($n)" [ "$n" -gt 1 ]
expect_true "and, by bytes, fewer than the 12 queued ($n)" [ "$n" -lt 12 ]
probe recv ml.social.kayes --count 12 --timeout 20 >"$W/kayes2.out" 2>&1
expect_true "acknowledged, all 12 arrive" \
    has 12 count '^(delivered|duplicate)' "$W/kayes2.out"

probe send ml.police.bamako --to ml.ngo.kati --kind note --text spooled \
    --count 40 >/dev/null
probe recv ml.ngo.kati --no-ack --count 1000 --timeout 12 \
    >"$W/kati.out" 2>&1 &
KX=$!
expect_true "the open session holds a full window (32 small ones)" \
    wait_for 10 has 32 count '^(delivered|duplicate)' "$W/kati.out"
probe ping-after ml.ngo.sikasso --wait-nack 3 >"$W/ping.out" 2>&1 &
PX=$!
sleep 1
for who in ml.ngo.sikasso ml.ngo.kati; do
	serial=$("$CERT" show --json "$W/ag/$who.cert" | jq .serial)
	"$CERT" revoke --ca-dir "$W/ca" --serial "$serial" \
	    --reason key_compromise >/dev/null 2>&1
done
cp "$W/ca/ca.crl" "$W/crl"
kill -HUP "$BPID"
sleep 7 # past --redeliver 5: a live session would get its window again
expect_true "a revoked agency's open session gets no more deliveries" \
    has 32 count '^(delivered|duplicate)' "$W/kati.out"
expect_grep "its drop is logged at the reload" "peer.dropped agency=ml.ngo.kati" "$W/broker.log"
kill "$KX" 2>/dev/null
wait $PX
expect_grep "reload logged" "broker.reloaded" "$W/broker.log"
expect_grep "connected revoked agency dropped: its next frame unanswered" "no answer" "$W/ping.out"
expect_grep "drop logged" "peer.dropped agency=ml.ngo.sikasso" "$W/broker.log"
run probe hello ml.ngo.sikasso --timeout 3
expect_true "revoked agency refused on reconnect" [ "$rc" -ne 0 ]
expect_ok "others carry on" probe hello ml.police.bamako
run probe send ml.police.bamako --to ml.ngo.sikasso --kind note --text x
expect_grep "the directory no longer offers a revoked agency" "no certificate or prekey for ml.ngo.sikasso" "$OUT"

# --- renewal after compromise: the old key's open session dies too ---
probe ping-after ml.ngo.espoir --wait-nack 3 >"$W/ping-old.out" 2>&1 &
PX=$!
sleep 1
old_serial=$("$CERT" show --json "$W/ag/ml.ngo.espoir.cert" | jq .serial)
mkdir -p "$W/renewed"
"$CERT" renew --ca-dir "$W/ca" --cert "$W/ag/ml.ngo.espoir.cert" \
    --out "$W/renewed" >/dev/null 2>&1
"$CERT" revoke --ca-dir "$W/ca" --serial "$old_serial" \
    --reason key_compromise >/dev/null 2>&1
cp "$W/ca/ca.crl" "$W/crl"
cp "$W/renewed/ml.ngo.espoir.cert" "$W/certs/ml.ngo.espoir-2.cert"
kill -HUP "$BPID"
wait $PX
expect_grep "the old key's open session is dropped after renewal" \
    "no answer" "$W/ping-old.out"
run "$PROBE" hello --endpoint "$EP" --ca "$W/ca/ca.cert" \
    --broker-cert "$W/broker/ml.sira.broker.cert" \
    --cert "$W/renewed/ml.ngo.espoir.cert" \
    --key "$W/renewed/ml.ngo.espoir.key" --timeout 5
expect_true "the renewed key connects" [ "$rc" -eq 0 ]

# --- the transparency log ---
stop_broker
expect_ok "log verify on an intact log" "$BROKER" log verify --data "$W/data"
expect_grep "log verified" "log OK" "$OUT"
expect_ok "log show" "$BROKER" log show --data "$W/data" --json
expect_true "log show is JSON with accepted leaves" \
    jq -e '[.[] | select(.type=="accepted")] | length > 10' "$OUT"
expect_true "no personal data in the log" sh -c "! grep -q MARKER-VICTIM $OUT"
mdb_dump -s leaves "$W/data" >"$W/leaves.dump"
# Change one hex digit in the value of the 6th record (a value line after
# its key line), then write it back over the original.
awk 'BEGIN{r=0} /^ /{n++; if (n==12) { c=substr($0,10,1); c=(c=="0")?"1":"0"; $0=substr($0,1,9) c substr($0,11) } } {print}' \
    "$W/leaves.dump" >"$W/leaves.bad"
mdb_load -s leaves "$W/data" <"$W/leaves.bad"
run "$BROKER" log verify --data "$W/data"
expect_true "log verify detects one modified leaf" [ "$rc" -ne 0 ]
expect_grep "and names it" "first bad leaf is 5 " "$OUT"

# --- nothing readable at rest ---
expect_true "no plaintext marker in the broker's data" \
    sh -c "! grep -r -q -a MARKER-VICTIM-4242 '$W/data'"
expect_true "no plaintext marker in the broker's log output" \
    sh -c "! grep -q MARKER-VICTIM-4242 '$W/broker.log'"

# --- one file per connected agency: the soft limit is raised ---
stop_broker
ulimit -Sn 512
start_broker
lim() { awk -v f="$1" '/^Max open files/ { print $f }' "/proc/$BPID/limits"; }
soft=$(lim 4)
hard=$(lim 5)
expect_true "started under 512 files, the broker raised it ($soft)" \
    [ "$soft" != 512 ]
expect_true "to the hard limit ($hard)" [ "$soft" = "$hard" ]
expect_grep "and logged its ceiling" "broker.fd_limit files=$hard" \
    "$W/broker.log"

done_
