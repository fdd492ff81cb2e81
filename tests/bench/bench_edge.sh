#!/bin/sh
# bench_edge.sh: one agency behind an emulated 2G/EDGE link, by `make
# bench` (never a test).
#
# The police agency's daemon runs in its own network namespace, joined to
# the host by a link of 200 kbit/s each way, 300 ms one way and 2 % of the
# packets lost each way. The broker listens on the host end of the link
# (10.77.0.1), the shelter's daemon runs on the host, on the good side.
# Everything runs with the production defaults: the broker's (rate 50
# frames/s, burst 500, heartbeat 10 s, redelivery 60 s) and the agent's
# (heartbeat 5 s, ZMQ heartbeat 10 s / timeout 30 s, reconnect 0.5-1.5 s
# up to 60 s, 64 KiB upload chunks).
#
# The link: `tc netem` when this kernel has it, on a veth pair; otherwise
# sira-linkemu (tests/tools/linkemu.c), which carries the packets between
# two TUN devices with the same rate, delay and loss (netem's queue of
# 1000 packets). Bytes on the wire are the IP bytes counted by the
# namespace's end of the link (/sys/class/net/IF/statistics).
#
# Output, one key=value per line (stable keys):
#   edge_connect_s        the police daemon started to its prekey published
#                         (CURVE handshake, Hello, directory, prekey)
#   edge_referral_s       median of EDGE_REFS (5) referrals: `sira-agent
#                         refer` (the 1.2 KiB example referral) at the
#                         police, behind the link, to the shelter's signed
#                         receipt back in the police outbox: up the link,
#                         down to the shelter, the receipt back down the link
#   edge_referral_max_s   the slowest of them
#   edge_referral_queued_s, edge_referral_accepted_s,
#   edge_referral_received_s   medians of the steps: `refer` returned (the
#                         referral sealed and queued: no network), the
#                         broker's Accepted back at the police, the
#                         referral in the shelter's inbox
#   edge_heartbeat_bytes_per_min   both ways on the link, idle, EDGE_IDLE
#                         (60) seconds
#   edge_bytes_per_referral  both ways on the link during the referrals
#                         (EDGE_WINDOW (15) s each), less the idle traffic
#                         over the same time, per referral
#   edge_doc_2m_s         a referral with a 2 MiB document from the police:
#                         refer to the receipt back (the shelter has
#                         downloaded and verified it)
#   edge_cut_recovery_s   the same with the link cut (100 % loss both
#                         ways) for EDGE_CUT (20) s once the broker holds
#                         1 MiB of the upload: seconds from the restore to
#                         the receipt
#   edge_cut_stall_s      of which: from the restore until the upload
#                         moves again (4,500 more bytes up the link)
#   edge_cut_resumed_at   the offset the daemon resumed the upload at
#                         (attach.upload_resume; 0: it restarted; "none":
#                         no resume, the same connection carried on)
#   edge_long_cut_recovery_s, edge_long_cut_stall_s,
#   edge_long_cut_resumed_at   the same with a cut of EDGE_CUT_LONG (45) s,
#                         longer than the ZMQ heartbeat timeout (30 s): the
#                         daemon loses its session and connects again (0:
#                         no long cut)
#
# Skipped (a reason on stderr, exit 0, no keys) when not root or without
# network namespaces. O and BIN as for the tests.
set -u
cd "$(dirname "$0")/../.." || exit 1
: "${O:=build/release}" "${BIN:=bin}"
BIN=$(cd "$BIN" && pwd)
export O BIN
: "${EDGE_REFS:=5}" "${EDGE_WINDOW:=15}" "${EDGE_IDLE:=60}" "${EDGE_CUT:=20}"
: "${EDGE_CUT_LONG:=45}"
EMU="$(pwd)/$O/tools/sira-linkemu"
NS="sira-edge-$$"
DEV_N="sen$$" # the namespace's end of the link
DEV_H="seh$$" # the host's end
EMU_PID=""

skip() {
	echo "edge_referral_s=skipped ($*)" >&2
	exit 0
}

[ "$(id -u)" = 0 ] || skip "not root: network namespaces need root"
ip netns add "$NS" 2>/dev/null || skip "ip netns add failed"
ip netns del "$NS"

. tests/lib/cli.sh
. tests/e2e/lib.sh
W="$T/w"
mkdir -p "$W"

