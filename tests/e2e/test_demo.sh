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
    sh -c "! pgrep -f '[s]ira-(agent|broker) (run|web) .*$D' >/dev/null"
expect_true "it ends with four web addresses" \
    [ "$(grep -c '^      adresse : http://127\.0\.0\.1:[0-9]*/$' "$T/demo.out")" -eq 4 ]
expect_true "and a login for each" \
    [ "$(grep -c '^      identifiant : [a-z]* *mot de passe : [0-9a-f]\{18\}$' "$T/demo.out")" -eq 4 ]

# DEMO_KEEP=1 leaves everything running: each printed address serves its
# login page, and the printed login and password open a session there.
K="$T/kept"
env BIN="$BIN" DEMO_DIR="$K" DEMO_QUIET=1 DEMO_KEEP=1 \
    sh "$(dirname "$0")/demo.sh" >"$T/kept.out" 2>"$T/kept.err" &
kept=$!
i=0
until grep -q 'Ctrl-C pour tout arrêter' "$T/kept.out" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 1200 ] && kill -0 $kept 2>/dev/null || break
	sleep 0.2
done
expect_grep "DEMO_KEEP=1 says what stays running" 'restent en marche' "$T/kept.out"
# web_login URL LOGIN PASSWORD: log in as a browser would; the inbox opens.
web_login() {
	curl -sf -c "$T/jar" -b "$T/jar" -o /dev/null "$1/login" &&
	    curl -sf -c "$T/jar" -b "$T/jar" -H "Origin: $1" -o /dev/null \
		--data-urlencode "login=$2" --data-urlencode "password=$3" \
		"$1/login" &&
	    curl -sf -b "$T/jar" "$1/" | grep -q 'Boîte de réception'
}
sed -n '/^Interfaces web des agences/,$p' "$T/kept.out" | awk '
	/^      adresse : / { url = $3; sub("/$", "", url) }
	/^      identifiant : / { print url, $3, $8 }' >"$T/logins"
expect_true "four logins printed" [ "$(wc -l <"$T/logins")" -eq 4 ]
while read -r url login pw; do
	rm -f "$T/jar"
	expect_true "the printed login opens $url" web_login "$url" "$login" "$pw"
	expect_true "a wrong password does not" \
	    sh -c "! curl -sf -H 'Origin: $url' -d login=$login -d password=x \
		-o /dev/null '$url/login'"
done <"$T/logins"
expect_true "the kept demo's processes are running" \
    pgrep -f "[s]ira-agent web .*$K" >/dev/null
kill -TERM $kept
wait $kept
expect_true "Ctrl-C (TERM) stops every kept process" \
    sh -c "! pgrep -f '[s]ira-(agent|broker) (run|web) .*$K' >/dev/null"
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
