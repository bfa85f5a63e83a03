using System.Text.Json.Nodes;
using CaptionDaemon.Inference;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Training.Calibration;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Evaluation;
using CaptionDaemon.Training.Tests.Data;

namespace CaptionDaemon.Training.Tests.Calibration;

/// <summary>
/// <c>calibrate</c> on the labelled test bundle (tests/data/labelled-bundle: random weights, labels dog, speech, nothing,
/// rain, music) with the real recordings of tests/data/hearing, and <c>eval --recordings</c> on the result.
/// </summary>
/// <remarks>
/// The random model captions every recording "word15 word15 ..." (its README: its captions mean nothing), so the list
/// names every third recording's category <c>word15</c>: those captions name their category (a category missing from
/// the synonym table is named by its own name) and the fit has both outcomes. Three recordings listed as <c>dog</c>
/// give that label enough validation positives for a fitted threshold.
/// </remarks>
public sealed class CalibrateCommandTests : IDisposable
{
    private static readonly string Hearing = Path.Combine(RepositoryPaths.Root, "tests", "data", "hearing");
    private readonly TestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Calibrate_LabelledBundleAndRealRecordings_ManifestHoldsTheBlockAndTheBundleRunsIt()
    {
        var bundle = CopyBundle();
        var original = BundleManifest.Read(Path.Combine(bundle, BundleManifest.FileName));
        var list = WriteList(WithPositives);
        var sounds = WriteSounds();
        var reportPath = _files.PathOf("calibration.json");

        var exitCode = CalibrateCommand.Create().Parse(
            ["--bundle", bundle, "--recordings", list, "--sounds", sounds, "--quiet-windows", "20", "--threads", "1", "--json", reportPath]).Invoke();

        Assert.Equal(0, exitCode);
        var manifest = BundleManifest.Read(Path.Combine(bundle, BundleManifest.FileName));
        var block = Assert.IsType<BundleConfidence>(manifest.Confidence);
        Assert.Equal(BundleConfidence.Logistic, block.Method);
        Assert.Equal([ConfidenceFeatures.LabelTop, ConfidenceFeatures.LabelNothing, ConfidenceFeatures.Sequence], block.Features);
        Assert.All(block.Weights.Append(block.Bias), w => Assert.True(double.IsFinite(w)));
        Assert.InRange(block.MinConfidence!.Value, 0, 1);

        // The graphs and their checksums are untouched; the report is in the manifest and in --json.
        Assert.Equal(
            [original.Graphs.Encoder.Sha256, original.Graphs.CrossKv.Sha256, original.Graphs.DecoderStep.Sha256],
            [manifest.Graphs.Encoder.Sha256, manifest.Graphs.CrossKv.Sha256, manifest.Graphs.DecoderStep.Sha256]);
        Assert.Equal(original.Vocab, manifest.Vocab);
        var report = manifest.Training["calibration"]!.AsObject();
        Assert.True(JsonNode.DeepEquals(report, JsonNode.Parse(File.ReadAllText(reportPath))), report.ToJsonString());
        Assert.Equal(38, (int)report["recordings"]!);
        Assert.Equal(21, (int)report["quiet_windows"]!);      // 20 + digital silence
        Assert.Equal(2, (int)report["quiet_backgrounds"]!);   // the val rain and wind; not the test-split dog
        Assert.InRange((int)report["named"]!, 1, 13);
        Assert.Equal(block.Weights, report["weights"]!.AsArray().Select(w => (double)w!));
        Assert.InRange((double)report["quiet_false_alarms_at_min_confidence"]!, 0, MinConfidenceChoice.MaxQuietFalseAlarms);
        Assert.InRange((double)report["ece_after"]!, 0, 1);

        // Thresholds: dog fitted on its 3 positives, rain (1) and music and speech (0) at the one pooled threshold, nothing kept.
        var thresholds = manifest.Labels.ToDictionary(l => l.Name, l => l.Threshold);
        Assert.Equal((double)report["thresholds"]!["dog"]!["threshold"]!, thresholds["dog"], 6);
        Assert.NotNull(report["thresholds"]!["dog"]!["f1"]);
        Assert.Equal(3, (int)report["thresholds"]!["dog"]!["positives"]!);
        Assert.Single(new[] { thresholds["rain"], thresholds["music"], thresholds["speech"] }.Distinct());
        Assert.InRange(thresholds["rain"], LabelThresholds.Floor, 1);
        Assert.Null(report["thresholds"]!["rain"]!["f1"]);
        Assert.Equal(original.Labels.Single(l => l.Name == BundleLabel.Nothing).Threshold, thresholds["nothing"]);

        // The bundle loads, and each caption's confidence is the block's sigmoid of its features.
        using var loaded = CaptionBundle.Load(bundle, new CaptionerOptions { ExecutionProvider = ExecutionProviderPreference.Cpu, IntraOpThreads = 1 });
        using var captioner = loaded.CreateCaptioner();
        var files = Directory.GetFiles(Hearing, "*.wav").Order(StringComparer.Ordinal).Take(6).ToArray();
        var windows = new float[files.Length * loaded.WindowSamples];
        for (var i = 0; i < files.Length; i++)
        {
            var samples = AudioDecoder.Decode(files[i], loaded.Manifest.SampleRate, CancellationToken.None);
            samples.AsSpan(0, Math.Min(samples.Length, loaded.WindowSamples)).CopyTo(windows.AsSpan(i * loaded.WindowSamples));
        }

        var nothing = manifest.Labels.Select(l => l.Name).ToList().IndexOf(BundleLabel.Nothing);
        foreach (var result in captioner.Caption(windows, files.Length))
        {
            var p = result.LabelProbabilities;
            double[] features = [Logit(p.Where((_, i) => i != nothing).Max()), Logit(p[nothing]), Math.Log(result.SequenceConfidence)];
            var z = block.Bias + features.Select((f, i) => f * block.Weights[i]).Sum();
            Assert.Equal(1 / (1 + Math.Exp(-z)), result.Confidence, 1e-6);
        }
    }

