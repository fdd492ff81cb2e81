#!/bin/sh
# test_sira_cert.sh: drives bin/sira-cert as the national committee's
# operator would, and as an attacker would feed it: every failure must be
# exit 1 with exactly one line on stderr, and write nothing.
. "$(dirname "$0")/../lib/cli.sh"
C="$BIN/sira-cert"
cd "$T"

# flip FILE OFFSET OUT: copy FILE to OUT with the byte at OFFSET xor 0x01.
flip() {
	v=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
	v=$((v ^ 1))
	cp "$1" "$3"
	printf "$(printf '\\%03o' "$v")" |
	    dd of="$3" bs=1 seek="$2" conv=notrunc status=none
}
size() { wc -c <"$1" | tr -d ' '; }
sum() { cat "$@" | sha256sum | cut -d' ' -f1; }

printf 'correct horse battery staple\n' >pass
printf 'wrong passphrase entirely\n' >badpass
printf 'short\n' >shortpass
chmod 600 pass badpass shortpass

# --- creating the CA ---
expect_fail "short CA passphrase refused" "at least 12" \
    "$C" init --ca-dir short --name "CA" --passphrase-file shortpass --kdf interactive
expect_ok "init CA with passphrase" \
    "$C" init --ca-dir ca --name "Comité national de lutte contre la traite" \
    --passphrase-file pass --kdf interactive
expect_true "ca.key is 0600" [ "$(stat -c %a ca/ca.key)" = 600 ]
expect_ok "show CA key" "$C" show ca/ca.key
expect_grep "CA key is encrypted" "passphrase-protected" "$OUT"
expect_fail "second init refused" "already holds a CA" \
    "$C" init --ca-dir ca --name "Other" --passphrase-file pass --kdf interactive
expect_ok "insecure init works" "$C" init --ca-dir ca2 --name "Other CA" \
    --insecure-no-passphrase
expect_grep "insecure init warns loudly" "WARNING.*NOT protected" "$ERR"

# --- issuing ---
expect_ok "issue police" "$C" issue --ca-dir ca --id ml.police.bamako \
    --name "Brigade des mœurs, Bamako" --role police --out out \
    --passphrase-file pass
expect_grep "issue reports serial 1" "serial 1" "$OUT"
expect_true "agency key is 0600" [ "$(stat -c %a out/ml.police.bamako.key)" = 600 ]
expect_ok "verify police" "$C" verify --ca ca/ca.cert --crl ca/ca.crl \
    out/ml.police.bamako.cert
expect_grep "verify says OK" "OK ml.police.bamako" "$OUT"
expect_ok "issue ngo" "$C" issue --ca-dir ca --id ml.ngo.shelter-sikasso \
    --name "Foyer d'accueil « Espoir », Sikasso" --role ngo --out out \
    --passphrase-file pass
expect_ok "issue broker" "$C" issue --ca-dir ca --id ml.sira.broker \
    --name "Sira broker" --role broker --out out --passphrase-file pass
expect_ok "show broker json" "$C" show --json out/ml.sira.broker.cert
expect_true "broker usage is transport+log" \
    [ "$(jq -r .key_usage "$OUT")" = "log-sign,transport" ]

# --- show --json ---
expect_ok "show json" "$C" show --json out/ml.police.bamako.cert
expect_true "show --json parses" jq -e . "$OUT" >/dev/null
expect_true "accents round-trip" \
    [ "$(jq -r .display_name "$OUT")" = "Brigade des mœurs, Bamako" ]
for k in agency_id display_name role serial not_before not_after fingerprint \
    transport_key_z85; do
	expect_true "json has $k" jq -e "has(\"$k\")" "$OUT" >/dev/null
done
expect_true "z85 key is 40 characters" [ "$(jq -r .transport_key_z85 "$OUT" | tr -d '\n' | wc -c)" = 40 ]
expect_true "role is police" [ "$(jq -r .role "$OUT")" = police ]
cp out/ml.police.bamako.cert police.cert
"$C" show --json out/ml.ngo.shelter-sikasso.cert >ngo.json
expect_true "guillemets round-trip" \
    [ "$(jq -r .display_name ngo.json)" = "Foyer d'accueil « Espoir », Sikasso" ]

# --- every flipped byte is rejected ---
n=$(size police.cert)
bad=0
i=0
while [ $i -lt "$n" ]; do
	flip police.cert $i flipped.cert
	if "$C" verify --ca ca/ca.cert flipped.cert >/dev/null 2>flip.err; then
		bad=$((bad + 1))
		echo "flipped byte $i accepted"
	elif [ "$(wc -l <flip.err)" -ne 1 ]; then
		bad=$((bad + 1))
		echo "flipped byte $i: not one error line"
	fi
	i=$((i + 1))
done
expect_true "all $n single-byte flips rejected with one line" [ $bad -eq 0 ]

# --- wrong CA, CA itself, agency cert as CA ---
expect_fail "wrong CA" "does not verify against CA" \
    "$C" verify --ca ca2/ca.cert police.cert