# Whatever happens: the processes, the link and the namespace go.
cleanup() {
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	[ -n "$EMU_PID" ] && kill "$EMU_PID" 2>/dev/null && wait "$EMU_PID" &&
	    sed 's/^/bench_edge: /' "$W/linkemu.log" >&2
	ip link del "$DEV_H" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "bench_edge: $*" >&2
	exit 1
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# link_netem: a veth pair with netem on both ends' egress; 1 if no netem.
link_netem() {
	ip link add "$DEV_H" type veth peer name "$DEV_N" || return 1
	tc qdisc add dev "$DEV_H" root netem delay 300ms loss 2% \
	    rate 200kbit 2>/dev/null || {
		ip link del "$DEV_H"
		return 1
	}
	ip link set "$DEV_N" netns "$NS" &&
	    ip netns exec "$NS" tc qdisc add dev "$DEV_N" root netem \
	    delay 300ms loss 2% rate 200kbit &&
	    ip addr add 10.77.0.1/30 dev "$DEV_H" &&
	    ip netns exec "$NS" ip addr add 10.77.0.2/30 dev "$DEV_N"
}

# link_emu: the same link by sira-linkemu between two TUN devices.
link_emu() {
	[ -x "$EMU" ] || fail "no $EMU (make $O/tools/sira-linkemu)"
	"$EMU" --a "$DEV_N" --b "$DEV_H" --delay-ms 300 --rate-kbit 200 \
	    --loss-pct 2 ${EDGE_TRACE:+--trace "$EDGE_TRACE"} \
	    2>"$W/linkemu.log" &
	EMU_PID=$!
	wait_for 5 ip link show "$DEV_N" || return 1
	ip link set "$DEV_N" netns "$NS" &&
	    ip addr add 10.77.0.1 peer 10.77.0.2 dev "$DEV_H" &&
	    ip netns exec "$NS" ip addr add 10.77.0.2 peer 10.77.0.1 \
	    dev "$DEV_N"
}

# link_cut / link_restore: 100 % loss both ways, then the link again.
link_cut() {
	if [ -n "$EMU_PID" ]; then
		kill -USR1 "$EMU_PID"
	else
		tc qdisc change dev "$DEV_H" root netem loss 100%
		ip netns exec "$NS" tc qdisc change dev "$DEV_N" root netem \
		    loss 100%
	fi
}
link_restore() {
	if [ -n "$EMU_PID" ]; then
		kill -USR2 "$EMU_PID"
	else
		tc qdisc change dev "$DEV_H" root netem delay 300ms loss 2% \
		    rate 200kbit
		ip netns exec "$NS" tc qdisc change dev "$DEV_N" root netem \
		    delay 300ms loss 2% rate 200kbit
	fi
}

# wire STAT: a counter of the namespace's end of the link (tx: up).
wire() { ip netns exec "$NS" cat "/sys/class/net/$DEV_N/statistics/$1"; }
# wire_bytes: IP bytes both ways at the namespace's end of the link.
wire_bytes() { echo $(($(wire rx_bytes) + $(wire tx_bytes))); }
# wire_all: up bytes, up packets, down bytes, down packets.
wire_all() {
	echo "$(wire tx_bytes) $(wire tx_packets) $(wire rx_bytes)" \
	    "$(wire rx_packets)"
}

# One at a time: a second run would take the same addresses.
ip -4 addr show | grep -q 'inet 10\.77\.0\.1 ' &&
    fail "10.77.0.1 is taken: is another bench_edge.sh running?"
ip netns add "$NS" || fail "ip netns add $NS"
if link_netem; then
	echo "bench_edge: link by tc netem on a veth pair" >&2
elif link_emu; then
	echo "bench_edge: no tc netem in this kernel; link by sira-linkemu" \
	    "between two TUN devices" >&2
else
	fail "cannot set up the emulated link"
fi
ip link set "$DEV_H" up &&
    ip netns exec "$NS" ip link set "$DEV_N" up &&
    ip netns exec "$NS" ip link set lo up || fail "the link does not come up"

P=ml.police.segou
N=ml.ngo.espoir
DATA="$(pwd)/tests/data"
pki "$W" $P:police $N:ngo || fail "cannot make the test PKI"
cp "$W/ca/ca.crl" "$W/crl"

# The broker on the host's end of the link, production defaults.
"$BROKER" run --listen 'tcp://10.77.0.1:*' --data "$W/data" \
    --ca "$W/ca/ca.cert" --cert "$W/broker/ml.sira.broker.cert" \
    --key "$W/broker/ml.sira.broker.key" --certs "$W/certs" \
    --crl "$W/crl" 2>>"$W/broker.log" &
BPID=$!
PIDS="$PIDS $BPID"
wait_for 10 test -s "$W/data/endpoint" || fail "the broker did not start"
EP=$(cat "$W/data/endpoint")
for a in $P $N; do agent_init "$a" || fail "agent_init $a"; done
agent_start $N
wait_for 30 grep -q "prekey.published" "$W/agent-$N.log" ||
    fail "the shelter published no prekey"

# The police daemon behind the link (ip netns exec execs it: same pid).
t0=$(now_ms)
ip netns exec "$NS" "$AGENT" run --home "$W/home-$P" \
    2>>"$W/agent-$P.log" &
echo $! >"$W/pid-$P"
PIDS="$PIDS $!"
wait_for 120 grep -q "prekey.published" "$W/agent-$P.log" ||
    fail "the police published no prekey over the link"
t1=$(now_ms)
knows() { ag "$1" directory --json | jq -e --arg id "$2" \
    'any(.[]; .agency == $id)' >/dev/null; }
wait_for 120 knows $P $N || fail "the police never saw the shelter"
awk -v t=$((t1 - t0)) 'BEGIN { printf "edge_connect_s=%.1f\n", t / 1000 }'

# Counts at the police: through the broker (accepted or delivered), and
# delivered; at the shelter: its inbox.
n_through() {
	ag $P outbox --json | jq '[.[] | select(.state=="accepted by broker" or .state=="delivered")] | length'
}

# follow BASE START: until the police hold BASE+1 receipts; prints the
# seconds from START (ms, before the refer) to the Accepted, to the
# shelter's inbox and to the receipt (each seen within about 0.2 s).
follow() {
	base=$1
	start=$2
	acc=""
	rcv=""
	while :; do
		t=$(($(now_ms) - start))
		[ $t -gt 600000 ] && return 1
		[ -z "$acc" ] && [ "$(n_through)" -gt "$base" ] && acc=$t
		[ -z "$rcv" ] && [ "$(n_inbox $N)" -gt "$base" ] && rcv=$t
		[ -n "$acc" ] && [ -n "$rcv" ] &&
		    [ "$(n_state $P delivered)" -gt "$base" ] && break
		sleep 0.1
	done
	echo "${acc:-$t} $rcv $t" | awk '{ printf "%.2f %.2f %.2f\n", $1 / 1000, $2 / 1000, $3 / 1000 }'
}

# refer_case I [args]: the example referral under case MRN-EDGE-I.
refer_case() {
	i=$1
	shift
	jq --arg r "MRN-EDGE-$i" '.case_ref = $r' "$DATA/referral-example.json" \
	    >"$W/ref-$i.json"
	ag $P refer --to $N --file "$W/ref-$i.json" "$@" >/dev/null \
	    2>"$W/refer.err" || {
		cat "$W/refer.err" >&2
		return 1
	}
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# The referrals, one at a time, each in a window of EDGE_WINDOW seconds.
sent=0
b0=$(wire_bytes)
w0=$(now_ms)
i=1
while [ $i -le "$EDGE_REFS" ]; do
	ws=$(now_ms)
	c0=$(wire_all)
	refer_case "$i" || fail "refer $i"
	q=$(($(now_ms) - ws))
	follow $sent "$ws" >>"$W/refs" || fail "referral $i never came back"
	sent=$((sent + 1))
	echo "$q" >>"$W/queued"
	echo "bench_edge: referral $i: queued (refer returned), accepted," \
	    "received, receipt at $(awk -v q=$q 'BEGIN { printf "%.2f", q / 1000 }')" \
	    "$(tail -1 "$W/refs") s" >&2
	left=$((EDGE_WINDOW * 1000 - ($(now_ms) - ws)))
	[ $left -gt 0 ] && sleep "$(awk -v l=$left 'BEGIN { print l / 1000 }')"
	echo "$c0 $(wire_all)" | awk -v w="$EDGE_WINDOW" '{
	    printf "bench_edge:   in its %d s: up %d bytes in %d packets, down %d bytes in %d packets\n",
	    w, $5 - $1, $6 - $2, $7 - $3, $8 - $4 }' >&2
	i=$((i + 1))
done
b1=$(wire_bytes)
w1=$(now_ms)
echo "edge_referral_s=$(cut -d' ' -f3 "$W/refs" | median)"
echo "edge_referral_max_s=$(cut -d' ' -f3 "$W/refs" | sort -n | tail -1)"
echo "edge_referral_accepted_s=$(cut -d' ' -f1 "$W/refs" | median)"
echo "edge_referral_received_s=$(cut -d' ' -f2 "$W/refs" | median)"
echo "edge_referral_queued_s=$(median <"$W/queued" |
    awk '{ printf "%.2f", $1 / 1000 }')"

