#!/bin/sh
# test_web.sh: the caseworkers' web interface in a real browser. A real
# broker, four real agents (police, NGO shelter, social services,
# prosecutor) each with its daemon and its `sira-agent web` on loopback,
# people's accounts made with `sira-agent user add`, and Debian's chromium
# driven by playwright-core (tests/web/web.test.mjs): a referral filed,
# accepted and its receipt seen; a transfer with a document; a file
# request granted; a form error in French; CSRF, a foreign Host header,
# five wrong passwords and a caseworker on an administrator's page
# refused. Screenshots go to $O/screens (make screens copies them to
# docs/screens).
. "$(dirname "$0")/../lib/cli.sh"
. "$(dirname "$0")/lib.sh"
W="$T/w"
mkdir -p "$W"
P=ml.police.segou
N=ml.ngo.espoir
S=ml.social.segou
J=ml.justice.pole
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
NODE_DIR="$(pwd)/tests/web"
SCREENS="$(pwd)/$O/screens"

if [ ! -x "$CHROMIUM" ] || [ ! -d "$NODE_DIR/node_modules/playwright-core" ]; then
	echo "FAIL: chromium or playwright-core missing: run make deps"
	exit 1
fi

pki "$W" $P:police $N:ngo $S:social_services $J:justice
cp "$W/ca/ca.crl" "$W/crl"
start_broker
agent_init $P --attach-max 1048576 # the upload-limit check needs a small one
for a in $N $S $J; do
	agent_init $a
done
for a in $P $N $S $J; do
	agent_start $a
done
knows() { ag "$1" directory --json | jq -e --arg id "$2" \
    'any(.[]; .agency == $id)' >/dev/null; }
for a in $P $N $S $J; do
	expect_true "$a fetched the directory" wait_for 30 knows $a $J
done

# accounts: a password file per person (0600, as the CLI demands)
pw() {
	printf '%s\n' "$2" >"$W/pw-$1"
	chmod 600 "$W/pw-$1"
}
pw awa 'mot-de-passe-awa-1'
pw fanta 'mot-de-passe-fanta-2'
pw oumar 'mot-de-passe-oumar-3'
pw issa 'mot-de-passe-issa-4'
pw chef 'mot-de-passe-chef-5'
pw malick 'mot-de-passe-malick-6'
expect_ok "an officer's account" ag $P user add awa \
    --name "Awa Traoré" --role caseworker --password-file "$W/pw-awa"
expect_ok "a second officer's account" ag $P user add malick \
    --name "Malick Coulibaly" --role caseworker --password-file "$W/pw-malick"
expect_ok "the police administrator" ag $P user add chef \
    --name "Commissaire Diarra" --role admin --password-file "$W/pw-chef"
expect_ok "the shelter's social worker" ag $N user add fanta \
    --name "Fanta Keïta" --role caseworker --password-file "$W/pw-fanta"
expect_ok "the social services' caseworker" ag $S user add oumar \
    --name "Oumar Sidibé" --role supervisor --password-file "$W/pw-oumar"
expect_ok "the prosecutor's clerk" ag $J user add issa \
    --name "Issa Maïga" --role caseworker --password-file "$W/pw-issa"

# web_start ID: its web interface on a free loopback port ($W/port-ID).
web_start() {
	"$AGENT" web --home "$W/home-$1" --port 0 2>>"$W/web-$1.log" &
	PIDS="$PIDS $!"
	wait_for 20 test -s "$W/home-$1/web.port" &&
	    cp "$W/home-$1/web.port" "$W/port-$1"
}
# what a crash left in a home's tmp (an upload, an export) is removed
mkdir -p "$W/home-$N/tmp/web-crashed"
echo "document d'une victime" >"$W/home-$N/tmp/web-crashed/pv.txt"
echo "bundle" >"$W/home-$N/tmp/export-fanta.sirabundle"
for a in $P $N $S $J; do
	expect_true "$a serves its web interface" web_start $a
done
expect_true "the files a crash left in tmp are gone" \
    test -z "$(ls -A "$W/home-$N/tmp")"
expect_fail "another address than loopback needs TLS" 'needs --tls-cert' \
    ag $P web --listen 0.0.0.0 --port 0

printf 'Rapport médical (fictif)\n%s\n' "$(seq 1 2000)" >"$W/rapport-médical.txt"
mkdir -p "$SCREENS"
# browser [VAR=VALUE...]: the browser scenario (PHASE=offline: its part
# with the broker down). The browser runs in a UTF-8 locale, as a person's
# does (in the C locale chromium would mangle an accented file name).
browser() {
	run env LC_ALL=C.UTF-8 POLICE="http://127.0.0.1:$(cat "$W/port-$P")" \
	    NGO="http://127.0.0.1:$(cat "$W/port-$N")" \
	    SOCIAL="http://127.0.0.1:$(cat "$W/port-$S")" \
	    JUSTICE="http://127.0.0.1:$(cat "$W/port-$J")" \
	    POLICE_ID=$P NGO_ID=$N SOCIAL_ID=$S JUSTICE_ID=$J \
	    DOC="$W/rapport-médical.txt" DOWNLOADS="$W/downloads" \
	    SCREENS="$SCREENS" CHROMIUM="$CHROMIUM" "$@" \
	    node "$NODE_DIR/web.test.mjs"
}
browser
checks=$((checks + 1))
cat "$OUT"
if [ "$rc" -ne 0 ]; then
	fail_ "the browser scenario: exit $rc"
	sed 's/^/    err: /' "$ERR" | tail -n 40
	for a in $P $N $S $J; do
		tail -n 12 "$W/web-$a.log" | sed "s/^/    web-$a: /"
		tail -n 12 "$W/agent-$a.log" | sed "s/^/    agent-$a: /"
	done
