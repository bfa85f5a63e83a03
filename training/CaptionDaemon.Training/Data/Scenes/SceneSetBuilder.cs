using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace CaptionDaemon.Training.Data.Scenes;

/// <summary>What <c>data scenes</c> should build.</summary>
internal sealed record SceneSetOptions
{
    /// <summary>A sounds folder written by <c>data fetch</c>.</summary>
    public required string SoundsDirectory { get; init; }

    /// <summary>Where the scene set goes (Clotho layout).</summary>
    public required string OutputDirectory { get; init; }

    public int Clips { get; init; } = 4000;

    public int Seed { get; init; } = 1;

    public double Seconds { get; init; } = 10;

    public double ValidationFraction { get; init; } = 0.1;

    public double TestFraction { get; init; } = 0.1;

    public int SampleRate { get; init; } = AudioDecoder.DefaultSampleRate;

    /// <summary>
    /// True (the default): every recording belongs to one split, so validation and test measure how well a model knows
    /// recordings it never heard. False: every split mixes all recordings and the splits differ only in their mixes
    /// (crops, levels, onsets, backgrounds, combinations); the class-incremental reproduction uses it to measure whether
    /// a model still knows the events it learnt, which held-out recordings cannot show when a category has two of them.
    /// </summary>
    public bool SplitByRecording { get; init; } = true;

    /// <summary>
    /// True (the default): a recording whose index row names a split (data fetch holds out whole packages) stays in it,
    /// whatever <see cref="SplitByRecording"/> says. False: the index's splits are ignored, as for a set built from a
    /// single package (tests) or one where every split mixes all recordings (class-incremental reproduction).
    /// </summary>
    public bool UsePackageSplits { get; init; } = true;

    /// <summary>How often each clip kind is drawn (single event, mixture, speech, music, radio/TV, ambience, quiet).</summary>
    public SceneKindShares Kinds { get; init; } = SceneKindShares.Default;

    /// <summary>Scales the chance of a steady background under events (1: a microphone's day as designed; lower: more events in a bare room).</summary>
    public double BackgroundChance { get; init; } = 1.0;

    /// <summary>Share of clips with no noise floor (digital silence between the sounds, as in a sound file); 0: every clip has one.</summary>
    public double DigitalSilenceChance { get; init; }

    /// <summary>Only recordings of these categories (events and backgrounds); null: all. Class-incremental tasks use it.</summary>
    public IReadOnlySet<string>? Categories { get; init; }
}

/// <summary>Per split: clips, and the recordings and categories it may draw from and actually used.</summary>
internal sealed record SceneSplitSummary(
    string Split,
    int Clips,
    int EventRecordings,
    int BackgroundRecordings,
    int RecordingsUsed,
    int CategoriesUsed,
    IReadOnlyList<string> Categories);

/// <summary>The outcome of <c>data scenes</c>.</summary>
internal sealed record SceneSetReport(
    IReadOnlyList<SceneSplitSummary> Splits,
    int RecordingsLoaded,
    IReadOnlyList<string> RecordingsSkipped,
    TimeSpan LoadTime,
    TimeSpan GenerateTime);

/// <summary>
/// Builds a scene set: loads the recordings once, splits them by recording (unless told not to), generates every clip in parallel from a
/// per-clip seed (so the set depends only on the seed, not on thread timing), and writes the Clotho layout plus
/// scenes.jsonl and NOTICE.
/// </summary>
internal sealed class SceneSetBuilder(SceneSetOptions options, TextWriter log)
{
    public const string ScenesFileName = "scenes.jsonl";
    public const string NoticeFileName = "NOTICE";

    /// <summary>Per split: clips, the event and background recordings it could draw from, those it used, its categories.</summary>
    public const string SplitsFileName = "splits.json";

    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly Dictionary<string, string> s_filePrefixes = new(StringComparer.Ordinal)
    {
        [ClothoDataset.Development] = "dev",
        [ClothoDataset.Validation] = "val",
        [ClothoDataset.Evaluation] = "eval",
    };

    // Progress is written from the generating threads.
    private readonly TextWriter _log = TextWriter.Synchronized(log);

    public SceneSetReport Build(CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Clips, 1);
        var output = Path.GetFullPath(options.OutputDirectory);
        PrepareOutput(output);

