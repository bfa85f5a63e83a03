using System.Text.Json.Nodes;
using CaptionDaemon.Inference;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Data.Sounds;
using CaptionDaemon.Training.Evaluation;
using CaptionDaemon.Training.Export;
using CaptionDaemon.Training.Incremental;
using CaptionDaemon.Training.Tests.Data;
using CaptionDaemon.Training.Tests.Export;

namespace CaptionDaemon.Training.Tests.Evaluation;

public sealed class RecordingEvaluationTests(TrainedCheckpointFixture fixture) : IClassFixture<TrainedCheckpointFixture>
{
    private static readonly CategoryNames s_table = CategoryNames.LoadBundled();

    [Fact]
    public void EvalRecordings_RealFilesAndExportedBundle_JsonReportsCaptionsAndTheFiguresComputedFromThem()
    {
        // The tiny model learnt "a tone beeps softly" for the fixture's tone and "a noise hisses loudly" for its noise, so
        // the tone is named by its category and the noise, listed as a dog, is not.
        var bundle = Path.Combine(fixture.Directory, "bundle-recordings");
        BundleExporter.ExportCheckpoint(fixture.Checkpoint, bundle, "tiny-test", 1.0, 8, overwrite: true, "test");
        using var files = new TestFiles();
        WavFile.Write(files.PathOf("audio/tone.wav"), fixture.Audio[0], 16000, CancellationToken.None);
        WavFile.Write(files.PathOf("audio/noise.wav"), fixture.Audio[1], 16000, CancellationToken.None);
        // Through ffmpeg (FLAC), and shorter than the window: zero-padded.
        files.Ffmpeg("audio/tone.flac", "-i", files.PathOf("audio/tone.wav"));
        WavFile.Write(files.PathOf("audio/short-noise.wav"), fixture.Audio[1].AsSpan(0, 6000), 16000, CancellationToken.None);
        var scene = Path.Combine(RepositoryPaths.Root, "tests", "data", "incremental-demo", "vacuum-scene.wav");
        var list = files.PathOf("lists/recordings.tsv");
        File.WriteAllText(list, $"path\tcategory\n../audio/tone.wav\ttone\n../audio/tone.flac\ttone\n\n../audio/noise.wav\tdog\n../audio/short-noise.wav\tnoise\n{scene}\tvacuum\n");
        var jsonPath = files.PathOf("report.json");

        var exitCode = EvalCommand.Create().Parse(["--bundle", bundle, "--recordings", list, "--json", jsonPath, "--batch-size", "2"]).Invoke();

        Assert.Equal(0, exitCode);
        var json = JsonNode.Parse(File.ReadAllText(jsonPath))!.AsObject();
        var captions = json["captions"]!.AsObject().ToDictionary(p => p.Key, p => (string)p.Value!);
        Assert.Equal(["../audio/tone.wav", "../audio/tone.flac", "../audio/noise.wav", "../audio/short-noise.wav", scene], captions.Keys);
        var categories = new Dictionary<string, string>
        {
            ["../audio/tone.wav"] = "tone",
            ["../audio/tone.flac"] = "tone",
            ["../audio/noise.wav"] = "dog",
            ["../audio/short-noise.wav"] = "noise",
            [scene] = "vacuum",
        };
        var named = captions.ToDictionary(c => c.Key, c => s_table.Names(c.Value, categories[c.Key]));
        Assert.False(named["../audio/noise.wav"]);
        Assert.True(named["../audio/tone.wav"]);
        Assert.Equal(5, (int)json["recordings"]!);
        Assert.Equal(4, (int)json["categories"]!);
        Assert.Equal(Math.Round(named.Values.Count(n => n) / 5.0, 4), (double)json["isolated_recall"]!);
        Assert.Equal(Math.Round(captions.Values.Distinct().Count() / 4.0, 4), (double)json["distinct_caption_ratio"]!);
        var top = captions.Values.GroupBy(c => c).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First();
        Assert.Equal(top.Key, (string)json["top_caption"]!);
        Assert.Equal(Math.Round(top.Count() / 5.0, 4), (double)json["top_caption_share"]!);
        var perCategory = json["per_category"]!.AsObject();
        Assert.Equal(["dog", "noise", "tone", "vacuum"], perCategory.Select(p => p.Key));
        foreach (var (category, recall) in perCategory)
        {
            var ofCategory = categories.Where(c => c.Value == category).Select(c => named[c.Key]).ToList();
            Assert.Equal(Math.Round(ofCategory.Count(n => n) / (double)ofCategory.Count, 4), (double)recall!);
        }

        Assert.Equal(0.0, (double)json["min_confidence"]!);
        var quiet = json["quiet_captions"]!.AsObject();
        Assert.Equal(["silence", "room_tone", "hum_50hz", "hum_60hz", "tone_440hz", "tone_1khz", "fan", "fan_and_hum"], quiet.Select(q => q.Key));
        var alarms = quiet.Count(q => s_table.NamedIn((string)q.Value!["caption"]!).Any(c => !c.Background));
        Assert.Equal(Math.Round(alarms / 8.0, 4), (double)json["quiet_false_alarms"]!);
    }

