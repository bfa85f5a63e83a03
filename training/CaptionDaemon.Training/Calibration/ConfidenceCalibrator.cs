using System.Globalization;
using System.Text.Json.Nodes;
using CaptionDaemon.Inference;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Data.Sounds;
using CaptionDaemon.Training.Evaluation;
using CaptionDaemon.Training.Reporting;
using CaptionDaemon.Training.Tagging;

namespace CaptionDaemon.Training.Calibration;

/// <summary>What <c>calibrate</c> works from.</summary>
/// <param name="Bundle">The bundle folder; its manifest receives the calibration.</param>
/// <param name="Recordings">The validation recordings list (path, category).</param>
/// <param name="Sounds">The sounds folder whose val-split background recordings make some quiet windows; null: noise, hum and silence only.</param>
/// <param name="QuietWindows">Quiet windows besides the one of digital silence.</param>
/// <param name="Seed">Seed of the quiet windows.</param>
/// <param name="Settings">Beam, batch size and threads of the captioning.</param>
/// <param name="Features">The features to fit; null: every feature the bundle's labels allow.</param>
/// <param name="Penalty">L2 penalty of the logistic fit.</param>
/// <param name="MinConfidence">The <c>min_confidence</c> to recommend; null: chosen on the quiet windows (<see cref="MinConfidenceChoice.Choose"/>).</param>
internal sealed record CalibrationRequest(
    string Bundle,
    string Recordings,
    string? Sounds,
    int QuietWindows,
    int Seed,
    EvalCommand.EvalSettings Settings,
    IReadOnlyList<string>? Features = null,
    double Penalty = LogisticRegression.DefaultPenalty,
    double? MinConfidence = null);

/// <summary>A fitted calibration and the figures it was judged by, on the validation windows.</summary>
internal sealed record CalibrationResult(
    BundleConfidence Confidence,
    IReadOnlyList<LabelThreshold> Thresholds,
    MinConfidenceChoice MinConfidence,
    double CalibrationErrorBefore,
    double CalibrationErrorAfter,
    int Recordings,
    int QuietWindows,
    int Backgrounds,
    int Iterations,
    double Penalty)
{
    /// <summary>
    /// The report, also written into the manifest as <c>training.calibration</c>: the fit (features, weights, bias,
    /// penalty), the windows (recordings, named, quiet windows, background recordings), ECE before (the sequence
    /// confidence) and after, the recommended minimum with its quiet false alarms and named recordings kept, and every
    /// label's threshold with its positives and F1.
    /// </summary>
    public JsonObject ToJson(string recordingsList, int seed)
    {
        var thresholds = new JsonObject();
        foreach (var t in Thresholds)
        {
            thresholds[t.Name] = new JsonObject
            {
                ["threshold"] = Math.Round(t.Threshold, 6),
                ["positives"] = t.Positives,
                ["f1"] = t.F1 is { } f1 ? Math.Round(f1, 4) : null,
            };
        }

        return new JsonObject
        {
            ["method"] = Confidence.Method,
            ["features"] = new JsonArray([.. Confidence.Features.Select(f => (JsonNode)f)]),
            ["weights"] = new JsonArray([.. Confidence.Weights.Select(w => (JsonNode)w)]),
            ["bias"] = Confidence.Bias,
            ["penalty"] = Penalty,
            ["iterations"] = Iterations,
            ["recordings_list"] = RecordedPaths.Current.Record(recordingsList),
            ["recordings"] = Recordings,
            ["named"] = MinConfidence.Named,
            ["quiet_windows"] = QuietWindows,
            ["quiet_backgrounds"] = Backgrounds,
            ["seed"] = seed,
            ["ece_bins"] = CalibrationError.DefaultBins,
            ["ece_before"] = Math.Round(CalibrationErrorBefore, 4),
            ["ece_after"] = Math.Round(CalibrationErrorAfter, 4),
            ["min_confidence"] = MinConfidence.MinConfidence,
            ["quiet_false_alarms_at_min_confidence"] = Math.Round(MinConfidence.QuietFalseAlarms, 4),
            ["named_kept_at_min_confidence"] = MinConfidence.NamedKept,
            ["thresholds"] = thresholds,
        };
    }

    /// <summary>The weights, the calibration errors and the recommended minimum, for people.</summary>
    public void WriteSummary(TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var c = Confidence;
        var terms = string.Join(" ", c.Features.Select((f, i) => string.Create(CultureInfo.InvariantCulture, $"{(c.Weights[i] < 0 ? "-" : "+")} {Math.Abs(c.Weights[i]):0.####} x {f}")));
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"confidence = sigmoid({c.Bias:0.####} {terms}) ({Iterations} Newton steps, L2 {Penalty})"));
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"expected calibration error on {Recordings} val recordings + {QuietWindows} quiet windows: {CalibrationErrorBefore:0.0000} before (sequence confidence), {CalibrationErrorAfter:0.0000} after"));
        var m = MinConfidence;
        writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"min_confidence {m.MinConfidence:0.#####}: quiet false alarms {m.QuietFalseAlarms:0.000} (at most {MinConfidenceChoice.MaxQuietFalseAlarms}), named recordings kept {m.NamedKept} of {m.Named}"));
        foreach (var t in Thresholds)
        {
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  label {t.Name}: threshold {t.Threshold:0.####} ({t.Positives} val positives{(t.F1 is { } f1 ? $", F1 {f1:0.000}" : t.Name == BundleLabel.Nothing ? ", never reported: kept" : $", fewer than {LabelThresholds.MinPositives}: default")})"));
        }
    }
}

