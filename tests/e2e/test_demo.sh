#!/bin/sh
# test_demo.sh: make demo's scenario is part of the tests. It must exit 0,
# narrate every step, stop every process it started, and leave nothing
# running; its own checks (delivery, receipts, the broker's blindness,
# audit chains) fail it when they fail.
. "$(dirname "$0")/../lib/cli.sh"
D="$T/demo"
expect_ok "the demo runs end to end" \
    env BIN="$BIN" DEMO_DIR="$D" sh "$(dirname "$0")/demo.sh"
cp "$OUT" "$T/demo.out"
expect_grep "it ends with its verdict" '^Démonstration réussie : [0-9]+ étapes' \
    "$T/demo.out"
expect_grep "the referral was accepted" 'referred to ml.ngo.espoir: services started' \
    "$T/demo.out"
expect_grep "the prosecutor got the file" 'ml.justice.pole -> ml.social.bamako  granted' \
    "$T/demo.out"
expect_grep "the transferred document arrived intact" \
    'le document reçu est identique' "$T/demo.out"
expect_grep "the evidence bundle verified offline" \
    '^   \| OK : 3 messages, [0-9]+ certificats' "$T/demo.out"
expect_grep "and a tampered copy was refused" \
    '^   \| sira-agent: (message [0-9]|bundle)' "$T/demo.out"
expect_grep "the broker's log verified" '^   \| log OK: [0-9]+ leaves' "$T/demo.out"
expect_true "four agency audit chains verified" \
    [ "$(grep -c 'audit chain OK' "$T/demo.out")" -eq 4 ]
expect_true "no process of the demo is left running" \
    sh -c "! pgrep -f '[s]ira-(agent|broker) run .*$D' >/dev/null"
# A step that fails (accept, through a wrapper) must fail the demo, name
# the step, and still stop every process.
mkdir -p "$T/badbin"
ln -s "$BIN/sira-cert" "$BIN/sira-broker" "$T/badbin/"
cat >"$T/badbin/sira-agent" <<EOS
#!/bin/sh
[ "\$1" = accept ] && { echo "sira-agent: injected failure" >&2; exit 1; }
exec "$BIN/sira-agent" "\$@"
EOS
chmod +x "$T/badbin/sira-agent"
run env BIN="$T/badbin" DEMO_DIR="$T/broken" DEMO_QUIET=1 \
    sh "$(dirname "$0")/demo.sh"
expect_true "a failing step fails the demo" [ "$rc" -ne 0 ]
expect_grep "and says which" 'ÉCHEC de la démonstration : .*accept' "$ERR"
expect_true "its processes are stopped too" \
    sh -c "! pgrep -f '[s]ira-(agent|broker) run .*$T/broken' >/dev/null"
done_
