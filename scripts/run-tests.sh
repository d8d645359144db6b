#!/usr/bin/env bash
# Runs the tap suite and ends with one plain summary line ("N passed, N failed"),
# which people and CI read without knowing tap's formats.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
npx tap "$@" 2>&1 | tee "$log"
code=${PIPESTATUS[0]}
summary=$(grep -E '^# \{ total: [0-9]+' "$log" | tail -1)
total=$(sed -nE 's/.*total: ([0-9]+).*/\1/p' <<<"$summary")
pass=$(sed -nE 's/.*pass: ([0-9]+).*/\1/p' <<<"$summary")
fail=$(sed -nE 's/.*fail: ([0-9]+).*/\1/p' <<<"$summary")
skip=$(sed -nE 's/.*skip: ([0-9]+).*/\1/p' <<<"$summary")
if [ -z "$total" ]; then
  echo "tests: no summary from tap (exit $code)"
  exit $(( code == 0 ? 1 : code ))
fi
# The failures again, after tap's coverage table, so that the tail of a CI log
# (often all one sees of it) names what failed and where.
if [ "${fail:-0}" != "0" ]; then
  echo "failed:"
  grep -E '^ *not ok ' "$log" | grep -v ' # TODO' | sed -E 's/ # time=.*//' | head -40 | sed 's/^/  /'
fi
echo "tests: ${pass:-0} passed, ${fail:-0} failed, ${skip:-0} skipped"
exit "$code"
