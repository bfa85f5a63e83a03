using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using CaptionDaemon.Inference;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Data.Scenes;
using CaptionDaemon.Training.Incremental;
using CaptionDaemon.Training.Reporting;

namespace CaptionDaemon.Training.Evaluation;

/// <summary>
/// <c>captiond-train eval</c>: captions a Clotho-layout split with an exported bundle through the same inference
/// library the daemon uses, and reports the caption metrics plus decoding speed (and, for a generated scene set, the
/// share of events the captions name); or, with <c>--recordings</c>, captions labelled recordings one at a time and
/// reports whether the model tells them apart and keeps quiet on quiet clips (<see cref="RecordingEvaluation"/>).
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var bundleOption = new Option<DirectoryInfo>("--bundle") { Description = "Bundle folder (manifest.json + ONNX graphs).", Required = true };
        var dataOption = new Option<DirectoryInfo?>("--data") { Description = "Clotho-layout data folder." };
        var recordingsOption = new Option<FileInfo?>("--recordings")
        {
            Description = "A list of labelled recordings (path<TAB>category per line, paths relative to the list): caption each alone as one window and report isolated_recall, distinct_caption_ratio, top_caption_share, expected_calibration_error and quiet_false_alarms (at the bundle's recommended min_confidence).",
        };
        var splitOption = new Option<string>("--split") { Description = "Split to caption.", DefaultValueFactory = _ => ClothoDataset.Evaluation };
        var jsonOption = new Option<FileInfo?>("--json") { Description = "Write the printed JSON (the metrics) to this file." };
        var beamOption = new Option<int>("--beam") { Description = "Beam size (1 = greedy).", DefaultValueFactory = _ => 3 };
        var fusionOption = new Option<double?>("--label-fusion")
        {
            Description = "Label fusion weight (0 = off); default: the bundle's label_fusion. Words of the labels the tagger reports get weight x probability added to their log-probability.",
        };
        var noRepeatOption = new Option<int>("--no-repeat-ngram")
        {
            Description = "A caption never says the same run of this many words twice (0 = off), as the daemon decodes.",
            DefaultValueFactory = _ => DecodeOptions.Default.NoRepeatNgram,
        };
        var lengthPenaltyOption = new Option<double>("--length-penalty")
        {
            Description = "Exponent alpha of the length normalisation: captions rank by log-probability / length^alpha (0 favours short ones).",
            DefaultValueFactory = _ => DecodeOptions.Default.LengthPenalty,
        };
        var batchOption = new Option<int>("--batch-size") { Description = "Windows per inference batch.", DefaultValueFactory = _ => 16 };
        var threadsOption = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0 = all cores).", DefaultValueFactory = _ => 0 };
        var maxClipsOption = new Option<int?>("--max-clips") { Description = "Caption only the first N clips." };
        var predictionsOption = new Option<FileInfo?>("--predictions") { Description = "Write one JSON line per clip: id, caption, confidence, labels (above their thresholds, with scores), top_labels (the 5 most probable, thresholds aside), references." };
        var teacherOption = new Option<DirectoryInfo?>("--teacher")
        {
            Description = "A teacher bundle: caption the split with it too, time both models side by side (one test window decoded to the references' mean caption length; beam 3, batch 1, 1 thread) and report speedup_vs_teacher.",
        };
        var soundsOption = new Option<DirectoryInfo?>("--sounds")
        {
            Description = "The sounds folder of 'data fetch' the model trained on: recall is also reported by how many train recordings the category has (event_recall_by_training_recordings with --data, isolated_recall_by_training_recordings with --recordings).",
        };
        var minConfidenceOption = new Option<double?>("--min-confidence")
        {
            Description = "With --recordings: count quiet false alarms (and isolated_recall_at_min_confidence) at this minimum confidence instead of the bundle's recommended one (or 0 without one), as the daemon's Captions:MinConfidence would.",
        };
        var recordOption = new Option<bool>("--record")
        {
            Description = "Write the results into the bundle's manifest.json: training.metrics (and with --teacher training.teacher.metrics, training.speedup_vs_teacher).",
        };

        var command = new Command("eval", "Caption a data split with a bundle and print BLEU, ROUGE-L, CIDEr-D and ms per clip; or caption labelled recordings (--recordings) and print whether the model tells them apart.");
        foreach (var option in new Option[] { bundleOption, dataOption, recordingsOption, splitOption, jsonOption, beamOption, fusionOption, noRepeatOption, lengthPenaltyOption, batchOption, threadsOption, maxClipsOption, predictionsOption, teacherOption, recordOption, minConfidenceOption, soundsOption })
        {
            command.Options.Add(option);
        }

        command.Validators.Add(result =>
        {
            var hasData = result.GetResult(dataOption) is not null;
            var hasRecordings = result.GetResult(recordingsOption) is not null;
            if (hasData == hasRecordings)
            {
                result.AddError("Give exactly one of --data (a Clotho-layout split) and --recordings (a path<TAB>category list).");
            }

            if (hasRecordings)
            {
                foreach (var option in new Option[] { splitOption, maxClipsOption, predictionsOption, teacherOption, recordOption })
                {
                    if (result.GetResult(option) is not null)
                    {
                        result.AddError($"{option.Name} applies to --data only; --recordings captions every listed recording.");
                    }
                }
            }

            if (!hasRecordings && result.GetResult(minConfidenceOption) is not null)
            {
                result.AddError("--min-confidence applies to --recordings only.");
            }

            if (result.GetValue(minConfidenceOption) is { } min && !(min is >= 0 and <= 1))
            {
                result.AddError("--min-confidence must be between 0 and 1.");
            }

            if (result.GetValue(recordOption) && result.GetValue(maxClipsOption) is not null)
            {
                result.AddError("--record writes the bundle's test metrics, which need the whole split: leave out --max-clips.");
            }

            if (result.GetValue(fusionOption) is { } fusion && !(double.IsFinite(fusion) && fusion >= 0))
            {
                result.AddError("--label-fusion must be a finite number, 0 or more.");
            }

            if (!(result.GetValue(lengthPenaltyOption) is var alpha && double.IsFinite(alpha) && alpha >= 0))
            {
                result.AddError("--length-penalty must be a finite number, 0 or more.");
            }

            if (result.GetValue(noRepeatOption) < 0)
            {
                result.AddError("--no-repeat-ngram must be 0 (off) or a positive word count.");
            }

            if (result.GetValue(recordOption)
                && (result.GetValue(noRepeatOption) != DecodeOptions.Default.NoRepeatNgram || result.GetValue(lengthPenaltyOption) != DecodeOptions.Default.LengthPenalty))
            {
                result.AddError("--record writes the bundle's test metrics, which are those of the daemon's decoding: leave out --no-repeat-ngram and --length-penalty.");
            }

            if (result.GetValue(recordOption) && result.GetValue(fusionOption) is not null)
            {
                result.AddError("--record writes the bundle's test metrics, which are those of its own label_fusion: leave out --label-fusion.");
            }
        });
        command.SetAction((parse, cancellationToken) =>
        {
            var bundle = parse.GetValue(bundleOption)!.FullName;
            var settings = new EvalSettings(parse.GetValue(beamOption), parse.GetValue(batchOption), parse.GetValue(threadsOption), parse.GetValue(maxClipsOption), parse.GetValue(fusionOption))
            {
                NoRepeatNgram = parse.GetValue(noRepeatOption),
                LengthPenalty = parse.GetValue(lengthPenaltyOption),
            };
            var coverage = parse.GetValue(soundsOption) is { } sounds ? TrainingCoverage.Load(sounds.FullName, cancellationToken) : null;
            if (parse.GetValue(recordingsOption) is { } list)
            {
                var report = RecordingEvaluation.Run(
                    bundle, RecordingList.Load(list.FullName), CategoryNames.LoadBundled(), settings, parse.GetValue(minConfidenceOption), cancellationToken);
                report.WriteSummary(Console.Error);
                var reportJson = report.ToJson();
                if (coverage is not null)
                {
                    reportJson["isolated_recall_by_training_recordings"] = coverage.Breakdown(
                        [.. report.Recordings.Select(r => new NamedSound(r.Recording.Category, r.Named))], "recordings", "isolated_recall");
                }

                WriteJson(reportJson, parse.GetValue(jsonOption));
                return Task.FromResult(0);
            }

            var request = new EvalRequest(
                bundle,
                parse.GetValue(dataOption)!.FullName,
                parse.GetValue(splitOption)!,
                settings,
                parse.GetValue(teacherOption)?.FullName);
            var result = Run(request, parse.GetValue(predictionsOption)?.FullName, cancellationToken);
            var json = result.ToJson();
            if (coverage is not null && result.Student.Events is { } events)
            {
                json["event_recall_by_training_recordings"] = coverage.Breakdown(events, "events", "event_recall");
            }

            WriteJson(json, parse.GetValue(jsonOption));

            if (parse.GetValue(recordOption))
            {
                RecordInManifest(bundle, request, result);
                Console.Error.WriteLine($"recorded the results in {Path.Combine(bundle, BundleManifest.FileName)}");
            }

            return Task.FromResult(0);
        });
        return command;
    }

    private static void WriteJson(JsonObject result, FileInfo? file)
    {
        var json = result.ToJsonString(_indentedJson);
        Console.WriteLine(json);
        if (file is not null)
        {
            File.WriteAllText(file.FullName, json);
        }
    }

    /// <summary>Median of this many timed runs per model for <c>--teacher</c>.</summary>
    internal const int TimingRepeats = 7;

    internal sealed record EvalRequest(string Bundle, string Data, string Split, EvalSettings Settings, string? Teacher);

    /// <summary>Both models timed on one window decoded to the same caption length (beam 3, batch 1, 1 thread).</summary>
    internal sealed record Latency(int Words, double MsPerClip, double TeacherMsPerClip)
    {
        /// <summary>The ratio of the two reported (rounded) times, so a reader can check it.</summary>
        public double SpeedupVsTeacher => Math.Round(TeacherMsPerClip / MsPerClip, 3);
    }

    /// <summary>The bundle's evaluation and, with a teacher, the teacher's on the same split and the two models' latency.</summary>
    internal sealed record Comparison(EvalResult Student, EvalResult? Teacher, Latency? Latency)
    {
        /// <summary>The keys of <see cref="EvalResult.ToJson"/>; with a teacher also <c>teacher</c>, <c>latency</c> and <c>speedup_vs_teacher</c>.</summary>
        public JsonObject ToJson()
        {
            var json = Student.ToJson();
            if (Teacher is not null && Latency is { } latency)
            {
                json["teacher"] = Teacher.ToJson();
                json["latency"] = new JsonObject
                {
                    ["words"] = latency.Words,
                    ["beam"] = DecodeOptions.Default.Beam,
                    ["threads"] = 1,
                    ["ms_per_clip"] = latency.MsPerClip,
                    ["teacher_ms_per_clip"] = latency.TeacherMsPerClip,
                };
                json["speedup_vs_teacher"] = latency.SpeedupVsTeacher;
            }

            return json;
        }
    }

    /// <summary>Scores the bundle; with a teacher, scores the teacher on the same split and times both models.</summary>
    internal static Comparison Run(EvalRequest request, string? predictionsPath, CancellationToken cancellationToken)
    {
        var student = Evaluate(request.Bundle, request.Data, request.Split, request.Settings, predictionsPath, cancellationToken);
        if (request.Teacher is not { } teacher)
        {
            return new Comparison(student, null, null);
        }

        var teacherResult = Evaluate(teacher, request.Data, request.Split, request.Settings, null, cancellationToken);
        var clip = TimingClip.From(request.Data, cancellationToken);
        var studentMs = Math.Round(TimingClip.MillisecondsPerClip(request.Bundle, clip, TimingRepeats, cancellationToken), 3);
        var teacherMs = Math.Round(TimingClip.MillisecondsPerClip(teacher, clip, TimingRepeats, cancellationToken), 3);
        return new Comparison(student, teacherResult, new Latency(clip.Words, studentMs, teacherMs));
    }

    /// <summary>
    /// Writes a <see cref="Comparison"/> into the bundle's manifest (the <c>training</c> section the exporter copied from
    /// the checkpoint): the test metrics with their split and decoding, and with a teacher its metrics on the same split
    /// and decoding, and the speed-up. The graphs' hashes do not cover the manifest, so the bundle stays valid.
    /// </summary>
    internal static void RecordInManifest(string bundle, EvalRequest request, Comparison result)
    {
        var path = Path.Combine(bundle, BundleManifest.FileName);
        var manifest = JsonNode.Parse(File.ReadAllText(path))?.AsObject()
            ?? throw new InvalidDataException($"{path}: the manifest is not a JSON object.");
        if (manifest["training"] is not JsonObject training)
        {
            manifest["training"] = training = new JsonObject();
        }

        var decoding = $"beam {request.Settings.Beam}";
        SetMetrics(training, result.Student.Scores, request.Split, decoding);
        if (result.Teacher is not null && result.Latency is { } latency)
        {
            if (training["teacher"] is not JsonObject teacher)
            {
                training["teacher"] = teacher = new JsonObject { ["path"] = request.Teacher is { } teacherPath ? RecordedPaths.Current.Record(teacherPath) : null };
            }

            SetMetrics(teacher, result.Teacher.Scores, request.Split, decoding);
            teacher["ms_per_clip"] = latency.TeacherMsPerClip;
            training["ms_per_clip"] = latency.MsPerClip;
            training["speedup_vs_teacher"] = latency.SpeedupVsTeacher;
            training["speed_measured_on"] = $"one window of {request.Split}, {latency.Words} words, beam {DecodeOptions.Default.Beam}, batch 1, 1 thread";
        }

        var staging = path + ".writing";
        File.WriteAllText(staging, manifest.ToJsonString(_indentedJson));
        File.Move(staging, path, overwrite: true);
    }

    private static void SetMetrics(JsonObject target, CaptionScores scores, string split, string decoding)
    {
        target["metrics"] = JsonNode.Parse(scores.ToJson());
        target["metrics_split"] = split;
        target["metrics_decoding"] = decoding;
    }

    private static readonly JsonSerializerOptions _indentedJson = new() { WriteIndented = true };

    internal sealed record EvalSettings(int Beam, int BatchSize, int Threads, int? MaxClips, double? LabelFusion = null)
    {
        public int NoRepeatNgram { get; init; } = DecodeOptions.Default.NoRepeatNgram;

        public double LengthPenalty { get; init; } = DecodeOptions.Default.LengthPenalty;

        /// <summary>The search settings: the beam, and the label fusion weight (null: the bundle's).</summary>
        public DecodeOptions Decode => new() { Beam = Beam, LabelFusion = LabelFusion, NoRepeatNgram = NoRepeatNgram, LengthPenalty = LengthPenalty };
    }

    /// <summary>The metrics of one bundle on one split.</summary>
    /// <param name="Scores">BLEU, ROUGE-L and CIDEr-D of the captions.</param>
    /// <param name="MsPerClip">Inference time per clip, audio decoding not counted.</param>
    /// <param name="Clips">Clips captioned.</param>
    /// <param name="Events">Every scene event of the split and whether its caption names it; null without scene metadata or events.</param>
    /// <param name="Labels">What the tagger reported in the scenes (<see cref="LabelScores"/>); null without scene metadata or labels.</param>
    internal sealed record EvalResult(
        CaptionScores Scores, double MsPerClip, int Clips, IReadOnlyList<NamedSound>? Events = null, SceneLabelScores? Labels = null)
    {
        /// <summary>Share of the split's scene events that their clip's caption names; null without events.</summary>
        public double? EventRecall => Events is null ? null : EvalCommand.EventRecall(Events);

        /// <summary>
        /// The score keys of <see cref="CaptionScores"/> plus <c>ms_per_clip</c> and, for scene sets, <c>event_recall</c>,
        /// <c>label_recall</c> and <c>label_precision</c>.
        /// </summary>
        public JsonObject ToJson()
        {
            var json = JsonNode.Parse(Scores.ToJson())!.AsObject();
            json["ms_per_clip"] = Math.Round(MsPerClip, 3);
            if (EventRecall is { } eventRecall)
            {
                json["event_recall"] = Math.Round(eventRecall, 4);
            }

            if (Labels is { } labels)
            {
                json["label_recall"] = Math.Round(labels.Recall, 4);
                json["label_precision"] = Math.Round(labels.Precision, 4);
            }

            return json;
        }
    }

    /// <summary>The labels a bundle reports in scenes, against what the scenes hold.</summary>
    /// <param name="Recall">Share of the events whose category is one of the bundle's labels that their clip reports (above its threshold).</param>
    /// <param name="Precision">Share of the reported labels that name something the clip holds: an event, its background, or "nothing" in a quiet clip (1 when none is reported).</param>
    /// <param name="Events">Events with a label, the denominator of <paramref name="Recall"/>.</param>
    /// <param name="Reported">Labels reported over all clips, the denominator of <paramref name="Precision"/>.</param>
    internal sealed record SceneLabelScores(double Recall, double Precision, int Events, int Reported);

    /// <summary>
    /// Whether the tagger hears the scenes' events: <see cref="SceneLabelScores"/> from each clip's reported labels and the
    /// categories it holds (<see cref="SceneEvents.TryLoadCategories"/>); null when no clip's event has a label.
    /// </summary>
    internal static SceneLabelScores? LabelScores(
        IReadOnlyList<string> clipIds,
        IReadOnlyList<IReadOnlyList<string>> reported,
        IReadOnlyDictionary<string, IReadOnlyList<ClipEvent>> events,
        IReadOnlyDictionary<string, IReadOnlyList<string>> heard,
        IReadOnlyCollection<string> labels)
    {
        var known = labels.ToHashSet(StringComparer.Ordinal);
        var (total, found, reportedCount, right) = (0, 0, 0, 0);
        for (var i = 0; i < clipIds.Count; i++)
        {
            // A clip the scene set does not list (not generated) is left out of both figures.
            if (!heard.TryGetValue(clipIds[i], out var holds))
            {
                continue;
            }

            var said = reported[i].ToHashSet(StringComparer.Ordinal);
            foreach (var clipEvent in events.GetValueOrDefault(clipIds[i], []).Where(e => known.Contains(e.Category)))
            {
                total++;
                found += said.Contains(clipEvent.Category) ? 1 : 0;
            }

            reportedCount += said.Count;
            right += said.Count(holds.Contains);
        }

        return total == 0 ? null : new SceneLabelScores((double)found / total, reportedCount == 0 ? 1 : (double)right / reportedCount, total, reportedCount);
    }

    /// <summary>
    /// The events of the clips (from a scene set's <c>scenes.jsonl</c>, keyed by clip id), each with whether the clip's
    /// caption names it by the synonym table; backgrounds are not events.
    /// </summary>
    internal static List<NamedSound> NamedEvents(
        IReadOnlyList<string> clipIds, IReadOnlyList<string> captions, IReadOnlyDictionary<string, IReadOnlyList<ClipEvent>> events, CategoryNames names)
    {
        var named = new List<NamedSound>();
        for (var i = 0; i < clipIds.Count; i++)
        {
            if (events.TryGetValue(clipIds[i], out var clipEvents))
            {
                named.AddRange(clipEvents.Select(e => new NamedSound(e.Category, names.Names(captions[i], e.Category))));
            }
        }

        return named;
    }

    /// <summary>Share of the events that their caption names (<see cref="NamedEvents"/>); null when there are none.</summary>
    internal static double? EventRecall(IReadOnlyList<NamedSound> events) => events.Count == 0 ? null : (double)events.Count(e => e.Named) / events.Count;

    /// <summary>
    /// Captions every clip of the split (first window of each clip, zero-padded when shorter) and scores the
    /// captions against the clip's references. <c>MsPerClip</c> counts inference only, not audio decoding.
    /// </summary>
    internal static EvalResult Evaluate(string bundleDir, string dataDir, string split, EvalSettings settings, string? predictionsPath, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Beam, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.BatchSize, 1);
        var clips = ClothoDataset.Load(dataDir, split, cancellationToken);
        if (settings.MaxClips is { } max)
        {
            clips = clips.Take(max).ToList();
        }

        if (clips.Count == 0)
        {
            throw new InvalidDataException($"{ClothoDataset.CaptionsPath(dataDir, split)} lists no clips.");
        }

        using var bundle = CaptionBundle.Load(bundleDir, new CaptionerOptions { IntraOpThreads = settings.Threads });
        using var captioner = bundle.CreateCaptioner();
        var window = bundle.WindowSamples;
        var options = settings.Decode;
        var outcomes = new CaptionResult[clips.Count];
        var batch = new float[settings.BatchSize * window];
        var inference = new Stopwatch();
        for (var start = 0; start < clips.Count; start += settings.BatchSize)
        {
            var count = Math.Min(settings.BatchSize, clips.Count - start);
            Array.Clear(batch);
            Parallel.For(0, count, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
            {
                var samples = AudioDecoder.Decode(clips[start + i].AudioPath, bundle.Manifest.SampleRate, cancellationToken);
                samples.AsSpan(0, Math.Min(samples.Length, window)).CopyTo(batch.AsSpan(i * window, window));
            });

            inference.Start();
            var results = captioner.Caption(batch.AsSpan(0, count * window), count, options, cancellationToken);
            inference.Stop();
            for (var i = 0; i < count; i++)
            {
                outcomes[start + i] = results[i];
            }

            Console.Error.Write($"\reval {split}: {start + count}/{clips.Count} clips");
        }

        Console.Error.WriteLine();
        var candidates = outcomes.Select(o => o.Text).ToList();
        var references = clips.Select(c => c.Captions).ToList();
        var scores = CaptionMetrics.Compute(candidates, references);
        if (predictionsPath is not null)
        {
            using var writer = new StreamWriter(predictionsPath);
            for (var i = 0; i < clips.Count; i++)
            {
                var outcome = outcomes[i];
                writer.WriteLine(JsonSerializer.Serialize(new
                {
                    id = clips[i].Id,
                    caption = outcome.Text,
                    confidence = Math.Round(outcome.Confidence, 4),
                    labels = outcome.Labels.Select(l => new { label = l.Label, score = Math.Round(l.Score, 4) }),
                    top_labels = LabelProbability.Top(outcome.LabelProbabilities, bundle.Manifest.Labels, HearingReport.TopLabelCount)
                        .Select(l => new { label = l.Label, probability = Math.Round(l.Probability, 4) }),
                    references = clips[i].Captions,
                }));
            }
        }

        var ids = clips.Select(c => c.Id).ToList();
        var events = SceneEvents.TryLoad(dataDir);
        var namedEvents = events is null ? [] : NamedEvents(ids, candidates, events, CategoryNames.LoadBundled());
        SceneLabelScores? labelScores = null;
        if (events is null)
        {
            Console.Error.WriteLine($"event_recall left out: {dataDir} has no {SceneSetBuilder.ScenesFileName} (only generated scene sets list their events).");
        }
        else if (namedEvents.Count == 0)
        {
            Console.Error.WriteLine($"event_recall left out: {SceneSetBuilder.ScenesFileName} lists no events for the clips of {split}.");
        }
        else if (bundle.Manifest.Labels.Count > 0)
        {
            labelScores = LabelScores(
                ids,
                [.. outcomes.Select(o => (IReadOnlyList<string>)[.. o.Labels.Select(l => l.Label)])],
                events,
                SceneEvents.TryLoadCategories(dataDir, Tagging.TaggingSet.Nothing)!,
                [.. bundle.Manifest.Labels.Select(l => l.Name)]);
        }

        return new EvalResult(scores, inference.Elapsed.TotalMilliseconds / clips.Count, clips.Count, namedEvents.Count == 0 ? null : namedEvents, labelScores);
    }
}
