#!/usr/bin/env bash
# One row of BENCHMARKS.md's table per corpus size, measured end to end with the release
# binary: index build, size on disk, start-up, RSS, HTTP load, suggest, freshness and the
# in-process query mix. The table is this script's output, not hand-collected figures.
#
# usage: benches/growth.sh WHICH [ROUNDS]
#   WHICH   builtin | real | N (generated: `banshi gen --docs N --seed 1`, reused if present)
#           | a corpus folder
#   ROUNDS  rounds of the in-process mix (default 10)
# env: BANSHI_BIN (default: target/release/banshi, built from this tree first),
#      BANSHI_GROWTH_DIR (scratch, default /tmp/banshi-growth),
#      BANSHI_SHARED_CORPUS (default ../shared/corpus),
#      GROWTH_SECS (seconds per HTTP run, default 8), GROWTH_SAVES (freshness saves, default 50),
#      GROWTH_LATENCY=0 skips the rows that run `cargo bench` (the in-process mix and the
#      yardstick).
#
# The load generator shares the machine with the server, as the targets in issue 5 assume.
# HTTP search runs are with the response cache off (`--cache-mb 0`): the mix repeats, and the
# cache would answer most of it; one run at concurrency 64 with the default cache follows.
# Freshness saves files into a copy of the corpus (a generated corpus: in place; the files are
# removed afterwards either way) through a server with the watcher on and default settings.
# Linux: RSS comes from /proc. The servers' logs go to $BANSHI_GROWTH_DIR/server.log (the
# freshness server's at `info`, whose watcher syncs give a row).
# The yardstick rows, first and last, time raw jieba on one thread (see `yardstick` below):
# this VM's speed has drifted 2x between days, so figures from two runs compare only beside
# their yardsticks.
set -euo pipefail
which=${1:?usage: benches/growth.sh builtin|real|N|DIR [ROUNDS]}
rounds=${2:-10}
# Paths given by the caller are taken relative to where it runs, before moving to the repo.
case $which in
  builtin | real) ;;
  *[!0-9]*) which=$(realpath -m "$which") ;;
esac
[ -n "${BANSHI_BIN:-}" ] && BANSHI_BIN=$(realpath "$BANSHI_BIN")
work=$(realpath -m "${BANSHI_GROWTH_DIR:-/tmp/banshi-growth}")
cd "$(dirname "$0")/.."
bin=${BANSHI_BIN:-target/release/banshi}
secs=${GROWTH_SECS:-8}
saves=${GROWTH_SAVES:-50}
shared=${BANSHI_SHARED_CORPUS:-../shared/corpus}
mkdir -p "$work"
# The figures are for the code in this tree: build it, unless a binary was named.
[ -n "${BANSHI_BIN:-}" ] || cargo build --release --quiet
bin=$(realpath "$bin")

# The corpus, the name of its index folder, and whether freshness may write into it.
scratch=0
case $which in
  builtin) corpus=corpus name=builtin ;;
  real) corpus=$shared name=real ;;
  *[!0-9]*) corpus=$which name=${which//\//_} ;;
  *)
    corpus=$work/g$which name=g$which scratch=1
    if [ ! -d "$corpus" ]; then
      "$bin" gen --docs "$which" --seed 1 --out "$corpus" >/dev/null
    fi
    ;;
esac
[ -d "$corpus" ] || { echo "no corpus at $corpus" >&2; exit 2; }
corpus=$(realpath "$corpus")
index=$work/index-$name

