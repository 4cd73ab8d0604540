#!/usr/bin/env bash
# Runs the benchmarks behind README's figures, one after another, and keeps
# their raw output (date, machine, commit, command, output, exit status) in
# docs/bench/<date>-all.md (<date>-<filter>.md with a filter). Takes about 10 minutes
# on the 2-core machine.
#
#   bash benches/record.sh            # everything
#   bash benches/record.sh checkout   # only the commands that mention "checkout"
set -uo pipefail
cd "$(dirname "$0")/.."
only="${1:-}"
out="docs/bench/$(date +%F)-${only:-all}.md"
# Build once, then run the executables themselves: `cargo bench` would rebuild
# (and measure) whatever the sources hold by then.
declare -A executables
while read -r name path; do
  executables[$name]=$path
done < <(cargo bench --no-run --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and message.get("executable") and "bench" in message["target"]["kind"]:
        print(message["target"]["name"], message["executable"])
')
[[ ${#executables[@]} -gt 0 ]] || { echo "release build failed"; exit 1; }

commands=(
  "cargo bench --bench sku_reservations"
  "cargo bench --bench http_load -- --scenario hot --connections 64 --duration 10"
  "cargo bench --bench http_load -- --scenario spread --connections 64 --duration 10"
  "cargo bench --bench http_load -- --scenario hot --connections 64 --duration 10 --durability relaxed"
  "cargo bench --bench http_load -- --scenario spread --connections 64 --duration 10 --durability relaxed"
  "cargo bench --bench http_load -- --scenario hot --connections 64 --duration 10 --rate 20000"
  "cargo bench --bench actor_memory -- --actors 1000000"
  "cargo bench --bench search_index -- --products 100000"
  "cargo bench --bench http_load -- --scenario search --products 100000 --duration 10 --connections 8"
  "cargo bench --bench http_load -- --scenario search --products 100000 --duration 10 --connections 64"
  "cargo bench --bench http_load -- --scenario search --products 100000 --duration 10 --connections 16"
  "cargo bench --bench http_load -- --scenario page-home --products 100000 --duration 10 --connections 16"
  "cargo bench --bench http_load -- --scenario page-category --products 100000 --duration 10 --connections 16"
  "cargo bench --bench http_load -- --scenario page-search --products 100000 --duration 10 --connections 16"
  "cargo bench --bench http_load -- --scenario page-product --products 100000 --duration 10 --connections 16"
  "cargo bench --bench login_load -- --duration 10"
  "cargo bench --bench cart_updates"
  "cargo bench --bench cart_push"
  "cargo bench --bench checkout_load -- --scenario steady"
  "cargo bench --bench checkout_load -- --scenario steady --lines 3"
  "cargo bench --bench checkout_load -- --scenario steady --skus 100"
  "cargo bench --bench checkout_load -- --scenario steady --connections 1"
  "cargo bench --bench checkout_load -- --scenario flash"
  "cargo bench --bench checkout_load -- --scenario steady --nats nats://127.0.0.1:4222 --webhooks 1 --webhook-types order.confirmed"
  "cargo bench --bench checkout_load -- --scenario steady --webhooks 1 --webhook-types order.confirmed"
  "cargo bench --bench checkout_load -- --scenario steady --nats nats://127.0.0.1:4222"
)

{
  echo "# Benchmarks, $(date +%F)"
  echo
  echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(uname -sr)."
  echo "Code: $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with uncommitted changes)'), release build (\`cargo bench --no-run\`)."
  echo "Each block is one run, in this order, back to back; the machine's pace moves by ±20 % between runs."
} >"$out"
for command in "${commands[@]}"; do
  [[ -n "$only" && "$command" != *"$only"* ]] && continue
  echo "running: $command" >&2
  {
    echo
    echo '```text'
    echo "\$ $command"
    bench="${command#cargo bench --bench }"
    name="${bench%% *}"
    args=""
    [[ "$command" == *" -- "* ]] && args="${command#* -- }"
    # shellcheck disable=SC2086
    "${executables[$name]}" --bench $args 2>&1
    echo "(exit $?)"
    echo '```'
  } >>"$out"
done
echo "wrote $out" >&2
