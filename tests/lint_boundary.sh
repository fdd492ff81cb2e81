#!/bin/sh
# lint_boundary.sh: the trust-boundary rules of STYLE.md 2.5, as checks.
#  1. Each libsodium construction is called only from the file that owns it.
#  2. The broker binary never links code that opens sealed messages.
#  3. The agent's rooms include only the rooms below them (ARCHITECTURE.md),
#     and lib/, certs/ and broker/ include nothing of the agent.
#  4. Each broker LMDB table has one owner: LMDB calls (mdb_*) and table
#     handles (dbi[DB_*]) appear only in the broker's store modules.
set -u
status=0

# file:regex of libsodium calls that file may make. Everything else is
# forbidden everywhere. Adding a line here is a reviewed decision.
allow='
lib/digest.c:crypto_hash_sha256
lib/sign.c:crypto_sign_
lib/keyfile.c:crypto_pwhash|crypto_secretbox|crypto_scalarmult_base|randombytes_buf
lib/backup_archive.c:crypto_pwhash|crypto_secretstream_xchacha20poly1305|randombytes_buf
certs/ca.c:crypto_box_keypair|crypto_box_open_easy
agents/crypto/seal.c:crypto_box_seal|crypto_aead_xchacha20poly1305_ietf|crypto_kdf|crypto_generichash|randombytes_buf
agents/crypto/pseudonym.c:crypto_generichash|randombytes_buf
agents/crypto/attach.c:crypto_secretstream_xchacha20poly1305
agents/crypto/prekey.c:crypto_box_keypair|randombytes_buf
agents/crypto/enrol.c:crypto_box_keypair|crypto_box_easy|randombytes_buf
agents/crypto/receipt.c:randombytes_buf|sodium_memcmp
agents/store/book.c:randombytes_buf
agents/daemon/link.c:randombytes_uniform|sodium_memzero
agents/store/vault.c:crypto_aead_xchacha20poly1305_ietf|crypto_secretbox|crypto_generichash|randombytes_buf
agents/store/users.c:crypto_pwhash_str|sodium_memzero
agents/store/casekeys.c:crypto_secretbox|randombytes_buf
agents/web/session.c:randombytes_buf
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

# The broker restores its own backups (broker/backup.c), so it imports
# crypto_secretstream_xchacha20poly1305_pull: under a key derived from the
# operator's passphrase, never an agency's (docs/ARCHITECTURE.md). That
# one import is allowed only if lib/backup_archive.c is its only user
# among the objects the broker links; anything else pulling from a
# secretstream is still refused.
for b in bin/sira-broker build/check/bin/sira-broker; do
	[ -x "$b" ] || continue
	if nm -D --undefined-only "$b" |
	    grep -E 'crypto_box_seal_open|crypto_box_open|crypto_aead_xchacha20poly1305_ietf_decrypt'; then
		echo "lint: $b links code that opens sealed messages"
		status=1
	fi
	objs=$(dirname "$(dirname "$b")")
	[ "$objs" = . ] && objs=build/release
	for o in "$objs"/lib/*.o "$objs"/broker/*.o; do
		[ -f "$o" ] || continue
		case "$o" in */lib/backup_archive.o) continue ;; esac
		if nm --undefined-only "$o" |
		    grep -q 'crypto_secretstream_xchacha20poly1305_pull'; then
			echo "lint: $o (linked by $b) opens a secretstream"
			status=1
		fi
	done
done
# room: the rooms it may include besides itself. crypto and the store
# are the floor; the case state machine never reaches the network or the
# CLI. (The message catalogues, lib/i18n.h, are shared with sira-cert.)
rooms='
crypto:
store:
documents:crypto store
workflow:store documents
bundle:crypto store
daemon:crypto store documents workflow
cli:crypto store documents workflow daemon bundle web
web:crypto store documents workflow bundle
'
for d in $(printf '%s\n' "$rooms" | cut -d: -f1); do
	ok=$(printf '%s\n' "$rooms" | awk -F: -v d="$d" '$1 == d { print $2 }')
	for f in agents/"$d"/*.[ch]; do
		for r in $(sed -n 's|^#include "\([a-z]*\)/.*|\1|p' "$f" | sort -u); do
			[ "$r" = "$d" ] && continue
			case " $ok " in *" $r "*) continue ;; esac
			echo "lint: $f includes agents/$r/, which $d/ may not use"
			status=1
		done
	done
done
for f in $(find lib certs broker -name '*.[ch]' | sort); do
	if grep -Eq '^#include "(crypto|store|documents|workflow|bundle|daemon|cli|web)/' "$f"; then
		echo "lint: $f includes agent code"
		status=1
	fi
done
# The broker's store modules (broker/store.h says which owns which table).
# broker/backup.c copies the whole environment (mdb_env_copy2), no table.
lmdb_owners='broker/store.c broker/spool.c broker/tlog.c broker/prekeys.c broker/backup.c'
for f in broker/*.c; do
	case " $lmdb_owners " in *" $f "*) continue ;; esac
	if grep -n 'mdb_\|dbi\[DB_' "$f"; then
		echo "lint: $f calls LMDB or names a table; only $lmdb_owners may"
		status=1
	fi
done
if [ -n "$(find agents -maxdepth 1 -name '*.[ch]')" ]; then
	echo "lint: agents/ holds files outside its rooms"
	status=1
fi

[ $status -eq 0 ] && echo "lint: trust boundaries and layers hold"
exit $status
