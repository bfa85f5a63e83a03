#!/usr/bin/env python3
"""Figures of an incremental update that taught new sounds (Incremental/README.md, "Demo").

Usage: incremental-demo-check.py BUNDLE NEW_MIXES_PREDICTIONS NEW_MIXES_DIR OLD_SCENES_PREDICTIONS OLD_SCENES_DIR

NEW_MIXES_* are 'eval --predictions' of other mixes of the taught categories and their 'data scenes' folder;
OLD_SCENES_* the same for the base's test scenes (split 'evaluation'). The taught categories are the bundle's
training.incremental.taught_labels; a caption names one when it has one of the label's words (manifest 'words').
Prints, for the new mixes: captions naming their taught sound, how many of those a daemon publishes at the bundle's
min_confidence, and windows whose taught label is reported; for the old scenes: captions naming a taught sound the
scene does not hold, and taught labels reported where their sound is absent.
"""
import json
import sys


def events(folder, split=None):
    result = {}
    with open(f"{folder}/scenes.jsonl") as f:
        for line in f:
            scene = json.loads(line)
            if split is None or scene["split"] == split:
                result[scene["file"]] = {e["category"] for e in scene["events"]}
    return result


def predictions(path, scenes):
    with open(path) as f:
        return [(scenes[p["id"]], p) for p in map(json.loads, f) if p["id"] in scenes]


def main(bundle, new_predictions, new_dir, old_predictions, old_dir):
    manifest = json.load(open(f"{bundle}/manifest.json"))
    taught = manifest["training"]["incremental"].get("taught_labels", [])
    words = {l["name"]: set(l.get("words") or [l["name"]]) for l in manifest["labels"] if l["name"] in taught}
    minimum = (manifest.get("confidence") or {}).get("min_confidence", 0)

    def named(caption, label):
        return bool(words[label] & set(caption.split()))

    def reported(prediction, label):
        return any(l["label"] == label for l in prediction["labels"])

    new = predictions(new_predictions, events(new_dir))
    hits = [p for cats, p in new if any(named(p["caption"], l) for l in cats if l in words)]
    published = [p for p in hits if p["confidence"] >= minimum]
    labelled = [p for cats, p in new if any(reported(p, l) for l in cats if l in words)]
    print(f"taught labels {', '.join(taught)}; min_confidence {minimum}")
    print(f"new mixes: {len(hits)} of {len(new)} captions name their taught sound, {len(published)} of them published; "
          f"its label reported in {len(labelled)}")
    old = predictions(old_predictions, events(old_dir, "evaluation"))
    false_mentions = [p for cats, p in old if any(named(p["caption"], l) for l in words if l not in cats)]
    false_labels = sum(reported(p, l) for cats, p in old for l in words if l not in cats)
    print(f"old scenes: {len(false_mentions)} of {len(old)} captions name a taught sound the scene lacks "
          f"({sum(p['confidence'] >= minimum for p in false_mentions)} published); {false_labels} taught labels reported where their sound is absent")


if __name__ == "__main__":
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    main(*sys.argv[1:])
