#!/bin/sh
# run.sh: runs every test given on the command line (cmocka binaries and
# shell scripts), keeps each one's output in a .log beside it, and ends with
# the one summary line CI reads: "tests: N passed, M failed".
#
# Environment: BIN (where sira-* binaries are), O (object tree).
set -u
: "${BIN:=bin}" "${O:=build/release}"
# sira-agent speaks its user's language (docs/OPERATIONS.md); the tests
# read its English, which the C locale gives, as on a machine with no LANG.
LC_ALL=C
export LC_ALL
BIN=$(cd "$BIN" && pwd)
export BIN O
logdir="$O/test-logs"
mkdir -p "$logdir"
pass=0
fail=0
for t in "$@"; do
	name=$(basename "$t")
	log="$logdir/$name.log"
	start=$(date +%s)
	case "$t" in
	*.sh) sh "$t" >"$log" 2>&1 ;;
	*) "$t" >"$log" 2>&1 ;;
	esac
	rc=$?
	secs=$(($(date +%s) - start))
	if [ $rc -eq 0 ]; then
		pass=$((pass + 1))
		echo "PASS $name (${secs}s)"
	else
		fail=$((fail + 1))
		echo "FAIL $name (exit $rc, see $log)"
		tail -n 25 "$log" | sed 's/^/    | /'
	fi
done
echo "tests: $pass passed, $fail failed"
[ $fail -eq 0 ]
