#!/bin/sh
# corpus_records.sh BOUNCECTL SHARED_DIR
#
# Every corpus message yields exactly one JSON record (recipients or an
# error) and bouncectl neither crashes nor trips a sanitizer on any of them.
set -eu
bouncectl=$1
emails=$2/corpus/emails
if [ ! -d "$emails" ]; then
  echo "FAIL: the shared corpus is missing: expected $emails" >&2
  exit 1
fi

out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
status=0
"$bouncectl" parse --json "$emails"/*.eml > "$out" 2> "$err" || status=$?
if grep -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$err" > /dev/null; then
  cat "$err" >&2
  echo "FAIL: a sanitizer reported an error" >&2
  exit 1
fi
if [ "$status" -gt 1 ]; then
  echo "FAIL: bouncectl parse exited with status $status" >&2
  exit 1
fi

python3 - "$out" "$emails" <<'PY'
import json, os, sys
out, emails = sys.argv[1], sys.argv[2]
expected = sorted(os.path.join(emails, f) for f in os.listdir(emails) if f.endswith(".eml"))
records = []
for n, line in enumerate(open(out, encoding="utf-8"), 1):
    try:
        records.append(json.loads(line))
    except ValueError as e:
        sys.exit(f"FAIL: output line {n} is not JSON: {e}")
files = [r.get("file") for r in records]
if sorted(files) != expected:
    missing = sorted(set(expected) - set(files))
    sys.exit(f"FAIL: {len(records)} records for {len(expected)} messages; missing {missing[:5]}")
for r in records:
    if "error" not in r and not isinstance(r.get("recipients"), list):
        sys.exit(f"FAIL: record for {r['file']} has neither recipients nor error")
errors = sum(1 for r in records if "error" in r)
print(f"{len(records)} records, {errors} with an error")
PY