    [Fact]
    public void EvalRecordings_CalibratedBundle_ReportsCalibrationErrorAndFalseAlarmsAtTheBundlesMinimumUnlessTheFlagSetsOne()
    {
        var bundle = CopyBundle();
        var list = WriteList(WithPositives);
        Assert.Equal(0, CalibrateCommand.Create().Parse(["--bundle", bundle, "--recordings", list, "--quiet-windows", "10", "--threads", "1"]).Invoke());
        var recommended = BundleManifest.Read(Path.Combine(bundle, BundleManifest.FileName)).Confidence!.MinConfidence!.Value;
        var atBundle = _files.PathOf("eval-bundle.json");
        var atFlag = _files.PathOf("eval-flag.json");

        Assert.Equal(0, EvalCommand.Create().Parse(["--bundle", bundle, "--recordings", list, "--threads", "1", "--json", atBundle]).Invoke());
        Assert.Equal(0, EvalCommand.Create().Parse(["--bundle", bundle, "--recordings", list, "--threads", "1", "--json", atFlag, "--min-confidence", "1"]).Invoke());

        var fromBundle = JsonNode.Parse(File.ReadAllText(atBundle))!;
        var fromFlag = JsonNode.Parse(File.ReadAllText(atFlag))!;
        Assert.True((bool)fromBundle["calibrated"]!);
        Assert.Equal((recommended, "bundle"), ((double)fromBundle["min_confidence"]!, (string)fromBundle["min_confidence_source"]!));
        Assert.Equal((1.0, "flag"), ((double)fromFlag["min_confidence"]!, (string)fromFlag["min_confidence_source"]!));
        Assert.InRange((double)fromBundle["expected_calibration_error"]!, 0, 1);
        Assert.True((double)fromFlag["isolated_recall"]! > 0);
        Assert.Equal(0, (double)fromFlag["isolated_recall_at_min_confidence"]!);
        Assert.Equal(1, (double)fromFlag["uncaptioned_share"]!);
    }