        var stopwatch = Stopwatch.StartNew();
        var library = SoundLibrary.Load(options.SoundsDirectory, options.SampleRate, cancellationToken);
        var loadTime = stopwatch.Elapsed;
        _log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"loaded {library.Sounds.Count} recordings ({library.Sounds.Count(s => s.IsBackground)} steady backgrounds) in {loadTime.TotalSeconds:0.0} s; skipped {library.Skipped.Count}"));
        foreach (var skip in library.Skipped)
        {
            _log.WriteLine("  skipped " + skip);
        }

        var sounds = options.Categories is { } categories ? library.Sounds.Where(s => categories.Contains(s.Category)).ToList() : library.Sounds;
        if (sounds.Count == 0)
        {
            throw new ArgumentException($"No recording of {library.Sounds.Count} has one of the categories {string.Join(", ", options.Categories!)}.");
        }

        var generator = new SceneGenerator(sounds, SplitOf(sounds), options.SampleRate, options.Seconds, options.Kinds, options.BackgroundChance, options.DigitalSilenceChance);
        var plan = PlanClips();
        foreach (var split in ClothoDataset.Splits.Where(s => plan.Any(p => p.Split == s)))
        {
            var (events, backgrounds) = generator.Count(split);
            if (events == 0)
            {
                throw new InvalidOperationException(
                    $"Split '{split}' got no recordings ({library.Sounds.Count} recordings in all); fetch more packages or lower the fractions.");
            }

            Directory.CreateDirectory(Path.Combine(output, split));
            _log.WriteLine($"{split}: {plan.Count(p => p.Split == split)} clips from {events} event and {backgrounds} background recordings");
        }

        _log.WriteLine($"clip kinds: {options.Kinds}; background chance x{options.BackgroundChance.ToString(System.Globalization.CultureInfo.InvariantCulture)}; digital silence in {options.DigitalSilenceChance.ToString(System.Globalization.CultureInfo.InvariantCulture)} of clips");

        stopwatch.Restart();
        var scenes = new Scene[plan.Count];
        var done = 0;
        var parallel = new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount };
        Parallel.For(0, plan.Count, parallel, i =>
        {
            var (split, index, file) = plan[i];
            var random = new Random(ClipSeed(options.Seed, split, index));
            var (scene, audio) = generator.Generate(split, file, random);
            WavFile.Write(Path.Combine(output, split, file), audio, options.SampleRate, cancellationToken);
            scenes[i] = scene;
            var finished = Interlocked.Increment(ref done);
            if (finished % 500 == 0 || finished == plan.Count)
            {
                _log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {finished}/{plan.Count} clips ({stopwatch.Elapsed.TotalSeconds:0.0} s)"));
            }
        });
        var generateTime = stopwatch.Elapsed;
        _log.WriteLine("clips per kind: " + string.Join(", ", scenes.GroupBy(s => s.Kind, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}")));

        WriteCaptions(output, scenes);
        WriteScenes(output, scenes);
        var byId = library.Sounds.ToDictionary(s => s.Id, StringComparer.Ordinal);
        var usedIds = scenes.SelectMany(s => s.Events.Select(e => e.RecordingId).Concat(s.Background is null ? [] : s.Background.RecordingIds))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();
        File.WriteAllText(
            Path.Combine(output, NoticeFileName),
            AttributionNotice.Build(
                options.SoundsDirectory,
                usedIds.Select(id => byId[id].Entry),
                $"Scene set generated by captiond-train data scenes (seed {options.Seed}, {plan.Count} clips of {options.Seconds.ToString(CultureInfo.InvariantCulture)} s).",
                cancellationToken),
            new UTF8Encoding(false));

        var summaries = ClothoDataset.Splits
            .Where(s => plan.Any(p => p.Split == s))
            .Select(split =>
            {
                var clips = scenes.Where(s => s.Split == split).ToList();
                var used = clips.SelectMany(c => c.Events.Select(e => e.RecordingId).Concat(c.Background is null ? [] : c.Background.RecordingIds))
                    .Distinct(StringComparer.Ordinal).ToList();
                var categories = used.Select(id => byId[id].Category).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
                var (events, backgrounds) = generator.Count(split);
                return new SceneSplitSummary(split, clips.Count, events, backgrounds, used.Count, categories.Count, categories);
            })
            .ToList();
        File.WriteAllText(
            Path.Combine(output, SplitsFileName),
            System.Text.Json.JsonSerializer.Serialize(
                summaries.Select(s => new { split = s.Split, clips = s.Clips, event_recordings = s.EventRecordings, background_recordings = s.BackgroundRecordings, recordings_used = s.RecordingsUsed, categories = s.Categories }),
                new System.Text.Json.JsonSerializerOptions { WriteIndented = true }),
            new UTF8Encoding(false));
        return new SceneSetReport(summaries, library.Sounds.Count, library.Skipped, loadTime, generateTime);
    }

    /// <summary>
    /// Every recording's split: the one its index row names (data fetch holds out whole packages), else the
    /// <see cref="SplitPlanner"/>'s over the recordings without one (or, with split by clip, null: every split).
    /// </summary>
    private Dictionary<string, string>? SplitOf(IReadOnlyList<SourceSound> sounds)
    {
        var given = sounds.Where(s => options.UsePackageSplits && s.Entry.Split is not null).ToList();
        var open = sounds.Where(s => !options.UsePackageSplits || s.Entry.Split is null).ToList();
        if (given.Count == 0 && !options.SplitByRecording)
        {
            return null;
        }

        var splits = given.ToDictionary(s => s.Id, s => ClothoSplit(s.Entry), StringComparer.Ordinal);
        if (open.Count > 0)
        {
            if (options.SplitByRecording)
            {
                foreach (var (id, split) in SplitPlanner.Assign(open, options.ValidationFraction, options.TestFraction, options.Seed))
                {
                    splits.Add(id, split);
                }
            }
            else
            {
                // Split by clip with some rows split by package: those keep their split, the others serve training only,
                // since one recording cannot sit in every split of a map.
                foreach (var sound in open)
                {
                    splits.Add(sound.Id, ClothoDataset.Development);
                }
            }
        }

        return splits;
    }

    private static string ClothoSplit(Sounds.SoundIndexEntry entry) => entry.Split switch
    {
        "train" => ClothoDataset.Development,
        "val" => ClothoDataset.Validation,
        "test" => ClothoDataset.Evaluation,
        _ => throw new DatasetFormatException($"Recording '{entry.Id}' has split '{entry.Split}'; expected train, val or test."),
    };

    /// <summary>The clips to make: (split, index, file name), train first. Sizes: validation and test by fraction, the rest train.</summary>
    private List<(string Split, int Index, string File)> PlanClips()
    {
        var validation = (int)Math.Round(options.Clips * options.ValidationFraction, MidpointRounding.AwayFromZero);
        var test = (int)Math.Round(options.Clips * options.TestFraction, MidpointRounding.AwayFromZero);
        var train = options.Clips - validation - test;
        if (train < 1)
        {
            throw new ArgumentException($"--val-fraction {options.ValidationFraction} and --test-fraction {options.TestFraction} leave no training clips out of {options.Clips}.");
        }

        var plan = new List<(string, int, string)>(options.Clips);
        foreach (var (split, count) in new[] { (ClothoDataset.Development, train), (ClothoDataset.Validation, validation), (ClothoDataset.Evaluation, test) })
        {
            for (var i = 0; i < count; i++)
            {
                plan.Add((split, i, string.Create(CultureInfo.InvariantCulture, $"{s_filePrefixes[split]}_{i + 1:D5}.wav")));
            }
        }

        return plan;
    }

    /// <summary>A clip's seed from the set seed, its split and index (SplitMix64 finaliser): independent of generation order.</summary>
    internal static int ClipSeed(int seed, string split, int index)
    {
        var splitNumber = (ulong)(ClothoDataset.Splits.ToList().IndexOf(split) + 1);
        var z = unchecked(((ulong)(uint)seed * 0x9E3779B97F4A7C15UL) ^ (splitNumber << 40) ^ (ulong)index);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        z ^= z >> 31;
        return (int)(z & 0x7FFFFFFF);
    }

    /// <summary>Refuses to write into a folder that holds something other than an earlier scene set; clears an earlier set.</summary>
    private static void PrepareOutput(string output)
    {
        if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any())
        {
            if (!File.Exists(Path.Combine(output, ScenesFileName)))
            {
                throw new IOException($"Output folder '{output}' is not empty and holds no {ScenesFileName}; choose an empty or new folder.");
            }

            foreach (var split in ClothoDataset.Splits)
            {
                var directory = ClothoDataset.AudioDirectory(output, split);
                if (Directory.Exists(directory))
                {
                    Directory.Delete(directory, recursive: true);
                }

                File.Delete(ClothoDataset.CaptionsPath(output, split));
            }

            File.Delete(Path.Combine(output, ScenesFileName));
            File.Delete(Path.Combine(output, NoticeFileName));
        }

        Directory.CreateDirectory(output);
    }

    private static void WriteCaptions(string output, IReadOnlyList<Scene> scenes)
    {
        foreach (var group in scenes.GroupBy(s => s.Split, StringComparer.Ordinal))
        {
            var builder = new StringBuilder();
            builder.Append("file_name");
            for (var i = 1; i <= SceneCaptioner.CaptionsPerClip; i++)
            {
                builder.Append(",caption_").Append(i.ToString(CultureInfo.InvariantCulture));
            }

            builder.Append("\r\n");
            foreach (var scene in group)
            {
                builder.Append(CsvField(scene.File));
                foreach (var caption in scene.Captions)
                {
                    builder.Append(',').Append(CsvField(caption));
                }

                builder.Append("\r\n");
            }

            File.WriteAllText(ClothoDataset.CaptionsPath(output, group.Key), builder.ToString(), new UTF8Encoding(false));
        }
    }

    private static void WriteScenes(string output, IReadOnlyList<Scene> scenes)
    {
        using var writer = new StreamWriter(Path.Combine(output, ScenesFileName), append: false, new UTF8Encoding(false));
        writer.NewLine = "\n";
        foreach (var scene in scenes)
        {
            writer.WriteLine(JsonSerializer.Serialize(scene, s_json));
        }
    }

    /// <summary>RFC 4180 quoting, as Clotho's own CSVs use for captions with commas.</summary>
    internal static string CsvField(string value)
        => value.AsSpan().IndexOfAny(",\"\r\n") < 0 ? value : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
