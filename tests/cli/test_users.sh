#!/bin/sh
# test_users.sh: sira-agent user add|passwd|disable|enable|list on a real
# agency home (no broker needed), as the agency's administrator would use
# them: passwords from a 0600 file or standard input, never the command
# line; refusals are one line and change nothing; the home holds no
# password, hash or name in clear; each change is in the audit chain.
# It runs in French (LANG=fr_FR.UTF-8, a locale this machine need not
# have): the administrator's messages come from po/fr.po.
. "$(dirname "$0")/../lib/cli.sh"
unset LC_ALL LANGUAGE
export LANG=fr_FR.UTF-8
A="$BIN/sira-agent"
C="$BIN/sira-cert"
cd "$T" || exit 1

"$C" init --ca-dir ca --name "CA de test" --insecure-no-passphrase \
    >/dev/null 2>&1
"$C" issue --ca-dir ca --id ml.sira.broker --name "Broker" --role broker \
    --out broker >/dev/null 2>&1
"$C" issue --ca-dir ca --id ml.ngo.espoir --name "Foyer « Espoir »" \
    --role ngo --out ag >/dev/null 2>&1
expect_ok "agency home" "$A" init --home home --cert ag/ml.ngo.espoir.cert \
    --key ag/ml.ngo.espoir.key --ca ca/ca.cert --broker tcp://127.0.0.1:9 \
    --broker-cert broker/ml.sira.broker.cert
SIRA_HOME="$T/home"
export SIRA_HOME

printf 'Mariam-2026-long-secret\n' >pw
printf 'Moussa-depuis-stdin-42\n' >stdin.txt
printf 'Nouveau-mot-de-passe-7\n' >pw2
printf 'court\n' >short
printf 'Mot-de-passe-lisible-0644\n' >wide
chmod 600 pw pw2 short
chmod 644 wide

# usage_rc DESCRIPTION PATTERN CMD...: a usage error, exit 2, saying PATTERN.
usage_rc() {
	desc=$1
	pat=$2
	shift 2
	checks=$((checks + 1))
	run "$@"
	[ "$rc" -eq 2 ] || fail_ "$desc: exit $rc, not 2"
	grep -Eq "$pat" "$ERR" || fail_ "$desc: /$pat/ not in stderr"
}
count_users() { "$A" user list --json | jq length; }

# --- adding ---
expect_ok "add with --password-file" "$A" user add mariam.kone \
    --name "Mariam Koné" --role caseworker --password-file pw
expect_grep "add says so" "« mariam.kone » créé \(caseworker\)" "$OUT"
expect_ok "list" "$A" user list
expect_grep "list shows the account" \
    "^mariam.kone +caseworker +actif +jamais +Mariam Koné$" "$OUT"
add_stdin() {
	"$A" user add moussa --name "Moussa Traoré" --role superviseur \
	    <stdin.txt
}
expect_ok "add with the password on standard input" add_stdin
expect_fail "a second mariam.kone is refused" "existe déjà" \
    "$A" user add mariam.kone --name "Autre" --role admin --password-file pw
usage_rc "a bad role is a usage error" "rôle inconnu" \
    "$A" user add awa --name "Awa Diarra" --role chef --password-file pw
usage_rc "a bad login is a usage error" "identifiant" \
    "$A" user add "Awa Diarra" --name "Awa Diarra" --role admin \
    --password-file pw
usage_rc "add needs --name and --role" "demande --name et --role" \
    "$A" user add awa --password-file pw
# There is no --password; getopt_long takes "--password X" as the
# abbreviation of --password-file X, a file that does not exist.
run "$A" user add awa --name "Awa" --role admin --password no-such-file
checks=$((checks + 1))
[ "$rc" -ne 0 ] || fail_ "a password given on the command line was taken"
expect_fail "a 0644 password file is refused" "0600" \
    "$A" user add awa --name "Awa Diarra" --role admin --password-file wide
expect_fail "a short password is refused" "au moins 10" \
    "$A" user add awa --name "Awa Diarra" --role admin --password-file short
expect_true "no refused account was made" [ "$(count_users)" = 2 ]

# --- list --json ---
expect_ok "list --json" "$A" user list --json
expect_true "sorted, with role and state" jq -e '
    [.[].login] == ["mariam.kone", "moussa"] and
    .[1].role == "supervisor" and .[0].disabled == false and
    .[0].locked == false and .[0].last_login == null and
    .[0].full_name == "Mariam Koné" and .[0].lang == "fr"' "$OUT" \
    >/dev/null
expect_true "no hash in the listing" [ -z "$(grep -i argon "$OUT")" ]

# --- disable, enable, passwd ---
expect_ok "disable" "$A" user disable moussa
expect_grep "disable says so" "« moussa » désactivé" "$OUT"
expect_ok "list after disable" "$A" user list
expect_grep "list shows it disabled" "^moussa +supervisor +désactivé " "$OUT"
expect_ok "list --json after disable" "$A" user list --json
expect_true "json says disabled" jq -e '.[1].disabled == true' "$OUT" \
    >/dev/null
expect_ok "disable again" "$A" user disable moussa
expect_grep "nothing to do" "déjà désactivé" "$OUT"
expect_ok "enable" "$A" user enable moussa
expect_ok "list after enable" "$A" user list
expect_grep "active again" "^moussa +supervisor +actif " "$OUT"
expect_ok "passwd" "$A" user passwd mariam.kone --password-file pw2
expect_grep "passwd says so" "mot de passe de « mariam.kone » changé" "$OUT"
expect_fail "passwd of nobody" "aucun utilisateur « awa »" \
    "$A" user passwd awa --password-file pw2
expect_fail "disable nobody" "aucun utilisateur « awa »" \
    "$A" user disable awa
usage_rc "user alone says what it takes" "user add\|passwd" "$A" user

# --- nothing in clear at rest; the audit chain ---
for s in Mariam-2026-long-secret Moussa-depuis-stdin-42 \
    Nouveau-mot-de-passe-7 argon2 mariam.kone "Mariam Kon"; do
	expect_true "\"$s\" is in no file of the home" \
	    [ -z "$(grep -rl -- "$s" home)" ]
done
expect_ok "audit show" "$A" audit show --json
expect_true "the audit has every change" jq -e '[.[].action] |
    index("user.add") and index("user.disable") and index("user.enable")
    and index("user.passwd")' "$OUT" >/dev/null
expect_ok "audit verify" "$A" audit verify
done_