row() { printf '%-28s %s\n' "$1:" "$2"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
# The machine's speed now: jieba's search mode over the built-in corpus on one thread, the
# indexing target's own yardstick (criterion's `indexing/builtin_raw_jieba`, median of its
# throughput interval).
yardstick() {
  [ "${GROWTH_LATENCY:-1}" != 0 ] || return 0
  local out t=""
  # A failing bench leaves the row at "?" and says why on stderr; the other rows still run.
  if out=$(cargo bench --quiet --bench indexing -- --noplot 'indexing/builtin_raw_jieba$' 2>&1); then
    t=$(grep -o -m1 'thrpt: *\[[^]]*\]' <<<"$out" | awk '{print $4, $5}')
  else
    echo "yardstick: cargo bench --bench indexing failed:" >&2
    tail -5 <<<"$out" >&2
  fi
  row "yardstick ($1)" "raw jieba ${t:-?} (one thread, built-in corpus)"
}

echo "== $corpus at $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(date -u '+%F %H:%M') UTC, load $(load)"
row "corpus" "$(du -sb "$corpus" | awk '{printf "%.1f MB", $1 / 1048576}')"
yardstick start

# Index build: a fresh folder, so every file is read, segmented and written.
rm -rf "$index"
timing=$(mktemp)
timed=()
[ -x /usr/bin/time ] && timed=(/usr/bin/time -o "$timing" -f 'wall %e s, user %U s, sys %S s, peak RSS %M KB')
if ! out=$("${timed[@]}" "$bin" index --corpus "$corpus" --index "$index" 2>&1); then
  echo "$out" >&2
  exit 1
fi
row "index build" "$(grep 'files seen' <<<"$out")"
[ -s "$timing" ] && row "index build time" "$(cat "$timing")"
rm -f "$timing"
row "index size on disk" "$(du -sh "$index" | cut -f1)"

# Start a server (extra flags in "$@"), set $pid and $url once it prints its address.
serve() {
  coproc SERVER { exec "$bin" serve --corpus "$1" --index "$index" --addr 127.0.0.1:0 "${@:2}" 2>"$work/server.log"; }
  pid=$SERVER_PID
  local line
  while read -r line <&"${SERVER[0]}"; do
    if [[ $line == *"listening on "* ]]; then url=${line##*listening on }; return 0; fi
  done
  echo "server exited before listening:" >&2
  tail -5 "$work/server.log" >&2
  exit 1
}
stop() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
rss() { grep -E "^($1):" "/proc/$pid/status" | awk '{printf "%s %d MB  ", $1, $2 / 1024}'; }

# Start-up on the existing index: spawn to the `listening on` line (dictionary load and the
# reconcile sync included), four times.
times=()
for _ in 1 2 3 4; do
  t0=$(date +%s%N)
  serve "$corpus" --no-watch
  times+=("$(( ($(date +%s%N) - t0) / 1000000 )) ms")
  stop
done
row "start-up (4 spawns)" "${times[*]}"

serve "$corpus" --no-watch --cache-mb 0
row "RSS after start" "$(rss VmRSS)"
for c in 1 8 64; do
  row "HTTP c=$c, cache off" "$("$bin" bench --url "$url" --concurrency "$c" --duration "$secs" 2>&1 | tail -1)"
done
row "suggest c=8" "$("$bin" bench --url "$url/api/suggest?q={q}" --queries benches/suggest.txt \
  --concurrency 8 --duration "$((secs < 5 ? secs : 5))" 2>&1 | tail -1)"
row "RSS after load" "$(rss 'VmRSS|RssAnon|RssFile')"
stop
serve "$corpus" --no-watch
row "HTTP c=64, cache on" "$("$bin" bench --url "$url" --concurrency 64 --duration "$secs" 2>&1 | tail -1)"
stop

# The in-process mix, before the freshness saves add segments to the index.
if [ "${GROWTH_LATENCY:-1}" != 0 ]; then
  BANSHI_BENCH_ROUNDS=$rounds BANSHI_BENCH_INDEX=$index cargo bench --quiet --bench latency 2>/dev/null |
    grep -E '^(in-process|suggest over)' | sed 's/^/  /'
fi

# Freshness: save → searchable through the watcher.
fresh=$corpus
if [ "$scratch" = 0 ]; then
  fresh=$work/fresh-$name
  rm -rf "$fresh"
  cp -r "$corpus" "$fresh"
fi
# The server logs its watcher's syncs (`BANSHI_LOG=info`), so a slow save can be told apart
# from a slow sync afterwards.
BANSHI_LOG=info serve "$fresh"
sleep 2
row "freshness ($saves saves)" "$("$bin" bench --url "$url" --freshness "$fresh" --saves "$saves" --gap 0.3 2>&1 | tail -1)"
stop
syncs=$(sed 's/\x1b\[[0-9;]*m//g' "$work/server.log" | grep 'watcher sync' | grep -o 'elapsed_ms=[0-9]*' |
  cut -d= -f2 | sort -n || true)
row "watcher syncs (freshness)" "$(wc -w <<<"$syncs") syncs, slowest $(tail -3 <<<"$syncs" | paste -sd' ') ms (server log)"
[ "$scratch" = 1 ] || rm -rf "$fresh"
yardstick end

echo "== done $(date -u '+%H:%M') UTC, load $(load)"