    [Fact]
    public void Evaluate_SceneSetWithScenesJsonl_ReportsEventRecallOfTheCaptionsAndLeavesItOutWithout()
    {
        var bundle = Path.Combine(fixture.Directory, "bundle-scenes");
        BundleExporter.ExportCheckpoint(fixture.Checkpoint, bundle, "tiny-test", 1.0, 8, overwrite: true, "test");
        using var files = new TestFiles();
        WavFile.Write(files.PathOf("evaluation/eval_0001.wav"), fixture.Audio[0], 16000, CancellationToken.None);
        WavFile.Write(files.PathOf("evaluation/eval_0002.wav"), fixture.Audio[1], 16000, CancellationToken.None);
        File.WriteAllText(
            files.PathOf("clotho_captions_evaluation.csv"),
            "file_name,caption_1,caption_2,caption_3,caption_4,caption_5\n"
            + "eval_0001.wav,a tone beeps,a tone beeps,a tone beeps,a tone beeps,a tone beeps\n"
            + "eval_0002.wav,noise hisses,noise hisses,noise hisses,noise hisses,noise hisses\n");
        var settings = new EvalCommand.EvalSettings(3, 2, 1, null);
        var predictions = files.PathOf("predictions.jsonl");

        var without = EvalCommand.Evaluate(bundle, files.Root, "evaluation", settings, predictions, CancellationToken.None);
        File.WriteAllText(
            files.PathOf("scenes.jsonl"),
            """
            {"file":"eval_0001.wav","events":[{"category":"tone","caption":"a tone beeps"}]}
            {"file":"eval_0002.wav","events":[{"category":"noise","caption":"noise hisses"},{"category":"dog","caption":"a dog barks"}]}
            """);
        var with = EvalCommand.Evaluate(bundle, files.Root, "evaluation", settings, predictions, CancellationToken.None);

        Assert.Null(without.ToJson()["event_recall"]);
        var lines = File.ReadLines(predictions).Select(l => JsonNode.Parse(l)!).ToList();
        var captions = lines.ToDictionary(p => (string)p["id"]!, p => (string)p["caption"]!);
        Assert.All(lines, p => Assert.InRange((double)p["confidence"]!, 0.0, 1.0));
        Assert.All(lines, p => Assert.NotNull(p["labels"]!.AsArray()));
        var named = new[] { ("eval_0001.wav", "tone"), ("eval_0002.wav", "noise"), ("eval_0002.wav", "dog") }.Count(e => s_table.Names(captions[e.Item1], e.Item2));
        Assert.InRange(named, 1, 2);    // the tone is named, the dog is not
        Assert.Equal(Math.Round(named / 3.0, 4), (double)with.ToJson()["event_recall"]!);
        // The tiny bundle has no labels: nothing to report.
        Assert.Null(with.ToJson()["label_recall"]);
    }

