#!/bin/sh
# test_help.sh: every command of the three programs answers --help (and
# `help COMMAND`) with its own usage, exit 0, and the top-level help lists
# it; an unknown command is a usage error (exit 2) that says where to look.
. "$(dirname "$0")/../lib/cli.sh"

# check_prog PROG COMMAND...: each COMMAND (quoted when two words).
check_prog() {
	prog=$1
	shift
	expect_ok "$prog --help" "$BIN/$prog" --help
	cp "$OUT" "$T/top"
	expect_grep "$prog --help says how to get one command's help" \
	    "$prog COMMAND --help" "$T/top"
	for c in "$@"; do
		# shellcheck disable=SC2086
		expect_ok "$prog $c --help" "$BIN/$prog" $c --help
		expect_grep "$prog $c --help shows its own usage" \
		    "^usage: $prog $c( |\$)" "$OUT"
		# shellcheck disable=SC2086
		expect_ok "$prog help $c" "$BIN/$prog" help $c
		expect_grep "$prog help $c shows its usage" \
		    "^usage: $prog $c( |\$)" "$OUT"
		expect_grep "$prog --help lists $c" "^  $c " "$T/top"
	done
	run "$BIN/$prog" no-such-command
	checks=$((checks + 1))
	[ "$rc" -eq 2 ] || fail_ "$prog: unknown command exits $rc, not 2"
	expect_grep "$prog: unknown command points to --help" \
	    "unknown command.*--help" "$ERR"
	run "$BIN/$prog"
	checks=$((checks + 1))
	[ "$rc" -eq 2 ] || fail_ "$prog without a command exits $rc, not 2"
	expect_grep "$prog without a command prints the usage" \
	    "^usage: $prog COMMAND" "$ERR"
}

check_prog sira-agent init run send inbox show outbox status directory \
    "audit verify" "audit show" export verify-bundle refer accept decline \
    feedback revoke transfer request-file grant refuse cases case \
    "user add" "user passwd" "user disable" "user enable" "user list" web \
    keygen renew-request install-cert
check_prog sira-broker run status "log verify" "log show"
check_prog sira-cert init sign-request issue renew revoke crl verify show

# --help wins over everything else on the line, and touches nothing.
expect_ok "a command's --help runs nothing" "$BIN/sira-agent" send \
    --to x --kind note --file /nonexistent --home "$T/nohome" --help
expect_true "no home made by --help" [ ! -e "$T/nohome" ]
run "$BIN/sira-agent" show --home "$T/nohome"
checks=$((checks + 1))
[ "$rc" -eq 2 ] || fail_ "show without an id exits $rc, not 2"
expect_grep "a missing argument names it" "show needs a message id" "$ERR"
done_
