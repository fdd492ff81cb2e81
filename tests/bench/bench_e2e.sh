#!/bin/sh
# bench_e2e.sh: Sira measured as it runs, by `make bench` (never a test).
#
# A real broker and real agent daemons on loopback, everything durable:
# SENDERS agencies send notes to RECEIVERS agencies through the broker;
# each note is sealed and kept in the sender's outbox, committed to the
# broker's spool and log before Accepted, stored once in the recipient's
# inbox, and counts only when the recipient's signed receipt is back in
# the sender's outbox. Notes are queued by sira-load (tests/tools/
# bench_load.c) through the agent's own outbox code, many per transaction,
# instead of one `sira-agent send` process each.
#
# The broker runs with its per-agency rate limit raised (--rate, --burst):
# its default (50 frames/s per agency) protects a 2G link, and would be
# the only thing measured. Its per-agency spool quota (10,000 envelopes,
# 512 MiB) and its map are raised too, for the backlog.
#
# Output, one key=value per line (stable keys):
#   e2e_latency_p50_ms, e2e_latency_p99_ms, e2e_latency_max_ms
#       one 1 KiB note at a time, from queued to receipt at the sender
#   e2e_open_loop_rate_per_s, e2e_open_loop_p50_ms, _p99_ms, _max_ms
#       10 s of 1 KiB notes queued at OPEN_RATE per second (50), each in
#       its own transaction, from when it was due to its receipt
#   e2e_open_loop_1k_rate_per_s, e2e_p50_ms_1k_open_loop,
#   e2e_p99_ms_1k_open_loop
#       the same at 1,000 notes/s for OPEN_1K_S seconds (5); the notes
#       that fall due while one transaction commits go in the next
#       (sira-load --group), as a server would group people's
#       submissions; the rate is the throughput, first due to last receipt
#   e2e_msgs_per_s        1 KiB notes, all senders at once, first queued
#                         to last receipt
#   e2e_64k_msgs_per_s    the same with 64 KiB notes
#   e2e_cpu_s_per_1k      CPU seconds (broker and all agents) per 1,000
#                         1 KiB notes in the burst
#   broker_rss_mb, agent_rss_mb   peak resident memory (largest agent)
#
#   broker_accept_msgs_per_s, broker_accept_p50_ms, broker_accept_p99_ms
#       the broker alone: sira-probe submits pre-sealed 1 KiB envelopes
#       (64 unanswered at most) and counts the Accepted answers, each
#       after the broker's durable commit of spool and log
#   broker_deliver_msgs_per_s   the same envelopes delivered to a probe
#       sink that acknowledges without opening them
#   broker_msgs_per_s     the lower of the two
#   drain_s, drain_msgs, drain_broker_rss_mb, drain_broker_private_mb
#       BENCH_DRAIN envelopes (100,000) spooled for an agency that is
#       offline, then it connects (a probe sink): seconds to receive and
#       acknowledge them all, and the broker's largest resident memory
#       meanwhile, all of it (with the LMDB pages it maps) and private
#       (RssAnon)
#   nats_*, broker_vs_nats_ratio   the same workload on NATS JetStream
#       (tests/bench/bench_nats.c), when nats-server and bench_nats are
#       here: broker_msgs_per_s / nats_msgs_per_s. JetStream acknowledges
#       before it fsyncs; Sira's broker fsyncs before Accepted.
#
# Environment: BENCH_N (1 KiB notes in the burst, 4000), BENCH_N64 (64 KiB
# notes, 400), BENCH_LAT (notes for latency, 200), BENCH_BROKER (envelopes
# for the broker alone, 10000), SENDERS (2), RECEIVERS (2), O and BIN as
# for the tests. BENCH_DRAIN (100000) for the backlog. OPEN_RATE (50) and
# OPEN_1K_S (5) for the open loops.
set -u
cd "$(dirname "$0")/../.."
: "${O:=build/release}" "${BIN:=bin}"
BIN=$(cd "$BIN" && pwd)
export O BIN
. tests/lib/cli.sh
. tests/e2e/lib.sh
LOAD="$(pwd)/$O/tools/sira-load"
W="$T/w"
mkdir -p "$W"
: "${BENCH_N:=4000}" "${BENCH_N64:=400}" "${BENCH_LAT:=200}"
: "${SENDERS:=2}" "${RECEIVERS:=2}" "${BENCH_BROKER:=10000}"
: "${BENCH_DRAIN:=100000}" "${OPEN_RATE:=50}" "${OPEN_1K_S:=5}"

