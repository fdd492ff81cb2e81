#!/bin/sh
# test_disk.sh: a full disk, at the broker and at an agency. Each store is
# put on its own small tmpfs and the tmpfs is filled up: sending says the
# storage is full and keeps nothing half-written; a recipient that cannot
# store a delivery leaves it at the broker; a broker that cannot spool
# refuses for now and the sender retries. When space returns, everything
# arrives once. Mounting needs root: otherwise the test says so and skips.
. "$(dirname "$0")/../lib/cli.sh"
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: a full disk is made with a small tmpfs, which needs root"
	exit 0
fi
W="$T/w"
mkdir -p "$W/mnt-n" "$W/mnt-p" "$W/data"
trap 'for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; umount "$W/mnt-n" "$W/mnt-p" "$W/data" 2>/dev/null; rm -rf "$T"' EXIT
P=ml.police.bamako
N=ml.ngo.espoir

for m in mnt-n mnt-p data; do
	mount -t tmpfs -o size=8m tmpfs "$W/$m" || {
		echo "SKIP: cannot mount a tmpfs here"
		exit 0
	}
done
pki "$W" $P:police $N:ngo
cp "$W/ca/ca.crl" "$W/crl"
start_broker
# The homes live on the small disks; the helpers find them by these links.
mkdir -m 700 "$W/mnt-p/h" "$W/mnt-n/h"
ln -s "$W/mnt-p/h" "$W/home-$P"
ln -s "$W/mnt-n/h" "$W/home-$N"
for a in $P $N; do agent_init $a; done
agent_start $P
agent_start $N
expect_true "both agencies published their prekeys" wait_for 20 sh -c \
    "grep -q prekey.published '$W/agent-$N.log' && grep -q prekey.published '$W/agent-$P.log'"

# fill DIR: use every free byte of DIR's file system.
fill() { dd if=/dev/zero of="$1/filler" bs=64k 2>/dev/null || true; sync; }

head -c 60000 /dev/urandom | base64 >"$W/big.txt"
# Larger than everything the broker has spooled and freed before it, so the
# pages LMDB frees after M1 and M2 cannot hold it once the disk is full.
head -c 600000 /dev/urandom | base64 >"$W/huge.txt"

# --- the sender's disk is full ---
fill "$W/mnt-p"
expect_fail "send on a full disk fails" "storage is full" \
    ag $P send --to $N --kind note --file "$W/big.txt"
expect_true "nothing half-written in the outbox" has 0 sh -c \
    "'$AGENT' outbox --json --home '$W/home-$P' | jq length"
rm -f "$W/mnt-p/filler"
expect_ok "with space again, send works" \
    ag $P send --to $N --kind note --file "$W/big.txt"
M1=$(cat "$OUT")
expect_true "and the message goes" wait_for 60 has delivered out_state $P "$M1"

# --- the recipient's disk is full ---
fill "$W/mnt-n"
expect_ok "send to a shelter whose disk is full" \
    ag $P send --to $N --kind note --file "$W/big.txt"
M2=$(cat "$OUT")
expect_true "the shelter says its storage is full" wait_for 60 \
    grep -q "message.store_failed reason=.*storage is full" "$W/agent-$N.log"
expect_true "the message stays at the broker, not refused" \
    has "accepted by broker" out_state $P "$M2"
expect_true "not received" has 0 received $N "$M2"
rm -f "$W/mnt-n/filler"
expect_true "with space again, it is received once" \
    wait_for 60 has 1 received $N "$M2"
expect_true "and receipted" wait_for 60 has delivered out_state $P "$M2"

# --- the broker's disk is full ---
fill "$W/data"
expect_ok "send while the broker's disk is full" \
    ag $P send --to $N --kind note --file "$W/huge.txt"
M3=$(cat "$OUT")
expect_true "the broker says its storage is full" wait_for 60 \
    grep -Eq "full|No space" "$W/broker.log"
expect_true "the message waits at the sender, not refused" \
    has sealed out_state $P "$M3"
rm -f "$W/data/filler"
expect_true "with space again, it is delivered" \
    wait_for 120 has 1 received $N "$M3"
expect_true "and receipted" wait_for 60 has delivered out_state $P "$M3"
expect_true "still exactly once" has 1 received $N "$M3"
expect_ok "the broker's log verifies" "$BROKER" log verify --data "$W/data"
expect_ok "the shelter's audit verifies" ag $N audit verify
done_
