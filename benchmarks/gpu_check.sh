#!/usr/bin/env bash
# GPU checks, in one run on a machine with a CUDA GPU (see benchmarks/RESULTS.md for recorded figures).
#
#   (a) the CUDA tests (pytest -m gpu);
#   (b) full-profile calibration of ablation and cifar over SEEDS seeds (>= 10), thresholds written
#       with the device and torch version recorded in their header;
#   (c) the cifar reference and two mistake samples graded with the full profile: seconds per submission;
#   (d) two grading workers sharing the GPU against one: the throughput ratio.
#
# Usage (from the repository root):
#   DLGRADE_DATA=/path/to/data SEEDS=10 OUT=/tmp/gpu-out bash benchmarks/gpu_check.sh
# DLGRADE_DATA holds MNIST/raw/*.gz (canonical IDX files) and cifar10/ (ImageFolder, or the
# cifar10-jpg-subset.zip, unpacked here). Without a Python environment that has dlgrade, the
# script uses PYTHONPATH=src with the machine's python3 (torch and torchvision must be there).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/dlgrade-gpu}
SEEDS=${SEEDS:-10}
PY=${PY:-python3}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
: "${DLGRADE_DATA:?set DLGRADE_DATA to a folder with MNIST/raw and cifar10}"
if [ -f "$DLGRADE_DATA/cifar10/cifar10-jpg-subset.zip" ] && [ ! -d "$DLGRADE_DATA/cifar10/train" ]; then
  work="$OUT/data"; mkdir -p "$work"; cp -r "$DLGRADE_DATA/MNIST" "$work/" 2>/dev/null
  (cd "$work" && unzip -q -o "$DLGRADE_DATA/cifar10/cifar10-jpg-subset.zip")
  export DLGRADE_DATA="$work"
fi
log() { printf '\n== %s ==\n' "$*" | tee -a "$OUT/gpu_check.log"; }
run() { echo "\$ $*" | tee -a "$OUT/gpu_check.log"; "$@" 2>&1 | tee -a "$OUT/gpu_check.log"; }

log "device"
run nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
run "$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0))"

log "(a) CUDA tests"
run "$PY" -m pytest -m gpu -q -p no:cacheprovider tests

log "(b) calibration, full profile, $SEEDS seeds"
for ex in ablation cifar; do
  run "$PY" -m dlgrade calibrate "$ex" --profile full --seeds "$SEEDS"
  cp "autograder/$ex/thresholds/full.yaml" "$OUT/$ex-full.yaml"
done

log "(c) cifar full profile: reference and two mistake samples"
mkdir -p "$OUT/cifar-subs"
for s in reference softmax_cnn tiny_cnn; do cp "autograder/cifar/samples/$s.ipynb" "$OUT/cifar-subs/"; done
start=$(date +%s.%N)
run "$PY" -m dlgrade grade "$OUT/cifar-subs" -e cifar --profile full --out "$OUT/grade-1" --workers 1 --regrade
end=$(date +%s.%N)
"$PY" - "$OUT/grade-1/cifar" "$start" "$end" <<'PY' | tee -a "$OUT/gpu_check.log"
import json, sys
from pathlib import Path
folder, start, end = Path(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
for p in sorted((folder / "results").glob("*.json")):
    r = json.loads(p.read_text())
    ms = {k: v for q in r["questions"] for k, v in q.get("measurements", {}).items()}
    print(f"{p.stem}: {r['score']}/{r['max_points']} in {r['timings']['total']:.1f} s; "
          f"cnn_accuracy {ms.get('cnn_accuracy')}")
print(f"wall {end - start:.1f} s for the batch (worker start included)")
PY

log "(d) two workers sharing the GPU vs one"
mkdir -p "$OUT/cifar-many"
for i in 1 2 3; do for s in reference softmax_cnn tiny_cnn; do
  cp "autograder/cifar/samples/$s.ipynb" "$OUT/cifar-many/$s-$i.ipynb"; done; done
for w in 1 2; do
  t0=$(date +%s.%N)
  run "$PY" -m dlgrade grade "$OUT/cifar-many" -e cifar --profile full --out "$OUT/many-$w" --workers "$w" \
    --gpu-jobs 2 --regrade
  t1=$(date +%s.%N)
  echo "workers=$w wall=$(echo "$t1 - $t0" | bc) s for 9 submissions" | tee -a "$OUT/gpu_check.log"
done
echo "done: $OUT/gpu_check.log"
