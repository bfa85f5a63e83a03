#!/usr/bin/env bash
# One command on a machine with an NVIDIA GPU (driver, CUDA 13 and cuDNN 9; see the README's GPU section):
#   tests/CaptionDaemon.Benchmarks/gpu-check.sh [OUT_DIR]
# builds the Gpu flavour, then on the shipped model (models/default):
#   1. the provider in use must be CUDA (--provider cuda fails instead of falling back to the CPU);
#   2. parity with the CPU: captions of the model's sample clips identical, label probabilities within 1e-3;
#   3. windows per second at batch 1, 32 and 128 (greedy and beam 3), and 64 real-time streams through the pipeline.
# Figures go to OUT_DIR (default gpu-check/) as JSON. About 3 minutes on 16 cores, most of it the build.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-gpu-check}"
mkdir -p "$out"

command -v nvidia-smi >/dev/null || { echo "gpu-check: no nvidia-smi here: it needs an NVIDIA GPU with its driver" >&2; exit 1; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
dotnet build -c Release -p:OnnxRuntimeFlavor=Gpu tests/CaptionDaemon.Benchmarks -v quiet -nologo
bench=tests/CaptionDaemon.Benchmarks/bin/gpu/Release/net10.0/CaptionDaemon.Benchmarks

# Exit 1 when parity fails; exit non-zero when CUDA cannot be used (the message names the missing library).
"$bench" inference --bundle models/default --provider cuda --parity --skip-torchsharp \
  --batches 1 32 128 --seconds 5 --json "$out/inference.json"
"$bench" streams --provider cuda --streams 64 --duration 40 --warmup 10 --json "$out/streams.json"
echo "gpu-check: passed; figures in $out/"
