#!/usr/bin/env bash
# A/B of `toolkit export` between two code trees (say, `git worktree add ../base REV` and
# this checkout) on the same synthetic articles, as whole processes, alternating, with
# each tree first in every other round (the order itself moves the figures on a busy
# machine). Prints wall and CPU seconds and peak memory of each run.
#
#   bash benchmarks/ab_export.sh OLD_TREE NEW_TREE [N_ARTICLES] [ROUNDS] [-- EXPORT_OPTIONS...]
#
# Runs both trees with this checkout's virtualenv (.venv) and each tree's own code
# (PYTHONPATH), so only the toolkit's code differs.
set -euo pipefail
old=$(cd "$1" && pwd); new=$(cd "$2" && pwd)
n=${3:-30000}; rounds=${4:-4}
shift $(( $# < 4 ? $# : 4 )); [ "${1:-}" = "--" ] && shift
python=$(pwd)/.venv/bin/python
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
PYTHONPATH=$new "$python" -c "
import sys; sys.path.insert(0, 'benchmarks')
from pathlib import Path
import bench_export
bench_export.write_articles(Path('$work/annotated.jsonl'), $n)
"
for round in $(seq 1 "$rounds"); do
  if (( round % 2 )); then order="$old $new"; else order="$new $old"; fi
  for tree in $order; do
    side=$([ "$tree" = "$old" ] && echo old || echo new)
    rm -rf "$work/out"
    /usr/bin/time -f "$side round $round: %e s wall, %U+%S s CPU, %M KiB peak" \
      bash -c "cd '$tree' && PYTHONPATH='$tree' '$python' -m toolkit export '$work/annotated.jsonl' \
        --out '$work/out' --config configs/news-ner.yaml $* > /dev/null 2>&1"
  done
done