    [Fact]
    public void HearingReport_WithLabels_CountsCategoriesAmongTheLabelsAndSpeechNamedInSpeechCaptions()
    {
        static LabelledRecording R(string name, string category) => new(name, "/x/" + name, category);
        RecordingCaption[] captions =
        [
            new(R("d.wav", "dog"), "a dog barks", 0.9f, true, ["dog", "speech"], [new("dog", 0.6f), new("speech", 0.3f), new("cat", 0.1f)]),
            new(R("c.wav", "cat"), "a dog barks", 0.8f, false, ["dog"], [new("dog", 0.6f), new("cat", 0.3f), new("bird", 0.1f)]),
            new(R("s1.wav", "speech"), "a man speaks", 0.7f, true, ["speech"], [new("speech", 0.6f), new("dog", 0.3f), new("cat", 0.1f)]),
            new(R("s2.wav", "speech"), "a bell rings", 0.6f, false, [], [new("bell", 0.6f), new("dog", 0.3f), new("cat", 0.1f)]),
            new(R("s3.wav", "speech"), "a woman talks", 0.6f, true, ["speech"], [new("speech", 0.6f), new("bell", 0.3f), new("dog", 0.1f)]),
        ];
        var withLabels = new HearingReport(captions, [], 0, 3) { HasLabels = true };
        var without = new HearingReport([.. captions.Select(c => c with { Labels = [] })], [], 0, 3);

        Assert.Equal(0.6, withLabels.LabelRecall!.Value, 6);          // dog, s1, s3
        Assert.Equal(3.0 / 5, withLabels.LabelPrecision!.Value, 6);    // 5 labels reported, 3 of them right
        Assert.Null(without.LabelPrecision);
        Assert.Equal(2.0 / 3, withLabels.SpeechRecall!.Value, 6);
        Assert.Null(without.LabelRecall);
        Assert.Equal(0.8, withLabels.LabelTop5Recall!.Value, 6);      // all but s2, whose top labels miss speech
        Assert.Null(without.LabelTop5Recall);
        var json = withLabels.ToJson();
        Assert.Equal(0.8, json["label_top5_recall"]!.GetValue<double>());
        Assert.Equal("[{\"label\":\"dog\",\"probability\":0.6},{\"label\":\"cat\",\"probability\":0.3},{\"label\":\"bird\",\"probability\":0.1}]", json["captions"]!["c.wav"]!["top_labels"]!.ToJsonString());
        Assert.Equal(0.6, json["label_recall"]!.GetValue<double>());
        Assert.Equal(0.6667, json["speech_recall"]!.GetValue<double>());
        Assert.Equal(0.6, json["label_precision"]!.GetValue<double>());
        Assert.Equal("[\"dog\",\"speech\"]", json["captions"]!["d.wav"]!["labels"]!.ToJsonString());
        Assert.Equal(0.9, json["captions"]!["d.wav"]!["confidence"]!.GetValue<double>(), 4);
        Assert.Equal("a dog barks", without.ToJson()["captions"]!["d.wav"]!.GetValue<string>());
        Assert.Null(without.ToJson()["label_recall"]);
    }