fi
expect_true "the browser scenario ran all its checks" \
    grep -q '^web: all [0-9]* checks passed' "$OUT"

# --- what the browser did is in the audit chains, with the person ---
audit_has() { ag "$1" audit show --json | jq -e --arg a "$2" --arg p "$3" \
    'any(.[]; .action == $a and .person == $p)' >/dev/null; }
expect_true "the police audit names Awa for the login" audit_has $P user.login awa
expect_true "the police audit names Awa for the referral" audit_has $P queued awa
expect_true "the shelter's audit names Fanta for viewing the case" \
    audit_has $N case.view fanta
expect_true "the shelter's audit names Fanta for accepting" audit_has $N queued fanta
expect_true "the social services' audit names Oumar for the download" \
    audit_has $S document.download oumar
expect_true "a locked account is in the audit" audit_has $P user.locked malick
expect_ok "the police audit chain still verifies" ag $P audit verify

# --- the same steps, seen from the CLI: one implementation ---
expect_ok "the CLI sees the case the browser filed" ag $N case WEB-2026-0007 --json
expect_true "accepted in the shelter's view" \
    jq -e '.referrals[0].state == "accepted"' "$OUT"
expect_ok "the shelter's case, in the CLI" ag $S case WEB-2026-0007 --json
expect_true "the request of the prosecutor was granted" \
    jq -e '.file_requests[0].state == "granted"' "$OUT"
# (a request's body is removed when the server sees its connection end)
no_uploads() { test -z "$(find "$W"/home-*/tmp -name 'web-*' 2>/dev/null)"; }
expect_true "no upload is left in the homes' tmp" wait_for 10 no_uploads
# --- the broker goes away: the web interface works on, steps queue ---
stop_broker
offline() { ag $P status --json | jq -e '.connected == false' >/dev/null; }
expect_true "the police agent sees the broker gone" wait_for 30 offline
browser PHASE=offline
checks=$((checks + 1))
grep -q '^web: all [0-9]* checks passed' "$OUT" || {
	fail_ "the browser with the broker down"
	sed 's/^/    err: /' "$ERR" | tail -n 20
}
cat "$OUT"
expect_true "the shelter has not received it yet" \
    sh -c "! '$AGENT' case WEB-2026-0008 --home '$W/home-$N' >/dev/null 2>&1"
restart_broker
arrived() { ag $N case WEB-2026-0008 --json >/dev/null 2>&1; }
expect_true "once the broker is back, the queued referral reaches the shelter" \
    wait_for 90 arrived

# --- TLS: what an agency that serves its network gets ---
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj '/CN=127.0.0.1' \
    -keyout "$W/tls.key" -out "$W/tls.pem" >/dev/null 2>&1
chmod 600 "$W/tls.key"
"$AGENT" web --home "$W/home-$P" --port 0 --tls-cert "$W/tls.pem" \
    --tls-key "$W/tls.key" --host sira.police.ml 2>>"$W/web-tls.log" &
PIDS="$PIDS $!"
expect_true "the TLS server starts" wait_for 20 \
    sh -c "[ \"\$(cat '$W/home-$P/web.port')\" != '$(cat "$W/port-$P")' ]"
TP=$(cat "$W/home-$P/web.port")
TU="https://127.0.0.1:$TP"
expect_ok "it serves the login page over TLS" \
    curl -sfk -o "$T/tls-login.html" "$TU/login"
expect_grep "in French" 'Se connecter' "$T/tls-login.html"
expect_true "and nothing in clear on its port" \
    sh -c "! curl -sf -o /dev/null 'http://127.0.0.1:$TP/login'"
run curl -sk -D - -o /dev/null -H "Origin: $TU" \
    --data-urlencode login=awa --data-urlencode "password=mot-de-passe-awa-1" \
    "$TU/login"
expect_grep "its session cookie is Secure" \
    '^Set-Cookie: sira_session=[0-9a-f]+; Path=/; HttpOnly; SameSite=Strict; Secure' "$OUT"
run curl -sk -o /dev/null -w '%{http_code}' -H "Origin: http://127.0.0.1:$TP" \
    -d login=awa -d password=x "$TU/login"
expect_true "a form from the http:// origin is refused" [ "$(cat "$OUT")" = 403 ]
run curl -sk -o /dev/null -w '%{http_code}' -H "Host: sira.police.ml:$TP" "$TU/login"
expect_true "the --host name is accepted" [ "$(cat "$OUT")" = 200 ]
run curl -sk -o /dev/null -w '%{http_code}' -H "Host: sira.police.ml" "$TU/login"
expect_true "without a port it means 443, which is not ours here" \
    [ "$(cat "$OUT")" = 421 ]

expect_true "the TLS server reported no sanitizer error" \
    test -z "$(grep -l 'Sanitizer\|runtime error' "$W/web-tls.log")"
for a in $P $N $S $J; do
	expect_true "$a's web server reported no sanitizer error" \
	    test -z "$(grep -l 'Sanitizer\|runtime error' "$W/web-$a.log")"
	expect_true "no password reached $a's log" \
	    test -z "$(grep -l 'mot-de-passe' "$W/web-$a.log" "$W/agent-$a.log")"
done
done_