# Idle: nothing queued, heartbeats only.
c0=$(wire_all)
i0=$(wire_bytes)
sleep "$EDGE_IDLE"
i1=$(wire_bytes)
echo "$c0 $(wire_all)" | awk -v w="$EDGE_IDLE" '{
    printf "bench_edge: idle %d s: up %d bytes in %d packets, down %d bytes in %d packets\n",
    w, $5 - $1, $6 - $2, $7 - $3, $8 - $4 }' >&2
awk -v b=$((i1 - i0)) -v s="$EDGE_IDLE" \
    'BEGIN { printf "edge_heartbeat_bytes_per_min=%.0f\n", b * 60 / s }'
awk -v b=$((b1 - b0)) -v ms=$((w1 - w0)) -v ib=$((i1 - i0)) \
    -v is="$EDGE_IDLE" -v n="$EDGE_REFS" \
    'BEGIN { printf "edge_bytes_per_referral=%.0f\n", (b - ib / is * ms / 1000) / n }'

# A 2 MiB document with a referral, through the link.
head -c 2097152 /dev/urandom >"$W/doc-2m.pdf"
ws=$(now_ms)
refer_case doc --attach "$W/doc-2m.pdf" || fail "refer with a document"
follow $sent "$ws" >"$W/doc" || fail "the document never came back"
sent=$((sent + 1))
echo "bench_edge: 2 MiB document: accepted, received, receipt at" \
    "$(cat "$W/doc") s" >&2
