#!/usr/bin/env bash
# Reproduces models/default from nothing: fetch the Debian recordings, generate the scene data set, train the
# student, export the bundle, evaluate it through the inference library, and copy a few test clips as samples.
# Usage: training/reproduce-default.sh [WORK_DIR]   (default WORK_DIR: ~/.cache/captiond/reproduce-default)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/captiond/reproduce-default}"
mkdir -p "$work"

dotnet build -c Release "$repo/training/CaptionDaemon.Training" >/dev/null
train="$repo/training/CaptionDaemon.Training/bin/Release/net10.0/captiond-train"

"$train" data fetch --out "$work/sounds"
"$train" data scenes --sounds "$work/sounds" --out "$work/scenes" --clips 4000 --seed 1 --val-fraction 0.1 --test-fraction 0.1
"$train" train --data "$work/scenes" --out "$work/run" --epochs 3 --lr 0.001 --threads 2 --seed 1
# The recordings' attributions travel with the weights: export copies a checkpoint's NOTICE into the bundle.
cp "$work/scenes/NOTICE" "$work/run/best/NOTICE"
"$train" export --checkpoint "$work/run/best" --out "$repo/models/default" --name student-scenes-v1 --force
"$train" eval --bundle "$repo/models/default" --data "$work/scenes" --json "$repo/models/default/eval.json"

# A few test-split scenes ship with the model: the daemon's demo source and the inference benchmark play them.
mkdir -p "$repo/models/default/samples"
ls "$work/scenes/evaluation" | sort | head -n 8 | while read -r f; do cp "$work/scenes/evaluation/$f" "$repo/models/default/samples/$f"; done
