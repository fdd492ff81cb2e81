#!/bin/sh
# lint_boundary.sh: the two trust-boundary rules of STYLE.md 2.5, as checks.
#  1. Each libsodium construction is called only from the file that owns it.
#  2. The broker binary never links code that opens sealed messages.
set -u
status=0

# file:regex of libsodium calls that file may make. Everything else is
# forbidden everywhere. Adding a line here is a reviewed decision.
allow='
lib/digest.c:crypto_hash_sha256
lib/sign.c:crypto_sign_
lib/keyfile.c:crypto_pwhash|crypto_secretbox|crypto_scalarmult_base|randombytes_buf
certs/ca.c:crypto_box_keypair
agents/crypto/seal.c:crypto_box_seal|crypto_aead_xchacha20poly1305_ietf|crypto_kdf|crypto_generichash|randombytes_buf
agents/crypto/attach.c:crypto_secretstream_xchacha20poly1305
agents/crypto/prekey.c:crypto_box_keypair|randombytes_buf
agents/crypto/receipt.c:randombytes_buf|sodium_memcmp
agents/store/book.c:randombytes_buf
agents/daemon/link.c:randombytes_uniform|sodium_memzero
agents/store/vault.c:crypto_aead_xchacha20poly1305_ietf|crypto_secretbox|crypto_generichash|randombytes_buf
'
for f in $(find lib certs broker agents -name '*.c' 2>/dev/null | sort); do
	calls=$(grep -oE '\b(crypto_[a-z0-9_]+|randombytes_[a-z_]+)\s*\(' "$f" |
	    sed 's/[ (]*$//' | sort -u)
	[ -n "$calls" ] || continue
	ok=$(printf '%s\n' "$allow" | awk -F: -v f="$f" '$1 == f { print $2 }')
	for c in $calls; do
		if [ -z "$ok" ] || ! printf '%s\n' "$c" | grep -Eq "^($ok)"; then
			echo "lint: $f calls $c, which it does not own (tests/lint_boundary.sh)"
			status=1
		fi
	done
done

for b in bin/sira-broker build/check/bin/sira-broker; do
	[ -x "$b" ] || continue
	if nm -D --undefined-only "$b" |
	    grep -E 'crypto_box_seal_open|crypto_box_open|crypto_secretstream_xchacha20poly1305_pull|crypto_aead_xchacha20poly1305_ietf_decrypt'; then
		echo "lint: $b links code that opens sealed messages"
		status=1
	fi
done
[ $status -eq 0 ] && echo "lint: trust boundaries hold"
exit $status
