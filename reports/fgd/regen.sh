#!/bin/sh
# Regenerates reports/fgd/: the FGD paper's experiment (six policies × seeds 42..51, inflation to
# 130 % of GPU capacity) on the openb default, cpu050, gpushare100, multigpu50 and gpuspec33
# traces over the 1,213 GPU nodes. One command; about a minute on 2 cores (release build).
#   DATA: the trace folder (default ../shared/data/alibaba-gpu-v2023/csv)
set -eu
cd "$(dirname "$0")/../.."
DATA=${DATA:-../shared/data/alibaba-gpu-v2023/csv}

OUT=reports/fgd
rm -rf "$OUT/runs"
cargo run --release --quiet -- replay --format openb \
  --pods "$DATA/openb_pod_list_default.csv" \
  --pods "$DATA/openb_pod_list_cpu050.csv" \
  --pods "$DATA/openb_pod_list_gpushare100.csv" \
  --pods "$DATA/openb_pod_list_multigpu50.csv" \
  --pods "$DATA/openb_pod_list_gpuspec33.csv" \
  --nodes "$DATA/openb_node_list_gpu_node.csv" \
  --policies random,dot-product,gpu-clustering,gpu-packing,best-fit,fgd \
  --seeds 42..51 --inflate 1.3 --quiet --out "$OUT/runs"
for f in table.md table.csv results.csv curves.csv; do cp "$OUT/runs/$f" "$OUT/$f"; done
cp "$OUT"/runs/alloc_curve_*.svg "$OUT/"
rm -rf "$OUT/runs"