    [Fact]
    public void Calibrate_NoCaptionNamesItsRecording_FailsAndLeavesTheManifest()
    {
        var bundle = CopyBundle();
        var manifestPath = Path.Combine(bundle, BundleManifest.FileName);
        var before = File.ReadAllBytes(manifestPath);
        var list = WriteList((_, category) => category);

        var exitCode = CalibrateCommand.Create().Parse(["--bundle", bundle, "--recordings", list, "--quiet-windows", "4", "--threads", "1"]).Invoke();
        var e = Assert.Throws<InvalidDataException>(() => ConfidenceCalibrator.Fit(Request(bundle, list, sounds: null), CancellationToken.None));

        Assert.Equal(2, exitCode);
        Assert.Equal(before, File.ReadAllBytes(manifestPath));
        Assert.Contains("no caption of its 38 recordings names the recording's category", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Calibrate_ListHoldsATestSplitRecording_Refused()
    {
        var bundle = CopyBundle();
        var sounds = WriteSounds();
        var list = _files.PathOf("test-leak.tsv");
        File.WriteAllText(list, $"path\tcategory\n{Path.Combine(sounds, "audio", "dog.wav")}\tdog\n{Path.Combine(Hearing, "cat-tuxpaint.wav")}\tword15\n");

        var e = Assert.Throws<InvalidDataException>(() => ConfidenceCalibrator.Fit(Request(bundle, list, sounds), CancellationToken.None));

        Assert.Contains("dog.wav is a recording of the test split", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Every third recording listed as <c>word15</c>, three more as <c>dog</c>, the rest by their category.</summary>
    private static string WithPositives(int index, string category) => index % 3 == 0 ? "word15" : index is 1 or 2 or 4 ? "dog" : category;

    private static CalibrationRequest Request(string bundle, string list, string? sounds) =>
        new(bundle, list, sounds, QuietWindows: 4, Seed: 1, new EvalCommand.EvalSettings(3, 16, 1, null));

    private static double Logit(double p)
    {
        p = Math.Clamp(p, 1e-6, 1 - 1e-6);
        return Math.Log(p / (1 - p));
    }

    private string CopyBundle()
    {
        var source = Path.Combine(RepositoryPaths.Root, "tests", "data", "labelled-bundle");
        var target = _files.PathOf("bundle/.keep");
        foreach (var file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(Path.GetDirectoryName(target)!, Path.GetFileName(file)));
        }

        return Path.GetDirectoryName(target)!;
    }

    /// <summary>The hearing recordings (absolute paths), their categories rewritten by <paramref name="category"/>(index, category).</summary>
    private string WriteList(Func<int, string, string> category)
    {
        var rows = File.ReadAllLines(Path.Combine(Hearing, "recordings.tsv")).Skip(1).Select(l => l.Split('\t')).ToArray();
        var path = _files.PathOf($"lists/{Guid.NewGuid():N}.tsv");
        File.WriteAllLines(path, rows.Select((r, i) => $"{Path.Combine(Hearing, r[0])}\t{category(i, r[1])}").Prepend("path\tcategory"));
        return path;
    }

    /// <summary>A sounds folder: rain and wind recordings of the val split (backgrounds) and a dog of the test split.</summary>
    private string WriteSounds()
    {
        var root = Path.GetDirectoryName(_files.PathOf("sounds/index.jsonl"))!;
        var lines = new List<string>();
        foreach (var (name, file, category, split) in new[] { ("rain", "rain-supertuxkart.wav", "rain", "val"), ("wind", "wind-berusky2.wav", "wind", "val"), ("dog", "dog-tuxpaint.wav", "dog", "test") })
        {
            File.Copy(Path.Combine(Hearing, file), _files.PathOf($"sounds/audio/{name}.wav"));
            lines.Add(new JsonObject
            {
                ["id"] = $"test/{name}",
                ["file"] = $"audio/{name}.wav",
                ["package"] = "test",
                ["path"] = file,
                ["category"] = category,
                ["caption"] = category,
                ["group"] = "TEST",
                ["license"] = "GPL-2+",
                ["copyright_file"] = "copyright/test.txt",
                ["split"] = split,
            }.ToJsonString());
        }

        File.WriteAllLines(Path.Combine(root, "index.jsonl"), lines);
        return root;
    }
}
