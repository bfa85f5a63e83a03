using System.CommandLine;
using System.Globalization;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Text;
using CaptionDaemon.Training.Training;
using CaptionDaemon.Training.Training.Features;
using TorchSharp;
using static TorchSharp.torch;

namespace CaptionDaemon.Benchmarks.Training;

/// <summary>
/// Scenario <c>train-step</c>: seconds per supervised training step (forward, backward, AdamW update) of the student or
/// teacher on batches of 10 s windows with five captions each, as <c>captiond-train train</c> runs them. Prints wall and
/// CPU time per step and the load average, since on a shared machine the wall time alone says little.
/// </summary>
internal static class TrainStepScenario
{
    public static Command CreateCommand()
    {
        var sizeOption = new Option<string>("--size") { Description = "student or teacher.", DefaultValueFactory = _ => "student" };
        sizeOption.AcceptOnlyFromAmong("student", "teacher");
        var batchOption = new Option<int>("--batch") { Description = "Clips per step.", DefaultValueFactory = _ => 16 };
        var secondsOption = new Option<double>("--window-seconds") { Description = "Seconds per window.", DefaultValueFactory = _ => 10.0 };
        var threadsOption = new Option<int>("--threads") { Description = "Torch threads.", DefaultValueFactory = _ => 2 };
        var stepsOption = new Option<int>("--steps") { Description = "Measured steps (after one warm-up step).", DefaultValueFactory = _ => 5 };
        var cacheOption = new Option<string?>("--feature-cache-data") { Description = "A Clotho-layout folder: also build the log-mel cache of its first --cache-clips development clips (clips/s) and time a step from that cache against a step from the same clips' waveforms." };
        var cacheClipsOption = new Option<int>("--cache-clips") { Description = "Clips to cache with --feature-cache-data.", DefaultValueFactory = _ => 64 };

        var command = new Command("train-step", "Seconds per training step of the student/teacher at a batch of 10 s windows with 5 captions each.");
        command.Options.Add(sizeOption);
        command.Options.Add(batchOption);
        command.Options.Add(secondsOption);
        command.Options.Add(threadsOption);
        command.Options.Add(stepsOption);
        command.Options.Add(cacheOption);
        command.Options.Add(cacheClipsOption);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(cacheOption) is { } data)
            {
                await RunFromCacheAsync(data, parse.GetValue(cacheClipsOption), parse.GetValue(sizeOption)!, parse.GetValue(batchOption), parse.GetValue(secondsOption), parse.GetValue(threadsOption), parse.GetValue(stepsOption), cancellationToken).ConfigureAwait(false);
                return 0;
            }

