#!/usr/bin/env bash
# Every figure of BENCHMARKS.md's "Speed where people wait (issue 12)" section, in one command:
#
#     bash bench/issue12_figures.sh [KEEP_DIR]     (about 15 minutes on a quiet 2-core machine, once the dashboards are filled)
#
# KEEP_DIR (default /tmp/copbot-bench) keeps the 100k-member / 1M-record dashboard databases between
# runs (`health_dashboard.py --reuse`): the first run fills them (~6 min SQLite, ~12 min PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
keep=${1:-/tmp/copbot-bench}
pg=postgresql+psycopg://postgres@127.0.0.1:5432/postgres
echo "start $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg), commit $(git rev-parse --short HEAD)"
python bench/people_wait.py --requests 400 --concurrency 8 --modal-concurrency 8,32 --databases sqlite,postgresql
# the same with the fake Slack over TLS, as slack.com is: every new connection costs a handshake
python bench/people_wait.py --requests 400 --concurrency 8 --modal-concurrency 8,32 --databases sqlite,postgresql --tls
python bench/kind_cost.py --requests 200
python bench/kind_cost.py --statements | grep -E "^  [^ ]"  # statements and commits per request kind
python bench/kind_cost.py --requests 200 --postgres "$pg"
python bench/idle_rss.py --settle 5
python bench/idle_rss.py --settle 5 --database-url "$pg"
python bench/health_dashboard.py --runs 10 --members 100000 --scale 10 --target 50 --reuse "$keep/dash"
echo "end $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
