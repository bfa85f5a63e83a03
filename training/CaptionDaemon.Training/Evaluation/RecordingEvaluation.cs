using CaptionDaemon.Inference;
using CaptionDaemon.Training.Data;

namespace CaptionDaemon.Training.Evaluation;

/// <summary>
/// <c>eval --recordings</c>: captions labelled recordings one at a time, each as one window (its first
/// <c>WindowSamples</c>, zero-padded when shorter, as the daemon pads), and the <see cref="QuietClips"/>, and reports
/// a <see cref="HearingReport"/>.
/// </summary>
internal static class RecordingEvaluation
{
    /// <summary>
    /// The daemon's <c>Captions:MinConfidence</c> when neither its configuration nor the bundle sets one
    /// (daemon/CaptionDaemon/Scheduling/CaptionPolicy.cs): 0, so the daemon publishes every caption.
    /// </summary>
    public const double DaemonMinConfidence = 0;

    /// <summary>
    /// Captions the recordings and the quiet clips with the bundle and scores them against the synonym table, at the
    /// minimum confidence the daemon would use: <paramref name="minConfidence"/> when given, else the bundle's
    /// recommended one (<c>confidence.min_confidence</c>), else <see cref="DaemonMinConfidence"/>.
    /// </summary>
    /// <exception cref="AudioDecodeException">A recording cannot be decoded; the message names the file.</exception>
    public static HearingReport Run(
        string bundleDir,
        IReadOnlyList<LabelledRecording> recordings,
        CategoryNames names,
        EvalCommand.EvalSettings settings,
        double? minConfidence,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(recordings);
        ArgumentNullException.ThrowIfNull(names);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.Beam, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(settings.BatchSize, 1);
        using var bundle = CaptionBundle.Load(bundleDir, new CaptionerOptions { IntraOpThreads = settings.Threads });
        using var captioner = bundle.CreateCaptioner();
        var options = settings.Decode;
        var sampleRate = bundle.Manifest.SampleRate;
        var (min, source) = minConfidence is { } given ? (given, MinConfidenceSource.Flag)
            : bundle.Manifest.Confidence?.MinConfidence is { } recommended ? (recommended, MinConfidenceSource.Bundle)
            : (DaemonMinConfidence, MinConfidenceSource.DaemonDefault);

        var results = CaptionWindows(captioner, recordings.Count, i => AudioDecoder.Decode(recordings[i].FullPath, sampleRate, cancellationToken), options, settings.BatchSize, "eval recordings", cancellationToken);
        var labels = bundle.Manifest.Labels;
        var captions = recordings
            .Select((r, i) => new RecordingCaption(
                r,
                results[i].Text,
                results[i].Confidence,
                names.Names(results[i].Text, r.Category),
                [.. results[i].Labels.Select(l => l.Label)],
                LabelProbability.Top(results[i].LabelProbabilities, labels, HearingReport.TopLabelCount)))
            .ToList();

        var quietClips = QuietClips.Generate(sampleRate);
        var quietResults = CaptionWindows(captioner, quietClips.Count, i => quietClips[i].Samples, options, settings.BatchSize, "eval quiet clips", cancellationToken);
        var quiet = quietClips
            .Select((c, i) => new QuietCaption(c.Name, quietResults[i].Text, quietResults[i].Confidence, IsFalseAlarm(quietResults[i], names, min)))
            .ToList();
        return new HearingReport(captions, quiet, min, settings.Beam)
        {
            HasLabels = bundle.Manifest.Labels.Count > 0,
            MinConfidenceSource = source,
            Calibrated = bundle.Manifest.Confidence is not null,
        };
    }

    /// <summary>
    /// A quiet clip's caption is a false alarm when the daemon would publish it (confidence at least
    /// <paramref name="minConfidence"/>; at the default 0 every caption is published) and it names a sound event: a
    /// category of the synonym table that is not steady background. A caption of ambience ("wind blows", "a hum") on a
    /// background-only clip is a fair description, not an alarm; a dog, a door or a voice is one.
    /// </summary>
    internal static bool IsFalseAlarm(CaptionResult result, CategoryNames names, double minConfidence)
        => result.Confidence >= minConfidence && names.NamedIn(result.Text).Any(c => !c.Background);

    /// <summary>Captions <paramref name="count"/> sources, each alone in one window, in batches; sources load in parallel; progress goes to stderr after <paramref name="label"/>.</summary>
    internal static CaptionResult[] CaptionWindows(
        Captioner captioner, int count, Func<int, float[]> load, DecodeOptions options, int batchSize, string label, CancellationToken cancellationToken)
    {
        var window = captioner.Bundle.WindowSamples;
        var results = new CaptionResult[count];
        var batch = new float[batchSize * window];
        for (var start = 0; start < count; start += batchSize)
        {
            var size = Math.Min(batchSize, count - start);
            Array.Clear(batch);
            Parallel.For(0, size, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
            {
                var samples = load(start + i);
                samples.AsSpan(0, Math.Min(samples.Length, window)).CopyTo(batch.AsSpan(i * window, window));
            });

            captioner.Caption(batch.AsSpan(0, size * window), size, options, cancellationToken).CopyTo(results, start);
            Console.Error.Write($"\r{label}: {start + size}/{count}");
        }

        Console.Error.WriteLine();
        return results;
    }
}
