#!/usr/bin/env bash
# The crash test, again and again, with two CPU-bound processes beside it: proof that it
# holds on a busy machine (it waits for conditions and holds the killed replica with a lock,
# it never races it). Not part of `npm test`.
#
#   bash test/stress/crash-under-load.sh            # 20 runs
#   RUNS=5 bash test/stress/crash-under-load.sh     # fewer
#   TEST=test/other.test.ts bash test/stress/crash-under-load.sh
#
# Each run's output goes to $LOG_DIR (default: a fresh mktemp -d, printed first). Stops at
# the first failing run and ends with one line "N passed, N failed" (exit 0 only if none
# failed). A run takes one to three minutes on a 2-core machine with the burners.
set -uo pipefail
cd "$(dirname "$0")/../.."
runs=${RUNS:-20}
test_file=${TEST:-test/provisioning/provision-crash.test.ts}
log_dir=${LOG_DIR:-$(mktemp -d)}
mkdir -p "$log_dir"

burners=()
for _ in 1 2; do
  node -e 'for (;;) {}' &
  burners+=($!)
done
# The burners go with the script however it ends (Ctrl-C or kill included).
trap 'kill "${burners[@]}" 2>/dev/null' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
echo "logs: $log_dir"

passed=0
failed=0
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  if npx tap --disable-coverage --reporter=terse "$test_file" >"$log_dir/run-$i.log" 2>&1; then
    passed=$((passed + 1))
    echo "run $i/$runs: passed in $(( $(date +%s) - start )) s"
  else
    failed=$((failed + 1))
    echo "run $i/$runs: FAILED in $(( $(date +%s) - start )) s; output: $log_dir/run-$i.log"
    break
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
