#!/usr/bin/env bash
# Trains the grok example (examples/grok-corrupted, with its probes) on the PyTorch engine on
# a CUDA GPU, from a folder prepared on a machine with RegLens (`npx tsx
# scripts/prepare-gpu-check.ts --out DIR`), and prints the epoch times and the verdict of
# docs/results.md: test accuracy >= 99% and corrupted labels fitted <= 2% after the last epoch.
# Needs only bash and a python3 with torch (no Node, no RegLens install, no network).
#
#   bash gpu-check.sh DIR [--device cuda|cpu|mps|auto] [--epochs N] [--python PATH]
#
# --device / --epochs override the prepared command (the CPU and fewer epochs are for trying
# the script without a GPU; the verdict is for 300 epochs). --python: default $PYTHON, else
# python3. Each run gets DIR/run-<UTC time>/ with command.json, events.jsonl (every event of
# the run), engine.log (the engine's stderr) and the pruned model. Exit codes: 0 verdict met,
# 1 not met or the run failed, 2 bad usage or folder, 3 torch (or the device) not usable.
set -euo pipefail

usage() { echo "usage: bash gpu-check.sh DIR [--device cuda|cpu|mps|auto] [--epochs N] [--python PATH]" >&2; exit 2; }
dir=""
device=""
epochs=""
python="${PYTHON:-python3}"
while [ $# -gt 0 ]; do
  case "$1" in
    --device) [ $# -ge 2 ] || usage; device="$2"; shift 2 ;;
    --epochs) [ $# -ge 2 ] || usage; epochs="$2"; shift 2 ;;
    --python) [ $# -ge 2 ] || usage; python="$2"; shift 2 ;;
    -h|--help) usage ;;
    -*) echo "gpu-check: unknown option $1" >&2; usage ;;
    *) [ -z "$dir" ] || usage; dir="$1"; shift ;;
  esac
done
[ -n "$dir" ] || usage
case "$device" in ""|cuda|cpu|mps|auto) ;; *) echo "gpu-check: --device must be cuda, cpu, mps or auto, not '$device'" >&2; exit 2 ;; esac
if [ -n "$epochs" ] && ! [[ "$epochs" =~ ^[1-9][0-9]*$ ]]; then echo "gpu-check: --epochs must be a positive whole number, not '$epochs'" >&2; exit 2; fi
dir="$(cd "$dir" 2>/dev/null && pwd)" || { echo "gpu-check: no folder $1" >&2; exit 2; }
for need in command.json data/meta.json python/reglens/engine/__main__.py; do
  [ -e "$dir/$need" ] || { echo "gpu-check: $dir/$need is missing; prepare the folder with 'npx tsx scripts/prepare-gpu-check.ts --out $dir' in a RegLens checkout" >&2; exit 2; }
done
command -v "$python" >/dev/null 2>&1 || { echo "gpu-check: no Python interpreter '$python' (install python3 and torch, or pass --python PATH)" >&2; exit 3; }

export PYTHONPATH="$dir/python${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
check_device="${device:-$("$python" -c 'import json,sys; c=json.load(open(sys.argv[1])); print(c["experiment"].get("device") or c.get("device") or "auto")' "$dir/command.json")}"
if ! check="$("$python" -m reglens.engine --self-check --device "$check_device" 2>&1)"; then
  reason="$(printf '%s' "$check" | "$python" -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])["reason"])' 2>/dev/null || printf '%s' "$check")"
  echo "gpu-check: torch cannot train on $check_device with $python: $reason" >&2
  [ "$check_device" = cpu ] || echo "gpu-check: to try the script on this machine's CPU instead: bash $0 $dir --device cpu --epochs 5" >&2
  exit 3
fi
echo "self-check: $check"

run="$dir/run-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$run"
# The prepared command with its paths pointed at this folder (it was written elsewhere).
"$python" - "$dir" "$run" "$device" "$epochs" <<'PY'
import json, os, sys
folder, run, device, epochs = sys.argv[1:5]
with open(os.path.join(folder, "command.json"), encoding="utf-8") as f:
    command = json.load(f)
command.update(dataDir=os.path.join(folder, "data"), baseDir=folder, runDir=run, python=sys.executable)
if device:
    command["device"] = device
    command["experiment"]["device"] = device
if epochs:
    command["experiment"]["training"]["epochs"] = int(epochs)
with open(os.path.join(run, "command.json"), "w", encoding="utf-8") as f:
    json.dump(command, f, indent=1)
PY

echo "training: $python -m reglens.engine --command $run/command.json"
t0=$(date +%s)
status=0
"$python" -m reglens.engine --command "$run/command.json" > "$run/events.jsonl" 2> "$run/engine.log" < /dev/null || status=$?
t1=$(date +%s)

"$python" - "$run" "$status" "$((t1 - t0))" <<'PY'
import json, statistics, sys
run, status, wall = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
events = []
with open(f"{run}/events.jsonl", encoding="utf-8") as f:
    for line in f:
        line = line.strip()
        if line:
            events.append(json.loads(line))
started = next((e for e in events if e.get("type") == "started"), None)
epochs = [e for e in events if e.get("type") == "epoch"]
probes = [e["probe"]["kind"] for e in events if e.get("type") == "probe"]
end = next((e for e in reversed(events) if e.get("type") in ("finished", "failed")), None)
if started:
    print(f"backend: {started['backend']} ({started.get('backendNote') or ''})")
print(f"wall time of the engine process: {wall} s (exit code {status})")
if epochs:
    secs = [e["seconds"] for e in epochs]
    train = [e.get("trainSeconds", e["seconds"]) for e in epochs]
    print(f"epochs: {len(epochs)}; seconds per epoch: first {secs[0]:.3f}, median {statistics.median(secs):.4f} "
          f"(training steps alone: first {train[0]:.3f}, median {statistics.median(train):.4f}), total {sum(secs):.1f}")
print(f"probes: {len(probes)} events ({', '.join(sorted(set(probes))) or 'none'})")
for e in events:
    if e.get("type") == "log" and e.get("level") in ("warning", "error"):
        print(f"{e['level']}: {e['message']}")
if not end or end["type"] == "failed":
    print(f"VERDICT: run failed: {end['message'] if end else 'no finished event'} (engine log: {run}/engine.log)")
    sys.exit(1)
final = end.get("final") or (epochs[-1]["accuracy"] if epochs else {})
test, corrupted = final.get("test"), final.get("corruptedTrain")
print(f"final (epoch {end['epochs']}): clean-train {100 * final.get('cleanTrain', 0):.1f}%, corrupted fitted "
      f"{'-' if corrupted is None else f'{100 * corrupted:.1f}%'}, test {100 * (test or 0):.1f}%")
ok = test is not None and test >= 0.99 and corrupted is not None and corrupted <= 0.02
done = end["epochs"]
short = "" if done >= 300 else f"; only {done} epochs: the verdict is for 300"
print(f"VERDICT: {'met' if ok else 'NOT met'} (test >= 99%: {100 * (test or 0):.1f}%, corrupted fitted <= 2%: "
      f"{'-' if corrupted is None else f'{100 * corrupted:.1f}%'}){short}")
print(f"events: {run}/events.jsonl")
sys.exit(0 if ok else 1)
PY
