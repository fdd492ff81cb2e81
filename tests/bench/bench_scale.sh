#!/bin/sh
# bench_scale.sh: the broker at the issue's scale, by `make bench` (never a
# test): BENCH_FANIN agencies connected at once, and a spool of
# BENCH_SPOOL envelopes.
#
# Every agency has its own CA-issued certificate (sira-cert issue, one
# process each) in the broker's --certs directory before it starts; the
# sessions are opened by one sira-probe process (`fanin`, tests/tools/
# probe_fanin.c): CURVE, the broker's ZAP handler checking each key
# against its certificate, Hello, then a Heartbeat every 5 s as the agent
# daemon sends. Memory is read from /proc/BPID/status: VmRSS (all resident
# pages, LMDB's mapped pages included) and RssAnon (private memory).
#
# Output, one key=value per line (stable keys):
#   fanin_certs_s             seconds to issue the BENCH_FANIN certificates
#   fanin_agencies            sessions that answered a heartbeat round
#                             while measured (each authenticated by ZAP
#                             and welcomed after its Hello)
#   fanin_connected           sessions welcomed (ZAP let them in and their
#                             Hello was answered), within 120 s
#   fanin_broker_sessions     of them, the active sessions the broker's
#                             status.json lists
#   fanin_connect_s           seconds from the first connect to the last
#                             Welcome
#   broker_rss_mb_1k_agents, broker_private_mb_1k_agents
#                             the broker's VmRSS and RssAnon with them up
#   broker_kb_per_agency      (VmRSS with them - before) / BENCH_FANIN
#   fanin_broker_idle_cpu_pct the broker's CPU (% of one core) over 10 s
#                             with them idle, heartbeats only
#   fanin_route_p50_ms, fanin_route_p99_ms, fanin_route_msgs_per_s
#       a busy pair while they are connected: sira-probe blast submits
#       BENCH_ROUTE pre-sealed 1 KiB envelopes (16 unanswered at most) to a
#       probe sink; submit to Accepted (durable commit), as in bench_e2e.sh
#   fanin_route_base_p50_ms, fanin_route_base_p99_ms   the same before
#                             they connect
#   spool_1m_fill_s, spool_1m_msgs_per_s
#       a fresh broker, BENCH_SPOOL 1 KiB envelopes submitted (blasts of
#       BENCH_SPOOL_CHUNK, 64 unanswered) for one offline agency: seconds
#       of submission (the sealing beforehand is not counted)
#   spool_1m_broker_rss_mb    the broker's peak VmRSS (VmHWM) by then
#   spool_1m_broker_private_mb   its largest RssAnon, read after each blast
#   spool_1m_data_mb          the broker's data directory on disk then
#   broker_private_mb_1k_agents_1m_spool, broker_rss_mb_1k_agents_1m_spool
#       then the BENCH_FANIN agencies connect again: both at once
#
# Environment: BENCH_FANIN (1000), BENCH_SPOOL (1000000), BENCH_SPOOL_CHUNK
# (50000), BENCH_ROUTE (2000); O and BIN as for the tests. To develop:
# BENCH_FANIN=200 BENCH_SPOOL=50000.
set -u
cd "$(dirname "$0")/../.." || exit 1
: "${O:=build/release}" "${BIN:=bin}"
BIN=$(cd "$BIN" && pwd)
export O BIN
. tests/lib/cli.sh
. tests/e2e/lib.sh
W="$T/w"
mkdir -p "$W"
: "${BENCH_FANIN:=1000}" "${BENCH_SPOOL:=1000000}"
: "${BENCH_SPOOL_CHUNK:=50000}" "${BENCH_ROUTE:=2000}"

fail() {
	echo "bench_scale: $*" >&2
	exit 1
}

# The broker holds a descriptor per connection, sira-probe two per socket.
# (ulimit -n is not POSIX, but dash and bash have it.)
# shellcheck disable=SC3045
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
# shellcheck disable=SC3045
[ "$(ulimit -n)" -gt $((2 * BENCH_FANIN + 100)) ] ||
    echo "bench_scale: ulimit -n $(ulimit -n) is low for $BENCH_FANIN" >&2

pki "$W" ml.police.probe:police ml.police.fanin:police ml.ngo.sink:ngo \
    ml.ngo.offline:ngo || fail "cannot make the test PKI"
cp "$W/ca/ca.crl" "$W/crl"
mkdir -p "$W/fan"
start=$(date +%s%N)
i=1
while [ $i -le "$BENCH_FANIN" ]; do
	"$CERT" issue --ca-dir "$W/ca" --id "ml.ngo.fan$i" --name "Fan $i" \
	    --role ngo --out "$W/fan" >/dev/null 2>&1 ||
	    fail "cannot issue certificate $i"
	i=$((i + 1))