            Run(parse.GetValue(sizeOption)!, parse.GetValue(batchOption), parse.GetValue(secondsOption), parse.GetValue(threadsOption), parse.GetValue(stepsOption));
            return 0;
        });
        return command;
    }

    private static void Run(string size, int batchSize, double windowSeconds, int threads, int steps)
    {
        const int vocabSize = 4500; // Clotho's vocabulary at a minimum count of 1 is about this size.
        const int captionsPerClip = 5;
        const int wordsPerCaption = 11; // Clotho captions have 8 to 20 words; about 11 on average.
        torch.set_num_threads(threads);
        random.manual_seed(1);
        var config = size == "teacher" ? CaptionModelConfig.Teacher(vocabSize) : CaptionModelConfig.Student(vocabSize);
        using var model = new CaptionModel(config);
        model.train();
        using var optimizer = new HeldScalarAdamW(model.parameters(), 5e-4);
        var windowSamples = (int)(windowSeconds * config.SampleRate);
        var rng = new Random(1);
        var audio = new float[batchSize * windowSamples];
        for (var i = 0; i < audio.Length; i++)
        {
            audio[i] = (float)((rng.NextDouble() * 2) - 1) * 0.1f;
        }

        var captions = Enumerable.Range(0, batchSize * captionsPerClip)
            .Select(r => (r / captionsPerClip, Enumerable.Range(0, wordsPerCaption).Select(_ => rng.Next(4, vocabSize)).ToArray()))
            .ToArray();
        var batch = CaptionBatch.Create(audio, batchSize, captions);

        var (wallMs, cpuMs) = Timing.Measure(() => SupervisedStep.Run(model, optimizer, batch, 0, 1), minRuns: steps);
        var (wall, cpu) = (wallMs / 1000, cpuMs / 1000);

        // Where a step's time goes: the log-mel front end alone, and the front end plus the CNN encoder forward and
        // backward (its gradient from a plain sum of its outputs). The rest of a step is the decoder and the update.
        var frontEnd = Timing.Measure(minRuns: steps, action: () =>
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            model.Frontend.forward(tensor(audio, [batchSize, windowSamples]));
        }).WallMs / 1000;
        var encoder = Timing.Measure(minRuns: steps, action: () =>
        {
            using var scope = NewDisposeScope();
            var (memory, embedding) = model.Encode(tensor(audio, [batchSize, windowSamples]));
            (memory.sum() + embedding.sum()).backward();
            optimizer.zero_grad();
        }).WallMs / 1000;
        var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{size}: {model.CountParameters().Total:N0} parameters, batch {batchSize} x {windowSeconds:0.#} s, {captionsPerClip} captions of {wordsPerCaption} words per clip, {threads} threads: {wall:0.00} s/step wall, {cpu:0.00} s/step CPU ({steps} steps; load average {load}; {Environment.ProcessorCount} cores)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  of a step: front end {frontEnd:0.00} s, front end + encoder forward and backward {encoder:0.00} s, decoder and update {wall - encoder:0.00} s (by difference)"));
    }

    /// <summary>
    /// On real clips: decoding them to memory (what <c>train</c> does without a cache, every run), building their log-mel
    /// cache (once), then a step from their waveforms against a step from the cache, same model, batch and captions.
    /// </summary>
    private static async Task RunFromCacheAsync(string data, int clipCount, string size, int batchSize, double windowSeconds, int threads, int steps, CancellationToken cancellationToken)
    {
        torch.set_num_threads(threads);
        random.manual_seed(1);
        var clips = ClothoDataset.Load(Path.GetFullPath(data), ClothoDataset.Development).Take(clipCount).ToArray();
        var vocabulary = Vocabulary.Build(clips.SelectMany(c => c.Captions), minCount: 1);
        var config = size == "teacher" ? CaptionModelConfig.Teacher(vocabulary.Count) : CaptionModelConfig.Student(vocabulary.Count);
        var frontend = FrontendParameters.Of(config);
        var cachePath = Path.Combine(Path.GetTempPath(), $"captiond-bench-{Environment.ProcessId}.logmel");
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var decoded = ClipSet.Load(clips, vocabulary, config.MaxTokens - 2, threads, CancellationToken.None);
            var decodeSeconds = clock.Elapsed.TotalSeconds;
            var report = await LogMelCacheBuilder.BuildAsync(clips, frontend, cachePath, threads, cancellationToken).ConfigureAwait(false);
            using var cache = LogMelCacheFile.Open(cachePath);
            var cached = ClipSet.FromFeatures(clips, cache, frontend, vocabulary, config.MaxTokens - 2, "rebuild");
            var seconds = clips.Sum(c => cache.Entries[cache.Match([c], frontend, "rebuild")[0]].Samples) / (double)config.SampleRate;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{clips.Length} clips ({seconds / clips.Length:0.0} s each on average), {threads} threads: decoding to memory {decodeSeconds:0.00} s ({clips.Length / decodeSeconds:0.0} clips/s); building the cache {report.Seconds:0.00} s ({report.ClipsPerSecond:0.0} clips/s), {report.Bytes / 1e6:0.00} MB ({report.Bytes / seconds / 1e3:0.0} kB per second of audio)"));

            using var model = new CaptionModel(config);
            model.train();
            using var optimizer = new HeldScalarAdamW(model.parameters(), 5e-4);
            var windowSamples = (int)(windowSeconds * config.SampleRate);
            var indices = Enumerable.Range(0, Math.Min(batchSize, clips.Length)).ToArray();
            var batchRandom = new Random(1);
            var (audioWall, audioCpu) = Timing.Measure(minRuns: steps, action: () =>
                SupervisedStep.Run(model, optimizer, CaptionBatch.FromClips(decoded, indices, windowSamples, batchRandom), 0, 1));
            var (cacheWall, cacheCpu) = Timing.Measure(minRuns: steps, action: () =>
                SupervisedStep.Run(model, optimizer, CaptionBatch.FromClips(cached, indices, windowSamples, batchRandom), 0, 1));
            var load = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{size} step, batch {indices.Length} x {windowSeconds:0.#} s with all captions: from waveforms {audioWall / 1000:0.000} s wall {audioCpu / 1000:0.000} s CPU; from the cache {cacheWall / 1000:0.000} s wall {cacheCpu / 1000:0.000} s CPU ({audioWall / cacheWall:0.00}x; {steps} steps; load average {load})"));
        }
        finally
        {
            File.Delete(cachePath);
        }
    }
}
