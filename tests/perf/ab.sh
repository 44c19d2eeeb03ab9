#!/usr/bin/env bash
# Run one benchmark on two commits in alternation, so both see the same machine.
#
#   tests/perf/ab.sh OLD NEW ROUNDS BENCH [ARGS...]
#   tests/perf/ab.sh b407c1b HEAD 3 bench_sweep.py --backend both --open 100000 --no-real
#
# On the shared 2-core machines of this project the same code measures up to 2x apart within
# a quarter of an hour, so a figure is only worth comparing with one taken beside it. Each
# commit is checked out in a temporary worktree (its catalogs compiled there) and run with the
# same Python; the script prints the benchmark's table rows
# (lines starting with "|") of every run, labelled, and removes the worktrees afterwards.
set -euo pipefail
if [ $# -lt 4 ]; then
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
old=$1 new=$2 rounds=$3 bench=$4
shift 4
top=$(git rev-parse --show-toplevel)
python=${PYTHON:-/work/venv/bin/python}
work=$(mktemp -d -t propdesk-ab-XXXX)
trap 'git -C "$top" worktree remove --force "$work/old" >/dev/null 2>&1 || true
      git -C "$top" worktree remove --force "$work/new" >/dev/null 2>&1 || true
      rm -rf "$work"' EXIT
for side in old new; do
  git -C "$top" worktree add -q --detach "$work/$side" "${!side}"
  (cd "$work/$side" && PYBABEL="$(dirname "$python")/pybabel" .ci/i18n compile >/dev/null 2>&1)
done
echo "A/B: old = $(git -C "$top" rev-parse --short "$old"), new = $(git -C "$top" rev-parse --short "$new"); $bench $*"
for round in $(seq 1 "$rounds"); do
  for side in old new; do
    echo "-- round $round, $side"
    (cd "$work/$side" && PYTHONPATH="$work/$side" "$python" "tests/perf/$bench" "$@" 2>&1) |
      grep '^|' | grep -v '^|[- |]*$' || echo "(no figures: the run failed)"
  done
done
