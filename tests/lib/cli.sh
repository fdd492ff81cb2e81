# cli.sh: helpers for the shell tests that drive Sira's binaries as a user
# would. Each test sources this file, calls its checks, and ends with `done_`.
# A check failure prints what was expected and what came out, and the test
# exits non-zero at the end.
set -u
: "${BIN:=$(pwd)/bin}"
T=$(mktemp -d "${TMPDIR:-/tmp}/sira-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
failures=0
OUT="$T/_stdout"
ERR="$T/_stderr"
checks=0

fail_() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# run CMD...: run a command, capturing stdout, stderr and status in
# $T/out, $T/err and $rc.
run() {
	rc=0
	"$@" >"$OUT" 2>"$ERR" || rc=$?
}

# expect_ok DESCRIPTION CMD...: the command must succeed.
expect_ok() {
	desc=$1
	shift
	checks=$((checks + 1))
	run "$@"
	if [ "$rc" -ne 0 ]; then
		fail_ "$desc: exit $rc"
		sed 's/^/    err: /' "$ERR"
		tail -n 5 "$OUT" | sed 's/^/    out: /'
	fi
}

# expect_fail DESCRIPTION PATTERN CMD...: the command must fail with exit 1
# and exactly one line on stderr that matches PATTERN (grep -E), after any
# WARNING lines.
expect_fail() {
	desc=$1
	pat=$2
	shift 2
	checks=$((checks + 1))
	run "$@"
	grep -v 'WARNING' "$ERR" >"$ERR.main" || true
	lines=$(wc -l <"$ERR.main")
	if [ "$rc" -ne 1 ]; then
		fail_ "$desc: expected exit 1, got $rc"
		sed 's/^/    err: /' "$ERR"
	elif [ "$lines" -ne 1 ]; then
		fail_ "$desc: expected one error line, got $lines"
		sed 's/^/    err: /' "$ERR"
	elif ! grep -Eq "$pat" "$ERR.main"; then
		fail_ "$desc: error does not match /$pat/"
		sed 's/^/    err: /' "$ERR"
	fi
}

# expect_grep DESCRIPTION PATTERN FILE: FILE must contain PATTERN.
expect_grep() {
	checks=$((checks + 1))
	grep -Eq "$2" "$3" || {
		fail_ "$1: /$2/ not in $3"
		sed 's/^/    | /' "$3"
	}
}

# expect_true DESCRIPTION CMD...: a plain shell condition.
expect_true() {
	desc=$1
	shift
	checks=$((checks + 1))
	"$@" || fail_ "$desc"
}

done_() {
	echo "$checks checks, $failures failed"
	[ "$failures" -eq 0 ]
}
