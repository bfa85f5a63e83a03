#!/usr/bin/env bash
# Reproduces models/default from nothing: fetch the Debian recordings, generate the scene data set and as many again
# audio-only scenes, train the teacher, distil the student from it (supervised + sequence-level KD on the labelled
# scenes, sequence-level KD on the audio-only ones), export the bundle, evaluate it and its teacher side by side through
# the inference library (recorded in the manifest), and copy a few test clips as samples.
# Usage: training/reproduce-default.sh [WORK_DIR]   (default WORK_DIR: ~/.cache/captiond/reproduce-default)
# Cost on 2 cores: about 3 h for the teacher (3 epochs of 200 steps over 3200 clips, 14-19 s per step), 12 min for
# its targets (beam-3 captions of 6400 clips), 80 min to distil (600 steps of 16 labelled + 16 audio-only clips).
# Every stage can be stopped and the script run again: 'train' and 'distill' resume from their last checkpoint (saved
# every 15 minutes), and 'distill' reuses the teacher targets it cached.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/captiond/reproduce-default}"
mkdir -p "$work"

dotnet build -c Release "$repo/training/CaptionDaemon.Training" >/dev/null
train="$repo/training/CaptionDaemon.Training/bin/Release/net10.0/captiond-train"

"$train" data fetch --out "$work/sounds"
"$train" data scenes --sounds "$work/sounds" --out "$work/scenes" --clips 4000 --seed 1 --val-fraction 0.1 --test-fraction 0.1
# The same seed and fractions assign every recording to the same split, and clip i of a split depends only on the seed,
# the split and i: the larger set's first 3200 development clips are those of 'scenes', and the 3200 after them are new
# mixes of the development recordings only. Those are the audio-only data; no test recording reaches training.
"$train" data scenes --sounds "$work/sounds" --out "$work/scenes-8000" --clips 8000 --seed 1 --val-fraction 0.1 --test-fraction 0.1
mkdir -p "$work/audio-only"
find "$work/scenes-8000/development" -name 'dev_*.wav' | sort | tail -n +3201 | while read -r f; do ln -sf "$f" "$work/audio-only/"; done

resume() { [ -f "$1/last/training.json" ] && echo --resume || true; }
"$train" train --size teacher --data "$work/scenes" --out "$work/teacher" --epochs 3 --batch-size 16 --lr 0.0005 --threads 2 --seed 1 $(resume "$work/teacher")
"$train" export --checkpoint "$work/teacher/best" --out "$work/teacher-bundle" --name teacher-scenes-v1 --force
"$train" distill --teacher "$work/teacher" --data "$work/scenes" --out "$work/student" --unlabelled "$work/audio-only" \
  --seq-kd 1 --enc-kd none --epochs 3 --batch-size 16 --lr 0.001 --threads 2 --seed 1 $(resume "$work/student")
# The recordings' attributions travel with the weights: export copies a checkpoint's NOTICE into the bundle.
cp "$work/scenes/NOTICE" "$work/student/best/NOTICE"
"$train" export --checkpoint "$work/student/best" --out "$repo/models/default" --name student-scenes-v2 --force
"$train" eval --bundle "$repo/models/default" --data "$work/scenes" --teacher "$work/teacher-bundle" --record --json "$repo/models/default/eval.json"

# A few test-split scenes ship with the model: the daemon's demo source and the inference benchmark play them.
mkdir -p "$repo/models/default/samples"
ls "$work/scenes/evaluation" | sort | head -n 8 | while read -r f; do cp "$work/scenes/evaluation/$f" "$repo/models/default/samples/$f"; done