/// <summary>
/// <c>captiond-train calibrate</c>: captions validation recordings and quiet windows through the inference library,
/// fits the bundle's confidence (a logistic regression on <see cref="ConfidenceFeatures"/>; target: the caption names
/// the recording's category, 0 for every quiet window), chooses per-label thresholds and the recommended
/// <c>min_confidence</c> on the same windows, and writes them into the bundle's manifest.
/// </summary>
/// <remarks>
/// The quiet windows are the tagger's <see cref="QuietWindows"/> (silence, faint noise, hum, val-split background
/// recordings at -70..-50 dBFS) plus one window of digital silence: not the generators of <see cref="QuietClips"/>, so
/// <c>eval --recordings</c>' quiet false alarms stay a test of the calibration rather than its training data.
/// </remarks>
internal static class ConfidenceCalibrator
{
    /// <summary>The split of a sounds folder whose background recordings make quiet windows.</summary>
    public const string ValidationSplit = "val";

    /// <summary>The split that <c>calibrate</c> refuses to see: it is only for reporting.</summary>
    public const string TestSplit = "test";

    /// <summary>Captions the windows and fits the calibration; the manifest is not changed.</summary>
    /// <exception cref="InvalidDataException">No recording is named by its caption, a recording belongs to the test split, or a feature is not available.</exception>
    public static CalibrationResult Fit(CalibrationRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentOutOfRangeException.ThrowIfNegative(request.QuietWindows);
        var recordings = RecordingList.Load(request.Recordings);
        var names = CategoryNames.LoadBundled();
        var backgrounds = request.Sounds is { } sounds ? ValidationBackgrounds(sounds, recordings, names, cancellationToken) : [];

        using var bundle = CaptionBundle.Load(request.Bundle, new CaptionerOptions { IntraOpThreads = request.Settings.Threads });
        using var captioner = bundle.CreateCaptioner();
        var manifest = bundle.Manifest;
        var available = ConfidenceFeatures.Available(manifest.Labels);
        var features = request.Features ?? available;
        if (features.Count == 0 || features.Any(f => !available.Contains(f, StringComparer.Ordinal)))
        {
            throw new InvalidDataException(
                $"{request.Bundle}: cannot calibrate on [{string.Join(", ", features)}]; this bundle's labels allow [{string.Join(", ", available)}].");
        }

        var options = request.Settings.Decode;
        var sampleRate = manifest.SampleRate;
        var recorded = RecordingEvaluation.CaptionWindows(
            captioner, recordings.Count, i => AudioDecoder.Decode(recordings[i].FullPath, sampleRate, cancellationToken), options, request.Settings.BatchSize, "calibrate: recordings", cancellationToken);
        var quietWindows = new QuietWindows(backgrounds, sampleRate);
        var quiet = RecordingEvaluation.CaptionWindows(
            captioner, request.QuietWindows + 1, i => QuietWindow(quietWindows, bundle.WindowSamples, request.Seed, i), options, request.Settings.BatchSize, "calibrate: quiet windows", cancellationToken);

        var named = recordings.Select((r, i) => names.Names(recorded[i].Text, r.Category)).ToArray();
        if (!named.Any(n => n))
        {
            throw new InvalidDataException(
                $"{request.Recordings}: no caption of its {recordings.Count} recordings names the recording's category, so there is nothing to calibrate "
                + "against (is the model trained, and the list labelled with the catalog's categories?).");
        }

        // Every window in one order: the recordings, then the quiet windows.
        var results = recorded.Concat(quiet).ToArray();
        var targets = named.Concat(quiet.Select(_ => false)).ToArray();
        var rows = results.Select(r => features.Select(f => ConfidenceFeatures.Value(f, r, manifest.Labels)).ToArray()).ToArray();
        var fit = LogisticRegression.Fit(rows, targets, request.Penalty);
        var block = new BundleConfidence { Method = BundleConfidence.Logistic, Features = [.. features], Weights = fit.Weights, Bias = fit.Bias };

        // As the captioner gives it: a float.
        var calibrated = rows.Select(x => (double)(float)block.Apply(x)).ToArray();
        var before = CalibrationError.Expected([.. results.Select(r => (double)r.SequenceConfidence)], targets);
        var after = CalibrationError.Expected(calibrated, targets);
        (double, bool)[] namedRecordings = [.. recordings.Select((_, i) => (calibrated[i], named[i]))];
        (double, bool)[] quietAlarms = [.. quiet.Select((q, i) => (calibrated[recordings.Count + i], RecordingEvaluation.IsFalseAlarm(q, names, 0)))];
        var choice = request.MinConfidence is { } given
            ? MinConfidenceChoice.At(given, namedRecordings, quietAlarms)
            : MinConfidenceChoice.Choose(namedRecordings, quietAlarms);
        var categories = recordings.Select(r => (string?)r.Category).Concat(quiet.Select(_ => (string?)null)).ToArray();
        var thresholds = LabelThresholds.Choose(manifest.Labels, [.. results.Select(r => r.LabelProbabilities)], categories);
        return new CalibrationResult(
            block with { MinConfidence = choice.MinConfidence }, thresholds, choice, before, after, recordings.Count, quiet.Length, backgrounds.Count, fit.Iterations, request.Penalty);
    }

