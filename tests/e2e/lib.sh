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