expect_ok "the CA cert verifies as itself" "$C" verify --ca ca/ca.cert ca/ca.cert
expect_fail "agency cert is not a CA" "not a CA certificate" \
    "$C" verify --ca police.cert police.cert

# --- time ---
expect_ok "issue 1-day cert" "$C" issue --ca-dir ca --id ml.police.kayes \
    --name "Commissariat de Kayes" --role police --days 1 --out short \
    --passphrase-file pass
now=$(date +%s)
expect_fail "expired" "expired on" "$C" verify --ca ca/ca.cert \
    --at "@$((now + 3 * 86400))" short/ml.police.kayes.cert
expect_ok "valid tomorrow morning" "$C" verify --ca ca/ca.cert \
    --at "@$((now + 3600))" short/ml.police.kayes.cert
expect_ok "issue future cert" "$C" issue --ca-dir ca --id ml.justice.bamako \
    --name "Pôle judiciaire spécialisé" --role justice \
    --not-before "@$((now + 10 * 86400))" --out future --passphrase-file pass
expect_fail "not yet valid" "not valid before" \
    "$C" verify --ca ca/ca.cert future/ml.justice.bamako.cert
expect_fail "start before the CA refused" "within the CA" \
    "$C" issue --ca-dir ca --id ml.police.old --name "Old" --role police \
    --not-before 2001-01-01 --out old --passphrase-file pass

# --- wrong passphrase: clear error, nothing written ---
before=$(sum ca/ca.state ca/ca.crl)
expect_fail "wrong passphrase" "wrong passphrase" \
    "$C" issue --ca-dir ca --id ml.ngo.other --name "Autre" --role ngo \
    --out wrongpass --passphrase-file badpass
expect_true "nothing written on wrong passphrase" [ ! -e wrongpass/ml.ngo.other.key ]
expect_true "CA state unchanged" [ "$(sum ca/ca.state ca/ca.crl)" = "$before" ]

# --- revocation ---
cp ca/ca.crl crl-before.crl
expect_fail "revoke unknown serial" "never issued" \
    "$C" revoke --ca-dir ca --serial 999 --reason superseded --passphrase-file pass
expect_ok "revoke police" "$C" revoke --ca-dir ca --serial 1 \
    --reason key_compromise --passphrase-file pass
expect_fail "revoked cert refused" "revoked on" \
    "$C" verify --ca ca/ca.cert --crl ca/ca.crl police.cert
expect_fail "revoke twice" "already revoked" \
    "$C" revoke --ca-dir ca --serial 1 --reason superseded --passphrase-file pass
expect_ok "crl --out" "$C" crl --ca-dir ca --out latest.crl --crl-days 3 \
    --passphrase-file pass
expect_ok "fresh crl verifies" "$C" verify --ca ca/ca.cert latest.crl
expect_ok "show crl json" "$C" show --json latest.crl
expect_true "crl lists serial 1" [ "$(jq '.entries[0].serial' "$OUT")" = 1 ]
seq_latest=$(jq .sequence "$OUT")
"$C" show --json crl-before.crl >before.json
expect_true "sequence strictly increases" [ "$seq_latest" -gt "$(jq .sequence before.json)" ]
expect_fail "older CRL cannot replace newer" "cannot replace" \
    "$C" verify --ca ca/ca.cert --crl latest.crl crl-before.crl
expect_ok "newer CRL may replace older" \
    "$C" verify --ca ca/ca.cert --crl crl-before.crl latest.crl
expect_fail "stale crl refused" "stale" "$C" verify --ca ca/ca.cert \
    --at "@$((now + 5 * 86400))" latest.crl
expect_fail "cert check with stale crl refused" "stale" \
    "$C" verify --ca ca/ca.cert --crl latest.crl --at "@$((now + 5 * 86400))" \
    out/ml.ngo.shelter-sikasso.cert
flip latest.crl 40 flipped.crl
expect_fail "tampered crl refused" "does not verify|malformed|parse" \
    "$C" verify --ca ca/ca.cert flipped.crl
expect_fail "crl from another CA" "does not verify against CA" \
    "$C" verify --ca ca2/ca.cert latest.crl

# --- renewal ---
expect_ok "renew ngo" "$C" renew --ca-dir ca --cert out/ml.ngo.shelter-sikasso.cert \
    --out renewed --passphrase-file pass
expect_grep "renew explains the old cert" "revoke --ca-dir ca --serial 2" "$OUT"
"$C" show --json out/ml.ngo.shelter-sikasso.cert >old.json
"$C" show --json renewed/ml.ngo.shelter-sikasso.cert >new.json
expect_true "renewed: same agency" [ "$(jq -r .agency_id new.json)" = ml.ngo.shelter-sikasso ]
expect_true "renewed: same name" [ "$(jq -r .display_name new.json)" = "$(jq -r .display_name old.json)" ]
expect_true "renewed: new serial" [ "$(jq .serial new.json)" -gt "$(jq .serial old.json)" ]
expect_true "renewed: new keys" [ "$(jq -r .sign_pk_hex new.json)" != "$(jq -r .sign_pk_hex old.json)" ]
expect_true "renewed: new transport key" [ "$(jq -r .transport_key_z85 new.json)" != "$(jq -r .transport_key_z85 old.json)" ]
expect_ok "renewed cert verifies" "$C" verify --ca ca/ca.cert --crl ca/ca.crl \
    renewed/ml.ngo.shelter-sikasso.cert