    /// <summary>
    /// Writes the calibration into the bundle's manifest: the <c>confidence</c> block, the labels' thresholds and
    /// <c>training.calibration</c>. The manifest is replaced in one move (a watching daemon never reads half of it), the
    /// graphs and their checksums are untouched, and the bundle is loaded again to check it; on failure the old
    /// manifest is put back.
    /// </summary>
    public static void Record(string bundleDirectory, CalibrationResult result, JsonObject report)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(report);
        var path = Path.Combine(bundleDirectory, BundleManifest.FileName);
        var original = File.ReadAllBytes(path);
        var manifest = BundleManifest.Parse(original, path);
        var thresholds = result.Thresholds.ToDictionary(t => t.Name, t => t.Threshold, StringComparer.Ordinal);
        WithCalibration(manifest, result.Confidence, thresholds, report).Write(path);
        try
        {
            using var check = CaptionBundle.Load(bundleDirectory, new CaptionerOptions { ExecutionProvider = ExecutionProviderPreference.Cpu, IntraOpThreads = 1 });
        }
        catch (BundleException)
        {
            File.WriteAllBytes(path, original);
            throw;
        }
    }

    /// <summary>
    /// <paramref name="manifest"/> with <paramref name="confidence"/>, the labels' thresholds from
    /// <paramref name="thresholds"/> (a label not in it keeps its own) and <paramref name="calibration"/> as
    /// <c>training.calibration</c>: what calibrating a bundle, or carrying a base's calibration to an update, writes.
    /// </summary>
    internal static BundleManifest WithCalibration(BundleManifest manifest, BundleConfidence confidence, IReadOnlyDictionary<string, double> thresholds, JsonNode calibration)
    {
        var training = manifest.Training.DeepClone().AsObject();
        training["calibration"] = calibration.DeepClone();
        return manifest with
        {
            Confidence = confidence,
            Labels = [.. manifest.Labels.Select(l => l with { Threshold = thresholds.GetValueOrDefault(l.Name, l.Threshold) })],
            Training = training,
        };
    }

    /// <summary>Window <paramref name="index"/>: 0 is digital silence, the others quiet windows from a seed of their own (the same whatever the batching).</summary>
    private static float[] QuietWindow(QuietWindows quiet, int samples, int seed, int index)
    {
        var window = new float[samples];
        if (index > 0)
        {
            quiet.Fill(window, new Random(unchecked((seed * 1_000_003) + index)));
        }

        return window;
    }

    /// <summary>
    /// The val-split recordings of background categories in the sounds folder (one per content hash); refuses a list
    /// that holds a recording of the test split, which is kept for reporting.
    /// </summary>
    private static List<TaggedRecording> ValidationBackgrounds(
        string sounds, IReadOnlyList<LabelledRecording> recordings, CategoryNames names, CancellationToken cancellationToken)
    {
        var entries = SoundIndex.Load(sounds, cancellationToken);
        var test = entries
            .Where(e => e.Split == TestSplit)
            .Select(e => Path.GetFullPath(Path.Combine(sounds, e.File)))
            .ToHashSet(StringComparer.Ordinal);
        if (recordings.FirstOrDefault(r => test.Contains(r.FullPath)) is { } leaked)
        {
            throw new InvalidDataException(
                $"{leaked.Path} is a recording of the {TestSplit} split of {sounds}: calibrate on the {ValidationSplit} split "
                + $"('data catalog --split {ValidationSplit}') and keep {TestSplit} for reporting.");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        return
        [
            .. entries
                .Where(e => e.Split == ValidationSplit && names.Find(e.Category)?.Background == true)
                .Where(e => e.ContentHash is null || seen.Add(e.ContentHash))
                .Select(e => new TaggedRecording(e.Id, Path.Combine(sounds, e.File), e.Category, Label: -1)),
        ];
    }
}