fail() {
	echo "bench_e2e: $*" >&2
	exit 1
}

senders=""
receivers=""
i=1
while [ $i -le "$SENDERS" ]; do
	senders="$senders ml.police.s$i"
	i=$((i + 1))
done
i=1
while [ $i -le "$RECEIVERS" ]; do
	receivers="$receivers ml.ngo.r$i"
	i=$((i + 1))
done
to=$(echo $receivers | tr ' ' ',')

ids=""
for s in $senders; do ids="$ids $s:police"; done
for r in $receivers; do ids="$ids $r:ngo"; done
ids="$ids ml.police.probe:police ml.ngo.sink:ngo ml.ngo.offline:ngo"
pki "$W" $ids || fail "cannot make the test PKI"
cp "$W/ca/ca.crl" "$W/crl"
start_broker --rate 100000 --burst 100000 --quota-messages 1000000 \
    --quota-bytes 17179869184 --map-size 17179869184 ||
    fail "the broker did not start"
for a in $senders $receivers; do
	agent_init "$a" || fail "agent_init $a"
	agent_start "$a"
done
for r in $receivers; do
	wait_for 30 grep -q "prekey.published" "$W/agent-$r.log" ||
	    fail "$r published no prekey"
done

# Warm up: every pair once (directories, prekeys, connections).
for s in $senders; do
	"$LOAD" burst --home "$W/home-$s" --to "$to" --count "$RECEIVERS" \
	    --size 1024 >/dev/null || fail "warm-up from $s"
done

first=$(echo $senders | cut -d' ' -f1)
"$LOAD" latency --home "$W/home-$first" --to "${to%%,*}" \
    --count "$BENCH_LAT" --size 1024 >"$W/lat" || fail "latency run"
sed 's/^/e2e_latency_/' "$W/lat"

# Open loop: a note every 1/OPEN_RATE s from the first sender, whatever
# happened to the ones before, as people sending at their own pace.
"$LOAD" open --home "$W/home-$first" --to "${to%%,*}" \
    --count "$((OPEN_RATE * 10))" --rate "$OPEN_RATE" --size 1024 \
    >"$W/open" || fail "open-loop run"
sed 's/^/e2e_open_loop_/' "$W/open"

# The issue's open loop: 1,000 notes/s for OPEN_1K_S seconds. One durable
# transaction per note cannot keep 1,000/s on this disk beside the daemon's
# (LMDB has one writer): the notes due together are committed together.
"$LOAD" open --home "$W/home-$first" --to "${to%%,*}" \
    --count "$((1000 * OPEN_1K_S))" --rate 1000 --size 1024 --group \
    >"$W/open1k" || fail "open-loop run at 1,000/s"
sed -n 's/^rate_per_s=/e2e_open_loop_1k_rate_per_s=/p' "$W/open1k"
sed -n 's/^p50_ms=/e2e_p50_ms_1k_open_loop=/p' "$W/open1k"
sed -n 's/^p99_ms=/e2e_p99_ms_1k_open_loop=/p' "$W/open1k"

# CPU seconds of every Sira process so far (utime + stime, in ticks).
ticks() {
	t=0
	for p in $BPID $(cat "$W"/pid-*); do
		set -- $(cut -d' ' -f14,15 "/proc/$p/stat")
		t=$((t + $1 + $2))
	done
	echo $t
}

# burst COUNT SIZE: all senders at once; prints the aggregate rate.
burst() {
	per=$(($1 / SENDERS))
	start=$(date +%s%N)
	loads=""
	for s in $senders; do
		"$LOAD" burst --home "$W/home-$s" --to "$to" --count "$per" \
		    --size "$2" >"$W/burst-$s" &
		loads="$loads $!"
	done
	wait_rc=0
	for p in $loads; do wait "$p" || wait_rc=1; done
	[ $wait_rc -eq 0 ] || fail "a burst of $2-byte notes did not finish"
	end=$(date +%s%N)
	echo $((per * SENDERS * 1000000000 / (end - start)))
}

t0=$(ticks)
rate=$(burst "$BENCH_N" 1024) || exit 1
t1=$(ticks)
echo "e2e_msgs_per_s=$rate"
hz=$(getconf CLK_TCK)
awk -v d=$((t1 - t0)) -v hz="$hz" -v n="$BENCH_N" \
    'BEGIN { printf "e2e_cpu_s_per_1k=%.2f\n", d / hz / (n / 1000) }'