expect_fail "renew into the same dir refused" "already exists" \
    "$C" renew --ca-dir ca --cert out/ml.ngo.shelter-sikasso.cert --out out \
    --passphrase-file pass

# --- key file permissions ---
cp out/ml.police.bamako.key wide.key
chmod 644 wide.key
expect_fail "wide agency key refused" "mode 0644.*0600" "$C" show wide.key
chmod 640 ca/ca.key
expect_fail "wide CA key refused" "mode 0640.*0600" \
    "$C" crl --ca-dir ca --out x.crl --passphrase-file pass
chmod 600 ca/ca.key
chmod 644 pass
expect_fail "wide passphrase file refused" "0644" \
    "$C" crl --ca-dir ca --out x.crl --passphrase-file pass
chmod 600 pass
expect_true "no crl written on refusal" [ ! -e x.crl ]

# --- truncated and garbage files ---
n=$(size police.cert)
for len in 0 1 7 8 9 20 $((n / 2)) $((n - 1)); do
	head -c "$len" police.cert >trunc.cert
	expect_fail "cert truncated to $len bytes" "." \
	    "$C" verify --ca ca/ca.cert trunc.cert
	expect_fail "show of cert truncated to $len" "." "$C" show trunc.cert
done
head -c 4096 /dev/urandom >garbage.bin
expect_fail "random bytes" "not a Sira" "$C" show garbage.bin
{ printf 'SIRACRT1'; head -c 300 /dev/urandom; } >garbage.cert
expect_fail "random bytes after the magic" "." \
    "$C" verify --ca ca/ca.cert garbage.cert
{ printf 'SIRACRT1'; head -c 70000 /dev/urandom; } >huge.cert
expect_fail "oversized cert" "too|limit|large" \
    "$C" verify --ca ca/ca.cert huge.cert
head -c 50 ca/ca.cert >trunc-ca.cert
expect_fail "truncated CA cert" "." "$C" verify --ca trunc-ca.cert police.cert
expect_fail "missing file" "no such file" "$C" verify --ca ca/ca.cert nothere.cert
expect_fail "key file given as cert" "not a Sira certificate" \
    "$C" verify --ca ca/ca.cert out/ml.police.bamako.key

# --- bad input from the operator ---
run "$C" issue --ca-dir ca --id "ML.POLICE" --name x --role police --out o \
    --passphrase-file pass
expect_true "upper-case id refused" [ "$rc" -eq 1 ]
run "$C" issue --ca-dir ca --id ml.police.x --name x --role pirate --out o \
    --passphrase-file pass
expect_true "unknown role is a usage error" [ "$rc" -eq 2 ]
expect_fail "control characters in name refused" "invalid agency id or name" \
    "$C" issue --ca-dir ca --id ml.police.esc --name "$(printf 'Evil\033[2J')" \
    --role police --out o --passphrase-file pass
run "$C" frobnicate
expect_true "unknown command is a usage error" [ "$rc" -eq 2 ]

# --- one sira-cert at a time per CA ---
if command -v flock >/dev/null; then
	flock ca/lock sleep 3 &
	sleep 0.5
	expect_fail "concurrent use refused" "another sira-cert" \
	    "$C" crl --ca-dir ca --out y.crl --passphrase-file pass
	wait
fi

# --- the committee's operator reads French (LANG), English in the C locale ---
FR="env LANGUAGE=fr LANG=fr_FR.UTF-8 LC_ALL="
run $FR "$C" revoke --ca-dir ca
expect_true "a usage error in French is still a usage error" [ "$rc" -eq 2 ]
expect_grep "and says so in French" "revoke demande --ca-dir, --serial et --reason" "$ERR"
expect_ok "--help in French" $FR "$C" --help
expect_grep "the command list is translated" "créer l'autorité de certification nationale" "$OUT"
expect_ok "show in French" $FR "$C" show ca/ca.cert
expect_grep "show's labels are translated" "valide jusqu'au :" "$OUT"
expect_grep "and dates are the reader's (JJ/MM/AAAA HH:MM)" \
    "valide du : +[0-3][0-9]/[01][0-9]/20[0-9][0-9] [0-2][0-9]:[0-5][0-9]" "$OUT"
expect_ok "show --json keeps ISO UTC" $FR "$C" show --json ca/ca.cert
expect_grep "an ISO date in the JSON" '"not_after": "20[0-9-]{8}T[0-9:]{8}Z"' "$OUT"
run "$C" revoke --ca-dir ca
expect_grep "and English in the C locale" "revoke needs --ca-dir" "$ERR"

done_
