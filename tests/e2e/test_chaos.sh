#!/bin/sh
# test_chaos.sh: the bounded chaos run for make test (the long one is make
# soak): 4 agencies, 200 messages, 20 random SIGKILLs of the broker and the
# agents, a frozen broker, killed send commands; fails on any loss,
# duplicate, corruption or missing receipt. CHAOS_SEED=N replays a plan.
set -u
: "${BIN:=bin}"
exec /usr/bin/python3 "$(dirname "$0")/../chaos/chaos.py" --bin "$BIN" \
    --agencies 4 --messages 200 --kills 20 --stops 1 --stop-seconds 5 \
    --killed-sends 3 --settle 180 ${CHAOS_SEED:+--seed "$CHAOS_SEED"}