echo "edge_doc_2m_s=$(cut -d' ' -f3 "$W/doc")"

# The same, the link cut for CUT seconds in the middle of the upload:
# cut_doc NAME CUT prints "recovery_s stall_s resumed_at".
size() { stat -c %s "$1" 2>/dev/null || echo 0; }
held() {
	h=0
	for f in "$W"/data/blobs/*.part; do h=$(size "$f"); done
	echo "$h"
}
cut_doc() {
	head -c 2097152 /dev/urandom >"$W/doc-$1.pdf"
	resumes0=$(count 'attach.upload_resume' "$W/agent-$P.log")
	refer_case "$1" --attach "$W/doc-$1.pdf" || return 1
	wait_for 300 sh -c "[ \$(stat -c %s '$W'/data/blobs/*.part 2>/dev/null | tail -1) -gt 1048576 ]" ||
	    return 1
	lines0=$(wc -l <"$W/agent-$P.log")
	link_cut
	h0=$(held)
	echo "bench_edge: link cut for $2 s with $h0 bytes at the broker" \
	    "at $(date -u +%H:%M:%S)" >&2
	sleep "$2"
	link_restore
	r=$(now_ms)
	echo "bench_edge: restored at $(date -u +%H:%M:%S)" >&2
	h1=$(held)
	# the stall: until the upload moves again, three full segments up
	u1=$(($(wire tx_bytes) + 4500))
	while [ "$(wire tx_bytes)" -lt $u1 ]; do
		[ $(($(now_ms) - r)) -gt 300000 ] && return 1
		sleep 0.1
	done
	stall=$(($(now_ms) - r))
	follow $sent "$r" >"$W/cut-$1" || return 1
	echo "bench_edge: after the restore: the upload moved again at" \
	    "$(awk -v t=$stall 'BEGIN { printf "%.1f", t / 1000 }') s;" \
	    "accepted, received, receipt at $(cat "$W/cut-$1") s" \
	    "(from $h1 bytes at the broker)" >&2
	tail -n +$((lines0 + 1)) "$W/agent-$P.log" | grep -E 'link\.' |
	    sed 's/^/bench_edge:   /' >&2
	off=none
	grep 'attach.upload_resume' "$W/agent-$P.log" |
	    tail -n +$((resumes0 + 1)) >"$W/resumes-$1"
	if [ -s "$W/resumes-$1" ]; then
		off=$(sed -n 's/.*offset=\([0-9]*\).*/\1/p' "$W/resumes-$1" |
		    tail -1)
		sed 's/^/bench_edge:   /' "$W/resumes-$1" >&2
	fi
	echo "$(cut -d' ' -f3 "$W/cut-$1") $stall $off" |
	    awk '{ printf "%.2f %.1f %s\n", $1, $2 / 1000, $3 }'
}
# shellcheck disable=SC2046 # three words
set -- $(cut_doc cut "$EDGE_CUT")
[ $# -eq 3 ] || fail "no receipt after the cut"
sent=$((sent + 1))
echo "edge_cut_recovery_s=$1"
echo "edge_cut_stall_s=$2"
echo "edge_cut_resumed_at=$3"
if [ "$EDGE_CUT_LONG" -gt 0 ]; then
	# shellcheck disable=SC2046 # three words
	set -- $(cut_doc long "$EDGE_CUT_LONG")
	[ $# -eq 3 ] || fail "no receipt after the long cut"
	echo "edge_long_cut_recovery_s=$1"
	echo "edge_long_cut_stall_s=$2"
	echo "edge_long_cut_resumed_at=$3"
fi