rate=$(burst "$BENCH_N64" 65536) || exit 1
echo "e2e_64k_msgs_per_s=$rate"

# The broker alone: a probe client and a probe sink, no agents involved.
probe publish-prekey ml.ngo.sink >/dev/null || fail "the sink's prekey"
probe sink ml.ngo.sink --count "$BENCH_BROKER" --timeout 60 >"$W/sink" &
sink=$!
probe blast ml.police.probe --to ml.ngo.sink --count "$BENCH_BROKER" \
    --window 64 --size 1024 --timeout 60 >"$W/blast" || fail "probe blast"
wait "$sink" || fail "the probe sink did not receive everything"
val() { sed -n "s/^$1=//p" "$2"; }
acc=$(val msgs_per_s "$W/blast")
del=$(awk -v n="$BENCH_BROKER" -v s="$(val seconds "$W/sink")" \
    'BEGIN { printf "%.0f", (s > 0) ? n / s : 0 }')
echo "broker_accept_msgs_per_s=$acc"
echo "broker_accept_p50_ms=$(val p50_ms "$W/blast")"
echo "broker_accept_p99_ms=$(val p99_ms "$W/blast")"
echo "broker_deliver_msgs_per_s=$del"
bmin=$(awk -v a="$acc" -v d="$del" 'BEGIN { print ((a < d) ? a : d) }')
echo "broker_msgs_per_s=$bmin"

# A backlog: spooled while its agency is away, drained when it connects.
probe publish-prekey ml.ngo.offline >/dev/null || fail "offline prekey"
probe blast ml.police.probe --to ml.ngo.offline --count "$BENCH_DRAIN" \
    --window 64 --size 1024 --timeout 120 >"$W/backlog" ||
    fail "backlog: $(tail -3 "$W/backlog")"
probe sink ml.ngo.offline --count "$BENCH_DRAIN" --timeout 120 \
    >"$W/drain" &
drain=$!
start=$(date +%s%N)
peak=0
anon=0
while kill -0 "$drain" 2>/dev/null; do
	r=$(awk '/VmRSS/ { print $2 }' "/proc/$BPID/status")
	a=$(awk '/RssAnon/ { print $2 }' "/proc/$BPID/status")
	[ "$r" -gt "$peak" ] && peak=$r
	[ "$a" -gt "$anon" ] && anon=$a
	sleep 0.5
done
wait "$drain" || fail "the backlog was not drained"
end=$(date +%s%N)
echo "drain_msgs=$BENCH_DRAIN"
awk -v t=$((end - start)) 'BEGIN { printf "drain_s=%.1f\n", t / 1e9 }'
awk -v k="$peak" 'BEGIN { printf "drain_broker_rss_mb=%.1f\n", k / 1024 }'
awk -v k="$anon" \
    'BEGIN { printf "drain_broker_private_mb=%.1f\n", k / 1024 }'

# The peer: the broker-alone workload on NATS JetStream, same box, now.
NATS_BENCH="$(pwd)/$O/bench/bench_nats"
if command -v nats-server >/dev/null && [ -x "$NATS_BENCH" ]; then
	mkdir -p "$W/nats"
	nats-server -js -sd "$W/nats" -a 127.0.0.1 -p -1 \
	    >"$W/nats.log" 2>&1 &
	PIDS="$PIDS $!"
	wait_for 10 grep -q "Listening for client connections" "$W/nats.log"
	port=$(sed -n 's/.*Listening for client connections on [^:]*:\([0-9]*\).*/\1/p' \
	    "$W/nats.log" | head -1)
	"$NATS_BENCH" "nats://127.0.0.1:$port" "$BENCH_BROKER" 1024 64 \
	    >"$W/natsout" || fail "the NATS run failed"
	cat "$W/natsout"
	nats=$(val nats_msgs_per_s "$W/natsout")
	awk -v s="$bmin" -v n="$nats" \
	    'BEGIN { printf "broker_vs_nats_ratio=%.2f\n", s / n }'
else
	echo "nats_msgs_per_s=skipped (no nats-server or bench_nats: make deps-bench)" >&2
fi

hwm() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
echo "broker_rss_mb=$(hwm "$BPID")"
max=0
for p in $(cat "$W"/pid-*); do
	m=$(hwm "$p")
	max=$(awk -v a="$m" -v b="$max" 'BEGIN { print ((a > b) ? a : b) }')
done
echo "agent_rss_mb=$max"