done
end=$(date +%s%N)
cp "$W"/fan/*.cert "$W/certs/"
awk -v t=$((end - start)) 'BEGIN { printf "fanin_certs_s=%.1f\n", t / 1e9 }'

# Rate and quotas raised as in bench_e2e.sh; the heartbeat is the default.
broker() {
	start_broker --rate 100000 --burst 100000 \
	    --quota-messages $((BENCH_SPOOL + 100000)) \
	    --quota-bytes 17179869184 --map-size 17179869184 --heartbeat 10
}
kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$BPID/status"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
val() { sed -n "s/^$1=//p" "$2" | tail -1; }

# route NAME: a busy pair, sira-probe blast to a sink; prints the results
# as NAME_p50_ms, NAME_p99_ms, NAME_msgs_per_s.
route() {
	probe sink ml.ngo.sink --count "$BENCH_ROUTE" --timeout 60 \
	    >"$W/sink" &
	sink=$!
	probe blast ml.police.probe --to ml.ngo.sink --count "$BENCH_ROUTE" \
	    --window 16 --size 1024 --timeout 60 >"$W/blast" ||
	    fail "$1: probe blast: $(tail -3 "$W/blast")"
	wait "$sink" || fail "$1: the sink did not receive everything"
	echo "$1_p50_ms=$(val p50_ms "$W/blast")"
	echo "$1_p99_ms=$(val p99_ms "$W/blast")"
	echo "$1_msgs_per_s=$(val msgs_per_s "$W/blast")"
}

# fanin_up: the BENCH_FANIN sessions, in the background (FPID), until
# every one has answered a heartbeat round (or 120 s).
fanin_up() {
	rm -f "$W/fanin"
	# exec: $! must be sira-probe itself, not a subshell, to be killed.
	(exec "$PROBE" fanin --endpoint "$EP" --ca "$W/ca/ca.cert" \
	    --broker-cert "$W/broker/ml.sira.broker.cert" \
	    --cert "$W/ag/ml.police.fanin.cert" \
	    --key "$W/ag/ml.police.fanin.key" --agents "$W/fan" \
	    --count "$BENCH_FANIN" --timeout 120 --idle 36000 \
	    --heartbeat-s 5) >"$W/fanin" 2>>"$W/fanin.err" &
	FPID=$!
	PIDS="$PIDS $FPID"
	wait_for 180 grep -q '^alive=' "$W/fanin" ||
	    fail "fan-in: $(cat "$W/fanin" "$W/fanin.err" | tail -3)"
	[ "$(val connected "$W/fanin")" != 0 ] || fail "no agency connected"
	wait_for 15 grep -q "^alive=$BENCH_FANIN\$" "$W/fanin" ||
	    echo "bench_scale: not all $BENCH_FANIN sessions answer" >&2
}

fanin_down() {
	kill -TERM "$FPID" 2>/dev/null
	wait "$FPID" 2>/dev/null
}

# ---- 1. BENCH_FANIN agencies connected, a busy pair among them ----
broker || fail "the broker did not start"
probe publish-prekey ml.ngo.sink >/dev/null || fail "the sink's prekey"
route fanin_route_base >"$W/base"
grep -v msgs_per_s "$W/base"
sleep 2
rss0=$(kb VmRSS)
fanin_up
sleep 3
echo "fanin_agencies=$(val alive "$W/fanin")"
echo "fanin_connected=$(val connected "$W/fanin")"
echo "fanin_connect_s=$(val connect_s "$W/fanin")"
rss=$(kb VmRSS)
anon=$(kb RssAnon)
echo "broker_rss_mb_1k_agents=$(mb "$rss")"
echo "broker_private_mb_1k_agents=$(mb "$anon")"
awk -v d=$((rss - rss0)) -v n="$BENCH_FANIN" \
    'BEGIN { printf "broker_kb_per_agency=%.1f\n", d / n }'
echo "fanin_broker_sessions=$(jq \
    '[.connected[] | select(.agency | startswith("ml.ngo.fan"))] | length' \
    "$W/data/status.json")"
# The broker's CPU with the sessions idle: their heartbeats only.
ticks() { cut -d' ' -f14,15 "/proc/$BPID/stat" | awk '{ print $1 + $2 }'; }
t0=$(ticks)
sleep 10
awk -v d=$(($(ticks) - t0)) -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "fanin_broker_idle_cpu_pct=%.1f\n", 100 * d / hz / 10 }'
route fanin_route
fanin_down
stop_broker

# ---- 2. a fresh broker, BENCH_SPOOL envelopes for an offline agency ----
rm -rf "$W/data"
broker || fail "the broker did not start again"
probe publish-prekey ml.ngo.offline >/dev/null || fail "offline prekey"
left=$BENCH_SPOOL
secs=0
peak=0
while [ "$left" -gt 0 ]; do
	n=$BENCH_SPOOL_CHUNK
	[ "$n" -gt "$left" ] && n=$left
	probe blast ml.police.probe --to ml.ngo.offline --count "$n" \
	    --window 64 --size 1024 --timeout 120 >"$W/spool" ||
	    fail "spool: $(tail -3 "$W/spool")"
	secs=$(awk -v a="$secs" -v b="$(val seconds "$W/spool")" \
	    'BEGIN { print a + b }')
	a=$(kb RssAnon)
	[ "$a" -gt "$peak" ] && peak=$a
	left=$((left - n))
	echo "bench_scale: spooled $((BENCH_SPOOL - left))" >&2
done
awk -v s="$secs" -v n="$BENCH_SPOOL" 'BEGIN {
	printf "spool_1m_fill_s=%.1f\nspool_1m_msgs_per_s=%.0f\n", s, n / s }'
echo "spool_1m_broker_rss_mb=$(mb "$(kb VmHWM)")"
echo "spool_1m_broker_private_mb=$(mb "$peak")"
echo "spool_1m_data_mb=$(mb "$(du -sk "$W/data" | cut -f1)")"
fanin_up
sleep 3
echo "broker_private_mb_1k_agents_1m_spool=$(mb "$(kb RssAnon)")"
echo "broker_rss_mb_1k_agents_1m_spool=$(mb "$(kb VmRSS)")"
fanin_down
