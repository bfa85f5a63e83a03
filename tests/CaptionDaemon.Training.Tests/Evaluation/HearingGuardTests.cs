using System.Globalization;
using System.Text.Json.Nodes;
using CaptionDaemon.Training.Evaluation;
using CaptionDaemon.Training.Tests.Data;

namespace CaptionDaemon.Training.Tests.Evaluation;

/// <summary>
/// The guard against a default model that does not hear: the shipped models/default captions the hearing set
/// (tests/data/hearing, real recordings from the test-split packages, see its NOTICE) through <c>eval --recordings</c>
/// and must reach the limits in tests/data/hearing/thresholds.json, the one place they are kept.
/// </summary>
public sealed class HearingGuardTests
{
    private static readonly string s_hearing = Path.Combine(RepositoryPaths.Root, "tests", "data", "hearing");

    [Fact]
    public void EvalRecordings_DefaultBundleOnHearingSet_NamesAndTellsApartAtLeastAsWellAsTheThresholds()
    {
        var thresholds = JsonNode.Parse(File.ReadAllText(Path.Combine(s_hearing, "thresholds.json")))!.AsObject();
        var minRecall = Limit(thresholds, "min_isolated_recall");
        var maxTopShare = Limit(thresholds, "max_top_caption_share");
        using var files = new TestFiles();
        var jsonPath = files.PathOf("hearing.json");

        var exitCode = EvalCommand.Create()
            .Parse(["--bundle", RepositoryPaths.DefaultModel, "--recordings", Path.Combine(s_hearing, "recordings.tsv"), "--json", jsonPath])
            .Invoke();

        Assert.Equal(0, exitCode);
        var report = JsonNode.Parse(File.ReadAllText(jsonPath))!.AsObject();
        var recall = (double)report["isolated_recall"]!;
        var topShare = (double)report["top_caption_share"]!;
        var figures = string.Create(
            CultureInfo.InvariantCulture,
            $"isolated_recall {recall}, top_caption_share {topShare} (\"{(string)report["top_caption"]!}\") on {(int)report["recordings"]!} recordings");
        Assert.True(recall >= minRecall, $"models/default names fewer recordings than thresholds.json's min_isolated_recall {minRecall}: {figures}.");
        Assert.True(
            topShare <= maxTopShare,
            $"models/default gives one caption to more recordings than thresholds.json's max_top_caption_share {maxTopShare} allows: {figures}.");

        // The labelled bundle's five most probable labels per recording, and the share whose category is among them:
        // at least the share whose category was reported above its threshold.
        Assert.All(report["captions"]!.AsObject(), c => Assert.Equal(5, c.Value!["top_labels"]!.AsArray().Select(l => (string)l!["label"]!).Distinct().Count()));
        Assert.InRange((double)report["label_top5_recall"]!, (double)report["label_recall"]!, 1.0);
    }

    private static double Limit(JsonObject thresholds, string key)
        => thresholds[key] is { } value ? (double)value : throw new InvalidDataException($"{Path.Combine(s_hearing, "thresholds.json")} has no '{key}'.");
}