    [Fact]
    public void HearingReport_ReadConfidences_ReadsBackWhatToJsonWroteAndRefusesAReportWithoutThem()
    {
        static RecordingCaption C(string name, float confidence) => new(new LabelledRecording(name, "/x/" + name, "dog"), "a dog barks", confidence, true, [], []);
        RecordingCaption[] captions = [C("a.wav", 0.91234f), C("b.wav", 0.03156f)];
        var directory = Directory.CreateTempSubdirectory("hearing-read-");
        try
        {
            var labelled = Path.Combine(directory.FullName, "labelled.json");
            File.WriteAllText(labelled, new HearingReport(captions, [], 0, 3) { HasLabels = true }.ToJson().ToJsonString());
            Assert.Equal([0.9123, 0.0316], HearingReport.ReadConfidences(labelled).Order().Reverse());

            // Without labels a report lists captions only: no confidences to choose a minimum from.
            var plain = Path.Combine(directory.FullName, "plain.json");
            File.WriteAllText(plain, new HearingReport(captions, [], 0, 3).ToJson().ToJsonString());
            Assert.Contains("has no confidence", Assert.Throws<InvalidDataException>(() => HearingReport.ReadConfidences(plain)).Message, StringComparison.Ordinal);
            var other = Path.Combine(directory.FullName, "other.json");
            File.WriteAllText(other, "{\"cider_d\": 0.9}");
            Assert.Contains("no 'captions' object", Assert.Throws<InvalidDataException>(() => HearingReport.ReadConfidences(other)).Message, StringComparison.Ordinal);
            Assert.Throws<InvalidDataException>(() => HearingReport.ReadConfidences(Path.Combine(directory.FullName, "missing.json")));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void HearingReport_UncaptionedShare_CountsRecordingsUnderTheMinimumConfidence()
    {
        static RecordingCaption C(string name, float confidence) => new(new LabelledRecording(name, "/x/" + name, "dog"), "a dog barks", confidence, true, [], []);
        RecordingCaption[] captions = [C("a.wav", 0.9f), C("b.wav", 0.3f), C("c.wav", 0.29f), C("d.wav", 0.1f)];

        Assert.Equal(0.5, new HearingReport(captions, [], 0.3, 3).UncaptionedShare, 6);     // c and d: under 0.3
        Assert.Equal(0, new HearingReport(captions, [], 0, 3).UncaptionedShare, 6);
        Assert.Equal(0.5, new HearingReport(captions, [], 0.3, 3).ToJson()["uncaptioned_share"]!.GetValue<double>());
    }

    [Fact]
    public void IsFalseAlarm_QuietClipCaptions_OnlyPublishedSoundEventsCount()
    {
        static CaptionResult Result(string text, float confidence) => new(text, confidence, [], 0, Ended: true);

        Assert.True(RecordingEvaluation.IsFalseAlarm(Result("a dog barks while wind blows", 0.9f), s_table, 0));
        Assert.False(RecordingEvaluation.IsFalseAlarm(Result("wind blows through trees", 0.9f), s_table, 0));
        Assert.False(RecordingEvaluation.IsFalseAlarm(Result("a low hum", 0.9f), s_table, 0));
        Assert.False(RecordingEvaluation.IsFalseAlarm(Result("a dog barks", 0.3f), s_table, 0.5));
        Assert.True(RecordingEvaluation.IsFalseAlarm(Result("a dog barks", 0.0f), s_table, 0));
    }

    [Fact]
    public void QuietClips_Generate_IsDeterministicAtTheDocumentedLevels()
    {
        var clips = QuietClips.Generate(16000);
        var again = QuietClips.Generate(16000);

        Assert.Equal(clips.Select(c => c.Samples), again.Select(c => c.Samples));
        Assert.All(clips, c => Assert.Equal(160000, c.Samples.Length));
        Assert.All(clips[0].Samples, s => Assert.Equal(0f, s));
        var levels = clips.Skip(1).ToDictionary(c => c.Name, c => QuietClips.RmsDb(c.Samples));
        Assert.Equal(-60, levels["room_tone"], 0.05);
        Assert.Equal(-40, levels["hum_50hz"], 0.05);
        Assert.Equal(-40, levels["hum_60hz"], 0.05);
        Assert.Equal(-20, levels["tone_440hz"], 0.05);
        Assert.Equal(-20, levels["tone_1khz"], 0.05);
        Assert.Equal(-45, levels["fan"], 0.05);
        Assert.Equal(-42, levels["fan_and_hum"], 0.1);  // two uncorrelated -45 dBFS signals
    }

    [Theory]
    [InlineData("--data d --recordings r.tsv")]
    [InlineData("--split evaluation")]
    [InlineData("--recordings r.tsv --split evaluation")]
    [InlineData("--recordings r.tsv --record")]
    [InlineData("--recordings r.tsv --label-fusion -1")]
    [InlineData("--data d --record --label-fusion 2")]
    [InlineData("--data d --record --no-repeat-ngram 0")]
    [InlineData("--data d --record --length-penalty 1.5")]
    [InlineData("--data d --no-repeat-ngram -1")]
    [InlineData("--data d --length-penalty -1")]
    public void Parse_NotExactlyOneSourceOrDataOptionsWithRecordingsOrBadDecoding_IsAnError(string arguments)
    {
        var result = EvalCommand.Create().Parse(["--bundle", "b", .. arguments.Split(' ')]);

        Assert.NotEmpty(result.Errors);
    }

    [Fact]
    public void Parse_RecordingsAndJsonOnly_IsValid()
        => Assert.Empty(EvalCommand.Create().Parse(["--bundle", "b", "--recordings", "r.tsv", "--json", "out.json"]).Errors);

    [Fact]
    public void Parse_LabelFusionWeight_IsValid()
        => Assert.Empty(EvalCommand.Create().Parse(["--bundle", "b", "--recordings", "r.tsv", "--label-fusion", "5"]).Errors);

    [Fact]
    public void LabelScores_ReportedLabels_CountEventsWithALabelAndLabelsOfSoundsTheClipHolds()
    {
        var events = new Dictionary<string, IReadOnlyList<ClipEvent>>
        {
            ["eval_0001.wav"] = [new ClipEvent("dog", "a dog barks"), new ClipEvent("door", "a door closes")],
            ["eval_0002.wav"] = [new ClipEvent("cat", "a cat meows"), new ClipEvent("kazoo", "a kazoo buzzes")],
        };
        var heard = new Dictionary<string, IReadOnlyList<string>>
        {
            ["eval_0001.wav"] = ["dog", "door", "rain"],
            ["eval_0002.wav"] = ["cat", "kazoo"],
            ["eval_0003.wav"] = ["nothing"],
        };
        // The bundle knows no kazoo: that event is not counted. Rain is the first clip's background: a right label, not an event.
        string[] labels = ["cat", "dog", "door", "rain", "nothing"];

        var scores = EvalCommand.LabelScores(
            ["eval_0001.wav", "eval_0002.wav", "eval_0003.wav"], [["dog", "rain", "cat"], [], ["nothing", "dog"]], events, heard, labels)!;

        Assert.Equal(3, scores.Events);
        Assert.Equal(1.0 / 3, scores.Recall, 9);
        Assert.Equal(5, scores.Reported);
        Assert.Equal(3.0 / 5, scores.Precision, 9);
        Assert.Null(EvalCommand.LabelScores(["eval_0002.wav"], [["cat"]], events, heard, ["dog"]));
    }

    [Fact]
    public void EventRecall_ScenesWithEvents_CountsTheEventsEachCaptionNames()
    {
        var events = new Dictionary<string, IReadOnlyList<ClipEvent>>
        {
            ["eval_0001.wav"] = [new ClipEvent("dog", "a dog barks"), new ClipEvent("door", "a door closes")],
            ["eval_0002.wav"] = [new ClipEvent("rain", "rain falls")],
            ["dev_0001.wav"] = [new ClipEvent("cat", "a cat meows")],
        };

        var named = EvalCommand.NamedEvents(
            ["eval_0001.wav", "eval_0002.wav", "eval_0003.wav"], ["dogs are barking in the distance", "heavy rain", "a cat meows"], events, s_table);

        Assert.Equal([new NamedSound("dog", true), new NamedSound("door", false), new NamedSound("rain", true)], named);
        Assert.Equal(2.0 / 3, EvalCommand.EventRecall(named)!.Value, 9);
        Assert.Null(EvalCommand.EventRecall(EvalCommand.NamedEvents(["eval_0003.wav"], ["a cat meows"], events, s_table)));
    }

    [Fact]
    public void TrainingCoverage_Breakdown_SharesAndRecallPerBandOfTrainRecordings()
    {
        var coverage = new TrainingCoverage(new Dictionary<string, int> { ["dog"] = 61, ["door"] = 60, ["cat"] = 5, ["seal"] = 6 });
        NamedSound[] events = [new("dog", true), new("dog", false), new("door", true), new("cat", false), new("fox", false), new("fox", true), new("seal", true), new("seal", true)];

        var bands = coverage.Breakdown(events, "events", "event_recall").Select(b => b!.AsObject()).ToList();

        Assert.Equal(["0", "1-5", "6-20", "21-60", "61+"], bands.Select(b => (string)b["train_recordings"]!));
        Assert.Equal([2, 1, 2, 1, 2], bands.Select(b => (int)b["events"]!));
        Assert.Equal([0.25, 0.125, 0.25, 0.125, 0.25], bands.Select(b => (double)b["share_of_events"]!));
        Assert.Equal([0.5, 0.0, 1.0, 1.0, 0.5], bands.Select(b => (double)b["event_recall"]!));
        Assert.Null(coverage.Breakdown([new("dog", true)], "events", "event_recall")[0]!["event_recall"]);
        var recordings = coverage.Breakdown([new("cat", true), new("cat", false)], "recordings", "isolated_recall")[1]!.AsObject();
        Assert.Equal(["train_recordings", "recordings", "share_of_recordings", "isolated_recall"], recordings.Select(p => p.Key));
        Assert.Equal(0.5, (double)recordings["isolated_recall"]!);
    }

    [Fact]
    public void TrainingCoverage_Load_CountsTheTrainSplitOnly()
    {
        using var files = new TestFiles();
        SoundIndex.Write(files.Root, [Entry("a", "dog", "train"), Entry("b", "dog", "train"), Entry("c", "dog", "test"), Entry("d", "cat", "val")]);

        var coverage = TrainingCoverage.Load(files.Root);

        Assert.Equal(2, coverage.TrainRecordings("dog"));
        Assert.Equal(0, coverage.TrainRecordings("cat"));
        Assert.Equal("1-5", coverage.Band("dog"));
        Assert.Equal("0", coverage.Band("cat"));
        File.Delete(Path.Combine(files.Root, SoundIndex.FileName));
        SoundIndex.Write(files.Root, [Entry("c", "dog", "test")]);
        Assert.Contains("no train recordings", Assert.Throws<DatasetFormatException>(() => TrainingCoverage.Load(files.Root)).Message, StringComparison.Ordinal);
    }

    private static SoundIndexEntry Entry(string id, string category, string split) => new()
    {
        Id = id, File = $"audio/{id}.wav", Package = "p", SourcePath = $"{id}.ogg", Category = category, Caption = category,
        Group = "ENV", License = "GPL", CopyrightFile = "copyright/p.txt", Split = split,
    };
}
