#!/usr/bin/env python3
"""Where does a tagger lose a scene's event? (training/CaptionDaemon.Training/Models/README.md, "Scene windows")

  event-probe.py make SCENES SOUNDS OUT   from the single-event test scenes of a 'data scenes' set, write four scene sets
                                          under OUT: scene (the clips as they are), alone (the event's whole recording,
                                          centred, at its own level: what 'eval --recordings' plays), crop (the scene's
                                          crop and repeats of it, at their own level, in digital silence) and level (the
                                          same at the scene's gain): each a Clotho-layout folder with a scenes.jsonl
  event-probe.py count PREDICTIONS SCENES SOUNDS
                                          the events of 'eval --predictions' on one of them, by kind (speech, music,
                                          everyday): share whose label is reported, ranked first, among the five most
                                          probable

Then, per variant: captiond-train eval --bundle B --data OUT/VARIANT --split evaluation --predictions P.jsonl
"""
import array
import csv
import json
import os
import sys
import wave

RATE = 16000


def read(path):
    with wave.open(path) as w:
        return array.array("h", w.readframes(w.getnframes()))


def write(path, samples):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(array.array("h", (max(-32768, min(32767, round(v))) for v in samples)).tobytes())


def make(scenes_dir, sounds_dir, out):
    scenes = [json.loads(l) for l in open(f"{scenes_dir}/scenes.jsonl")]
    singles = [s for s in scenes if s["split"] == "evaluation" and s["kind"] == "single" and len(s["events"]) == 1]
    for variant in ("scene", "alone", "crop", "level"):
        rows = [["file_name"] + [f"caption_{i}" for i in range(1, 6)]]
        for scene in singles:
            event = scene["events"][0]
            length = int(scene["seconds"] * RATE)
            if variant == "scene":
                clip = read(f"{scenes_dir}/evaluation/{scene['file']}")
            else:
                source = read(f"{sounds_dir}/audio/{event['recording_id']}.wav")
                clip = [0.0] * length
                if variant == "alone":
                    whole = source[:length]
                    offset = (length - len(whole)) // 2
                    clip[offset:offset + len(whole)] = whole
                else:
                    gain = 10 ** (event["gain_db"] / 20) if variant == "level" else 1.0
                    start = int(event["source_start"] * RATE)
                    crop = source[start:start + int(event["seconds"] * RATE)]
                    onset = event["onset"]
                    for _ in range(event["repeats"]):
                        at = int(onset * RATE)
                        for i, sample in enumerate(crop[:max(0, length - at)]):
                            clip[at + i] += gain * sample
                        onset += event["seconds"] + event["gap"]
            write(f"{out}/{variant}/evaluation/{scene['file']}", clip)
            rows.append([scene["file"]] + scene["captions"][:5])
        with open(f"{out}/{variant}/clotho_captions_evaluation.csv", "w", newline="") as f:
            csv.writer(f).writerows(rows)
        with open(f"{out}/{variant}/scenes.jsonl", "w") as f:
            f.writelines(json.dumps(s) + "\n" for s in singles)
    print(f"{len(singles)} single-event test scenes -> {out}/{{scene,alone,crop,level}}")


def count(predictions, scenes_dir, sounds_dir):
    scenes = {s["file"]: s for s in map(json.loads, open(f"{scenes_dir}/scenes.jsonl"))}
    group = {e["id"]: e.get("group") for e in map(json.loads, open(f"{sounds_dir}/index.jsonl"))}
    stats = {}
    for p in map(json.loads, open(predictions)):
        scene = scenes.get(p["id"])
        if scene is None:
            continue
        reported = {l["label"] for l in p["labels"]}
        top = [l["label"] for l in p["top_labels"]]
        for event in scene["events"]:
            category = event["category"]
            kind = "speech" if category == "speech" else "music" if group.get(event["recording_id"]) == "MUS" else "everyday"
            s = stats.setdefault(kind, [0, 0, 0, 0])
            s[0] += 1
            s[1] += category in reported
            s[2] += bool(top) and top[0] == category
            s[3] += category in top
    for kind, (n, reported, first, five) in sorted(stats.items()):
        print(f"{kind:9s} events {n:4d}  reported {reported / n:.3f}  first {first / n:.3f}  in the top five {five / n:.3f}")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "make":
        make(*sys.argv[2:])
    elif len(sys.argv) == 5 and sys.argv[1] == "count":
        count(*sys.argv[2:])
    else:
        sys.exit(__doc__)
