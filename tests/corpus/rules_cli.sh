#!/bin/sh
# rules_cli.sh BOUNCECTL RULES_DIR
#
# `bouncectl rules` through the real binary: check accepts the shipped
# default table and rejects a bad file with FILE:LINE, test names the rule
# that matches, default prints the embedded table.
set -eu
bouncectl=$1
rules_dir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

out=$("$bouncectl" rules check "$rules_dir/default.rules") || fail "rules check rejected default.rules"
echo "$out" | grep -q 'rules, OK$' || fail "rules check printed: $out"

printf 'rule ok code 550 => rejected\n\nrule bad diag ~ /(unclosed/ => rejected\n' > "$tmp/bad.rules"
status=0
err=$("$bouncectl" rules check "$tmp/bad.rules" 2>&1) || status=$?
[ "$status" -eq 1 ] || fail "rules check of a bad file exited $status"
echo "$err" | grep -q "^$tmp/bad.rules:3: bad regex" || fail "unexpected error text: $err"

out=$("$bouncectl" rules test --status 5.2.2 --code 552 "552 5.2.2 Mailbox is full")
echo "$out" | grep -q '^reason:  mailboxfull$' || fail "rules test printed: $out"
echo "$out" | grep -q '^why:     rule .* (line [0-9]*): .*matched "Mailbox is full"' ||
  fail "rules test did not explain the match: $out"

out=$("$bouncectl" rules test --rules "$rules_dir/default.rules" "no such user here")
echo "$out" | grep -q '^status:  5.0.911 (derived from the reason)$' || fail "no pseudo status: $out"

"$bouncectl" rules default | cmp -s - "$rules_dir/default.rules" ||
  fail "rules default differs from rules/default.rules"

status=0
"$bouncectl" rules test --kind nosuchkind x > /dev/null 2>&1 || status=$?
[ "$status" -eq 2 ] || fail "a bad option exited $status, not 2"
echo "rules CLI OK"
