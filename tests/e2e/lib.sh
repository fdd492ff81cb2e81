# lib.sh: helpers for end-to-end tests with real processes on loopback.
# Sourced after tests/lib/cli.sh. Every process started here is recorded
# and killed on exit; brokers bind tcp://127.0.0.1:* and publish the port
# they got in DATA/endpoint, so tests never collide on ports.
: "${O:=build/release}"
PROBE="${PROBE:-$(pwd)/$O/tools/sira-probe}"
CERT="$BIN/sira-cert"
BROKER="$BIN/sira-broker"
PIDS=""
trap 'for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT

# pki DIR: a throwaway CA, a broker and the named agencies (id:role ...).
pki() {
	"$CERT" init --ca-dir "$1/ca" --name "CA de test" \
	    --insecure-no-passphrase >/dev/null 2>&1 || return 1
	"$CERT" issue --ca-dir "$1/ca" --id ml.sira.broker --name "Broker" \
	    --role broker --out "$1/broker" >/dev/null 2>&1 || return 1
	mkdir -p "$1/certs"
	shift
	for a in "$@"; do
		id=${a%%:*}
		"$CERT" issue --ca-dir "$W/ca" --id "$id" --name "Agence $id" \
		    --role "${a##*:}" --out "$W/ag" >/dev/null 2>&1 || return 1
		cp "$W/ag/$id.cert" "$W/certs/"
	done
}

# start_broker [extra args]: start on loopback; sets EP and BPID.
start_broker() {
	rm -f "$W/data/endpoint"
	"$BROKER" run --listen 'tcp://127.0.0.1:*' --data "$W/data" \
	    --ca "$W/ca/ca.cert" --cert "$W/broker/ml.sira.broker.cert" \
	    --key "$W/broker/ml.sira.broker.key" --certs "$W/certs" \
	    --crl "$W/crl" --heartbeat 2 --redeliver 5 "$@" \
	    2>>"$W/broker.log" &
	BPID=$!
	PIDS="$PIDS $BPID"
	for _ in $(seq 1 100); do
		[ -s "$W/data/endpoint" ] && break
		kill -0 "$BPID" 2>/dev/null || return 1
		sleep 0.1
	done
	EP=$(cat "$W/data/endpoint")
	[ -n "$EP" ]
}

# restart_broker [CRASHPOINT]: start again on the port agents were given
# (after a kill); with CRASHPOINT, SIRA_CRASH_AT is set for this run.
restart_broker() {
	env ${1:+SIRA_CRASH_AT=$1} \
	    "$BROKER" run --listen "tcp://127.0.0.1:${EP##*:}" --data "$W/data" \
	    --ca "$W/ca/ca.cert" --cert "$W/broker/ml.sira.broker.cert" \
	    --key "$W/broker/ml.sira.broker.key" --certs "$W/certs" \
	    --crl "$W/crl" --heartbeat 2 --redeliver 5 2>>"$W/broker.log" &
	BPID=$!
	PIDS="$PIDS $BPID"
}

stop_broker() {
	kill -TERM "$BPID" 2>/dev/null
	wait "$BPID" 2>/dev/null
}

# probe CMD AGENCY [args]: run sira-probe as AGENCY against the broker.
probe() {
	cmd=$1
	who=$2
	shift 2
	"$PROBE" "$cmd" --endpoint "$EP" --ca "$W/ca/ca.cert" \
	    --broker-cert "$W/broker/ml.sira.broker.cert" \
	    --cert "$W/ag/$who.cert" --key "$W/ag/$who.key" \
	    --prekey-file "$W/$who.prekey" "$@"
}

# count PATTERN FILE: lines matching.
count() { grep -c -E "$1" "$2" 2>/dev/null || true; }

AGENT="$BIN/sira-agent"

# agent_init ID [init options]: an agency home for ID in $W/home-ID against
# the broker.
agent_init() {
	id=$1
	shift
	"$AGENT" init --home "$W/home-$id" --cert "$W/ag/$id.cert" \
	    --key "$W/ag/$id.key" --ca "$W/ca/ca.cert" --broker "$EP" \
	    --broker-cert "$W/broker/ml.sira.broker.cert" "$@" >/dev/null
}

# agent_start ID [run options]: run its daemon; the pid is in $W/pid-ID.
agent_start() {
	id=$1
	shift
	"$AGENT" run --home "$W/home-$id" "$@" 2>>"$W/agent-$id.log" &
	echo $! >"$W/pid-$id"
	PIDS="$PIDS $!"
}

# agent_start_env ID VAR=VALUE...: run ID's daemon with these variables
# set: SIRA_CRASH_AT=POINT dies at POINT (lib/crashpoint.h) as in a power
# cut, SIRA_CLOCK_OFFSET=S shifts its clock (docs/OPERATIONS.md).
agent_start_env() {
	id=$1
	shift
	env "$@" "$AGENT" run --home "$W/home-$id" 2>>"$W/agent-$id.log" &
	echo $! >"$W/pid-$id"
	PIDS="$PIDS $!"
}

# await_crash LOG POINT PID: the process reached POINT and is gone.
await_crash() {
	wait_for 60 grep -q "crashpoint $2: killed here" "$1" || return 1
	wait "$3" 2>/dev/null
	! kill -0 "$3" 2>/dev/null
}

agent_stop() {
	[ -f "$W/pid-$1" ] || return 0
	kill -TERM "$(cat "$W/pid-$1")" 2>/dev/null
	wait "$(cat "$W/pid-$1")" 2>/dev/null
	rm -f "$W/pid-$1"
}

agent_kill() {
	kill -9 "$(cat "$W/pid-$1")" 2>/dev/null
	wait "$(cat "$W/pid-$1")" 2>/dev/null
	rm -f "$W/pid-$1"
}

# ag ID CMD...: run a sira-agent command in ID's home.
ag() {
	id=$1
	shift
	"$AGENT" "$@" --home "$W/home-$id"
}

# wait_for SECONDS CMD...: poll until CMD succeeds (at most SECONDS).
wait_for() {
	limit=$1
	shift
	i=0
	while [ $i -lt $((limit * 5)) ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
		i=$((i + 1))
	done
	return 1
}

# n_state ID STATE: how many of ID's sent messages are in STATE.
n_state() {
	ag "$1" outbox --json | jq "[.[] | select(.state==\"$2\")] | length"
}

# n_inbox ID: messages in ID's inbox.
n_inbox() { ag "$1" inbox --json | jq length; }

# out_state ID MSG: the state of MSG in ID's outbox.
out_state() {
	ag "$1" outbox --json | jq -r ".[] | select(.id==\"$2\") | .state"
}

# received ID MSG: how many times MSG entered ID's audit as received.
received() {
	ag "$1" audit show --json |
	    jq "[.[] | select(.action==\"received\" and .message==\"$2\")] | length"
}

# has N CMD...: CMD prints exactly N.
has() {
	want=$1
	shift
	[ "$("$@")" = "$want" ]
}
