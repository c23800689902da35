#!/usr/bin/env bash
# The GPU checks of issues 4 and 6 as one prepared run (about 8 minutes on an H100/H200):
# training-step throughput and MFU of the real-data configuration at batch 64 in bf16
# (eager and torch.compile), then the profiler's eager/compile x bf16/fp32 table with NVML.
# Usage on the GPU machine, from the repository root: bash benchmarks/gpu/device_check.sh OUTDIR
# (hydra-core, omegaconf, antlr4 and pycocotools wheels in .whl/ are installed to /tmp/site first).
set -uo pipefail
out=${1:?usage: device_check.sh OUTDIR}
mkdir -p "$out/profile"
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site:${PYTHONPATH:-}
fi
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total,power.limit --format=csv | tee "$out/nvidia_smi.csv"
python3 -c "import torch, torchvision, torchaudio; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'torchvision', torchvision.__version__, 'torchaudio', torchaudio.__version__)" | tee "$out/versions.txt"
timeout 240 python3 benchmarks/gpu/train_mfu.py --batch-size 64 --output "$out/train_mfu.json" 2>&1 | tee "$out/train_mfu.log"
timeout 300 python3 benchmarks/gpu/profile_model.py --output "$out/profile" 2>&1 | tee "$out/profile.log"
