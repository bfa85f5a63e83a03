using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using CaptionDaemon.Inference;
using CaptionDaemon.Training.Data;

namespace CaptionDaemon.Training.Evaluation;

/// <summary>
/// <c>captiond-train eval</c>: captions a Clotho-layout split with an exported bundle through the same inference
/// library the daemon uses, and reports the caption metrics plus decoding speed.
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var bundleOption = new Option<DirectoryInfo>("--bundle") { Description = "Bundle folder (manifest.json + ONNX graphs).", Required = true };
        var dataOption = new Option<DirectoryInfo>("--data") { Description = "Clotho-layout data folder.", Required = true };
        var splitOption = new Option<string>("--split") { Description = "Split to caption.", DefaultValueFactory = _ => ClothoDataset.Evaluation };
        var jsonOption = new Option<FileInfo?>("--json") { Description = "Write the metrics and ms_per_clip to this file." };
        var beamOption = new Option<int>("--beam") { Description = "Beam size (1 = greedy).", DefaultValueFactory = _ => 3 };
        var batchOption = new Option<int>("--batch-size") { Description = "Windows per inference batch.", DefaultValueFactory = _ => 16 };
        var threadsOption = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0 = all cores).", DefaultValueFactory = _ => 0 };
        var maxClipsOption = new Option<int?>("--max-clips") { Description = "Caption only the first N clips." };
        var predictionsOption = new Option<FileInfo?>("--predictions") { Description = "Write one JSON line per clip: id, caption, references." };

        var command = new Command("eval", "Caption a data split with a bundle and print BLEU, ROUGE-L, CIDEr-D and ms per clip.");
        foreach (var option in new Option[] { bundleOption, dataOption, splitOption, jsonOption, beamOption, batchOption, threadsOption, maxClipsOption, predictionsOption })
        {
            command.Options.Add(option);
        }

        command.SetAction((parse, cancellationToken) =>
        {
            var result = Evaluate(
                parse.GetValue(bundleOption)!.FullName,
                parse.GetValue(dataOption)!.FullName,
                parse.GetValue(splitOption)!,
                new EvalSettings(parse.GetValue(beamOption), parse.GetValue(batchOption), parse.GetValue(threadsOption), parse.GetValue(maxClipsOption)),
                parse.GetValue(predictionsOption)?.FullName,
                cancellationToken);
            var json = result.ToJson().ToJsonString(_indentedJson);
            Console.WriteLine(json);
            if (parse.GetValue(jsonOption) is { } file)
            {
                File.WriteAllText(file.FullName, json);
            }

            return Task.FromResult(0);
        });
        return command;
    }

    private static readonly JsonSerializerOptions _indentedJson = new() { WriteIndented = true };

    internal sealed record EvalSettings(int Beam, int BatchSize, int Threads, int? MaxClips);

    internal sealed record EvalResult(CaptionScores Scores, double MsPerClip, int Clips)
    {
        /// <summary>The score keys of <see cref="CaptionScores"/> plus <c>ms_per_clip</c>.</summary>
        public JsonObject ToJson()
        {
            var json = JsonNode.Parse(Scores.ToJson())!.AsObject();
            json["ms_per_clip"] = Math.Round(MsPerClip, 3);
            return json;
        }
    }

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
        var options = new DecodeOptions { Beam = settings.Beam };
        var candidates = new string[clips.Count];
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
                candidates[start + i] = results[i].Text;
            }

            Console.Error.Write($"\reval {split}: {start + count}/{clips.Count} clips");
        }

        Console.Error.WriteLine();
        var references = clips.Select(c => c.Captions).ToList();
        var scores = CaptionMetrics.Compute(candidates, references);
        if (predictionsPath is not null)
        {
            using var writer = new StreamWriter(predictionsPath);
            for (var i = 0; i < clips.Count; i++)
            {
                writer.WriteLine(JsonSerializer.Serialize(new { id = clips[i].Id, caption = candidates[i], references = clips[i].Captions }));
            }
        }

        return new EvalResult(scores, inference.Elapsed.TotalMilliseconds / clips.Count, clips.Count);
    }
}
