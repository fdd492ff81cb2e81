#!/bin/sh
# demo.sh: the national referral scenario, end to end, with real processes
# on loopback (make demo). A throwaway CA (the committee), a broker and
# four fictional agencies; every step is a sira-agent command a person
# would type. Narrated in French, for the people who will use it.
#
# Each agency also opens its web interface on a free loopback port, with
# one person's account; the demo ends by printing each address and login.
#
# Environment: BIN (binaries, default bin), DEMO_DIR (keep the files there
# instead of a temporary directory), DEMO_QUIET=1 (narration only),
# DEMO_KEEP=1 (leave the broker, agents and web interfaces running at the
# end, until Ctrl-C, so a person can click through).
# Exits non-zero, after stopping every process it started, if a step fails.
set -u
BIN=$(cd "${BIN:-bin}" && pwd)
DATA=$(cd "$(dirname "$0")/../data" && pwd)
if [ -n "${DEMO_DIR:-}" ]; then
	W=$DEMO_DIR
	rm -rf "$W"
	mkdir -p "$W"
	KEEP=1
else
	W=$(mktemp -d "${TMPDIR:-/tmp}/sira-demo.XXXXXX")
	KEEP=0
fi
PIDS=""
cleanup() {
	for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	[ "$KEEP" = 1 ] || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

POL=ml.police.bamako
NGO=ml.ngo.espoir
SOC=ml.social.bamako
JUS=ml.justice.pole
REF=MRN-2026-0042
n=0

say() { printf '%s\n' "$*"; }
step() {
	n=$((n + 1))
	printf '\n== Étape %d — %s\n' "$n" "$*"
}
show() { [ "${DEMO_QUIET:-0}" = 1 ] || sed 's/^/   | /'; }
die() {
	printf '\nÉCHEC de la démonstration : %s\n' "$*" >&2
	for f in "$W"/*.log; do
		[ -f "$f" ] || continue
		printf -- '--- %s (fin)\n' "$f" >&2
		tail -n 5 "$f" >&2
	done
	exit 1
}
# must CMD...: run a step's command; its output is shown; stop on failure.
must() {
	"$@" >"$W/out" 2>"$W/err" || {
		cat "$W/err" >&2
		die "$*"
	}
	show <"$W/out"
}
# ag ID CMD...: a sira-agent command in the agency's home.
ag() {
	id=$1
	shift
	"$BIN/sira-agent" "$@" --home "$W/home-$id"
}
# until_ SECONDS DESCRIPTION CMD...: wait for a condition.
until_() {
	limit=$(($1 * 5))
	what=$2
	shift 2
	i=0
	until "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt $limit ] || die "$what (attendu $(($limit / 5)) s)"
		sleep 0.2
	done
}
case_is() {
	ag "$1" case "$2" --json >"$W/case.json" 2>/dev/null &&
	    jq -e "$3" "$W/case.json" >/dev/null
}

say "Sira — démonstration du mécanisme national de référencement (données fictives)"
say "Dossier de travail : $W"

step "Le comité national crée son autorité de certification et certifie quatre agences"
CERT="$BIN/sira-cert"
must "$CERT" init --ca-dir "$W/ca" --name "Comité national (démonstration)" \
    --insecure-no-passphrase
issue() {
	"$CERT" issue --ca-dir "$W/ca" --id "$1" --name "$2" --role "$3" \
	    --out "$W/keys" >/dev/null 2>"$W/err" || die "certificat de $1"
	say "   certificat : $1 ($3) « $2 »"
}
issue ml.sira.broker "Courtier Sira (démonstration)" broker
issue $POL "Brigade des mœurs et de la protection de l'enfant (fictive)" police
issue $NGO "Centre d'accueil « Espoir » (fictif)" ngo
issue $SOC "Service social de Bamako (fictif)" social_services
issue $JUS "Pôle judiciaire spécialisé (fictif)" justice
mkdir -p "$W/certs"
for a in $POL $NGO $SOC $JUS; do cp "$W/keys/$a.cert" "$W/certs/"; done
must "$CERT" crl --ca-dir "$W/ca" --out "$W/ca.crl"

step "Le courtier démarre (127.0.0.1) ; il authentifie les agences et ne peut rien lire"
"$BIN/sira-broker" run --listen 'tcp://127.0.0.1:*' --data "$W/broker" \
    --ca "$W/ca/ca.cert" --cert "$W/keys/ml.sira.broker.cert" \
    --key "$W/keys/ml.sira.broker.key" --certs "$W/certs" \
    --crl "$W/ca.crl" --heartbeat 2 --redeliver 5 2>>"$W/broker.log" &
PIDS="$PIDS $!"
until_ 20 "le courtier publie son adresse" test -s "$W/broker/endpoint"
EP=$(cat "$W/broker/endpoint")
say "   courtier à l'écoute sur $EP (CurveZMQ, clés certifiées seulement)"

step "Chaque agence installe son agent et le lance"
for a in $POL $NGO $SOC $JUS; do
	must "$BIN/sira-agent" init --home "$W/home-$a" --cert "$W/keys/$a.cert" \
	    --key "$W/keys/$a.key" --ca "$W/ca/ca.cert" --broker "$EP" \
	    --broker-cert "$W/keys/ml.sira.broker.cert"
	"$BIN/sira-agent" run --home "$W/home-$a" 2>>"$W/agent-$a.log" &
	PIDS="$PIDS $!"
done
knows_all() {
	for a in $POL $NGO $SOC $JUS; do
		ag "$1" directory --json | jq -e --arg id "$a" \
		    'any(.[]; .agency == $id)' >/dev/null || return 1
	done
}
for a in $POL $NGO $SOC $JUS; do
	until_ 40 "$a reçoit l'annuaire" knows_all $a
	until_ 40 "$a publie sa clé de chiffrement" \
	    grep -q prekey.published "$W/agent-$a.log"
done
must ag $POL directory

step "Chaque agence ouvre son interface web (127.0.0.1) avec le compte d'une personne"
# web_open ID LOGIN NAME: the person's account, a random password kept in
# the agency's home (0600), the web interface on a free loopback port.
web_open() {
	od -An -N9 -tx1 /dev/urandom | tr -d ' \n' >"$W/home-$1/demo-password"
	chmod 600 "$W/home-$1/demo-password"
	ag "$1" user add "$2" --name "$3" --role caseworker \
	    --password-file "$W/home-$1/demo-password" >/dev/null 2>"$W/err" ||
	    die "compte $2 de $1"
	"$BIN/sira-agent" web --home "$W/home-$1" --port 0 2>>"$W/web-$1.log" &
	PIDS="$PIDS $!"
	until_ 20 "l'interface web de $1 démarre" test -s "$W/home-$1/web.port"
	printf '%s %s %s\n' "$1" "$2" "$(cat "$W/home-$1/web.port")" >>"$W/web.list"
	say "   $1 : http://127.0.0.1:$(cat "$W/home-$1/web.port")/ — $3 ($2)"
}
: >"$W/web.list"
web_open $POL awa "Awa Traoré"
web_open $NGO fanta "Fanta Keïta"
web_open $SOC oumar "Oumar Sidibé"
web_open $JUS issa "Issa Maïga"

step "La police identifie une enfant victime présumée et la réfère au centre « Espoir »"
say "   fiche de référencement : tests/data/referral-example.json (consentement : services)"
must ag $POL refer --to $NGO --file "$DATA/referral-example.json"
say "   référence du dossier : $(cat "$W/out")"
until_ 60 "le centre reçoit la référence" \
    case_is $NGO $REF '.status | test("to answer")'

step "Le centre voit la référence dans sa boîte et la lit"
must ag $NGO inbox
must ag $NGO case $REF

step "Le centre accepte ; la police voit la réponse sur le dossier"
must ag $NGO accept $REF
until_ 60 "la police voit l'acceptation" \
    case_is $POL $REF '.referrals[0].state == "accepted"'
must ag $NGO feedback $REF --status started \
    --note "Hébergement et suivi médical commencés"
until_ 60 "la police voit le retour" \
    case_is $POL $REF '.referrals[0].state == "services started"'
say "   un refus d'étape illégale, par exemple accepter deux fois :"
ag $NGO accept $REF 2>&1 | show

step "Le centre transfère le dossier au service social, avec un rapport médical"
{
	echo "RAPPORT MÉDICAL (FICTIF) — dossier $REF"
	echo "Examen du 21/11/2026 : état général satisfaisant, suivi à prévoir."
	i=0
	while [ $i -lt 4000 ]; do
		echo "ligne $i : observation fictive pour la démonstration"
		i=$((i + 1))
	done
} >"$W/rapport-medical.txt"
say "   document joint : rapport-medical.txt ($(wc -c <"$W/rapport-medical.txt") octets), chiffré par morceaux"
must ag $NGO transfer --case $REF --to $SOC --note "Réinsertion familiale à préparer" \
    --attach "$W/rapport-medical.txt"
until_ 60 "le service social détient le dossier" \
    case_is $SOC $REF '.held and (.earlier_history | length) > 0'
must ag $SOC case $REF
DOC=$(jq -r '[.timeline[] | .documents // [] | .[]][0].path' "$W/case.json")
cmp -s "$DOC" "$W/rapport-medical.txt" ||
    die "le document reçu n'est pas identique à l'original"
say "   le document reçu est identique à l'original (vérifié octet par octet)"

step "Le parquet demande le dossier, avec sa base légale ; le service social l'accorde"
must ag $JUS request-file --case $REF --from $SOC \
    --basis "Loi n°2012-023, art. 18 ; réquisition du 28/11/2026 (fictive)"
REQ=$(cat "$W/out")
until_ 60 "le service social voit la demande" \
    case_is $SOC $REF '.file_requests[0].state == "pending"'
must ag $SOC grant "$REQ"
show <"$W/err"
until_ 60 "le parquet reçoit le dossier" \
    case_is $JUS $REF '.file_requests[0].state == "granted"'
must ag $JUS case $REF

step "Les accusés de réception signés : la police voit qui a reçu quoi, et quand"
until_ 60 "tous les messages de la police sont remis" \
    case_is $POL $REF '[.timeline[] | select(.agency == "'$POL'") | .delivery.state] | all(. == "delivered")'
must ag $POL case $REF
must ag $POL outbox

step "Le service social exporte le dossier de preuve ; on le vérifie hors ligne"
must ag $SOC export --case $REF --out "$W/preuve-$REF.bundle"
say "   vérification avec le seul certificat du comité (sans l'agent) :"
must "$BIN/sira-agent" verify-bundle "$W/preuve-$REF.bundle" --ca "$W/ca/ca.cert"
cp "$W/preuve-$REF.bundle" "$W/altere.bundle"
size=$(wc -c <"$W/altere.bundle")
printf 'X' | dd of="$W/altere.bundle" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
if "$BIN/sira-agent" verify-bundle "$W/altere.bundle" --ca "$W/ca/ca.cert" \
    >/dev/null 2>"$W/err"; then
	die "un dossier de preuve altéré a été accepté"
fi
say "   un seul octet modifié au milieu du fichier : refusé"
show <"$W/err"

step "Ce que le courtier a vu : des métadonnées seulement"
must "$BIN/sira-broker" log show --data "$W/broker"
if grep -rqa "Exemplaire Fictive" "$W/broker"; then
	die "le nom de la victime se trouve dans les fichiers du courtier"
fi
say "   le nom de la personne, son âge, ses besoins : absents des fichiers du courtier (vérifié)"
if grep -rqa "Exemplaire Fictive" "$W"/home-*/vault; then
	die "un nom en clair dans le stockage d'une agence"
fi
say "   et chiffrés dans le stockage de chaque agence (vérifié)"

step "Les journaux d'audit sont vérifiés"
must "$BIN/sira-broker" log verify --data "$W/broker"
for a in $POL $NGO $SOC $JUS; do
	must ag $a audit verify
done

# web_table: each agency's web address and login, to click through.
web_table() {
	say ""
	say "Interfaces web des agences (données fictives) :"
	while read -r id login port; do
		say "   $id"
		say "      adresse : http://127.0.0.1:$port/"
		say "      identifiant : $login   mot de passe : $(cat "$W/home-$id/demo-password")"
	done <"$W/web.list"
}
web_table
if [ "${DEMO_KEEP:-0}" = 1 ]; then
	printf '\nDémonstration réussie : %d étapes.\n' "$n"
	say "DEMO_KEEP=1 : courtier, agents et interfaces web restent en marche."
	say "Ctrl-C pour tout arrêter."
	wait
	exit 0
fi
say "   (elles s'arrêtent avec la démonstration ; DEMO_KEEP=1 make demo les garde ouvertes)"

step "Arrêt de tous les processus"
for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
for p in $PIDS; do wait "$p" 2>/dev/null; done
PIDS=""
say "   courtier et agents arrêtés proprement"
printf '\nDémonstration réussie : %d étapes.\n' "$n"
