using System.Text.Json;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Distillation;
using CaptionDaemon.Training.Tests.Data;
using CaptionDaemon.Training.Tests.Models;
using CaptionDaemon.Training.Tests.Reporting;
using CaptionDaemon.Training.Training;

namespace CaptionDaemon.Training.Tests.Distillation;

public sealed class KdReproductionTests(DistillationFixture fixture) : IClassFixture<DistillationFixture>
{
    [Fact]
    public void Run_TinyTaggerModels_WritesEveryRowOfTheComparisonWithHearingMetricsInTheIssuesFormat()
    {
        var output = fixture.NewDirectory();
        // The teacher is trained on a tagger twice as wide as the one every student starts from.
        var teacherTagger = TinyModels.TaggerCheckpoint(Path.Combine(fixture.NewDirectory(), "teacher-tagger"), width: 2, seed: 5);
        var studentTagger = TinyModels.TaggerCheckpoint(Path.Combine(fixture.NewDirectory(), "student-tagger"), width: 1, seed: 6);
        // Isolated recordings (the evaluation split's tone and noise, named 'beep' and 'static') and the scene events
        // of the evaluation clips, as a generated scene set lists them, so both hearing metrics are measured.
        var recordings = Path.Combine(fixture.NewDirectory(), "recordings.tsv");
        Directory.CreateDirectory(Path.GetDirectoryName(recordings)!);
        File.WriteAllLines(recordings, ["path\tcategory", $"{Path.Combine(fixture.Root, "evaluation", "evaluation_00.wav")}\tbeep", $"{Path.Combine(fixture.Root, "evaluation", "evaluation_01.wav")}\tstatic"]);
        File.WriteAllLines(Path.Combine(fixture.Root, "scenes.jsonl"), [
            """{"file":"evaluation_00.wav","events":[{"category":"beep","caption":"a tone beeps"}]}""",
            """{"file":"evaluation_01.wav","events":[{"category":"static","caption":"noise hisses"}]}"""]);
        using var log = new StringWriter();
        var options = new KdReproductionOptions
        {
            OutputDirectory = output,
            DataDirectory = fixture.Root,
            TeacherEpochs = 2,
            StudentEpochs = 1,
            Seeds = [1],
            ScarceFraction = 0.5,
            BatchSize = 2,
            LearningRate = 3e-3,
            TeacherLearningRate = 3e-3,
            Subset = new SplitSizes(6, 2, null),
            Threads = 1,
            TimingRepeats = 1,
            WindowSeconds = 2,
            TeacherEncoder = teacherTagger,
            StudentEncoder = studentTagger,
            RecordingsList = recordings,
        };

        var rows = new KdReproduction(options, new TrainingProgress(log, isTerminal: false)).Run();

        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, KdReproduction.ResultsFileName)));
        var written = json.RootElement.GetProperty("rows").EnumerateArray().ToArray();
        Assert.Equal(10, written.Length);
        string[] keys = ["method", "labelled_fraction", "unlabelled", "seed", "bleu_4", "rouge_l", "cider_d", "isolated_recall", "event_recall", "params", "ms_per_clip", "speedup_vs_teacher"];
        Assert.All(written, row => Assert.Equal(keys, row.EnumerateObject().Select(p => p.Name)));
        // Both recall figures are measured for every row, the teacher's included, and are shares of 2 recordings and of 2 events.
        Assert.All(rows, r => Assert.True(r.IsolatedRecall is 0 or 0.5 or 1 && r.EventRecall is 0 or 0.5 or 1, r.ToString()));
        using (var teacherRecord = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, KdReproduction.TeacherMethod, CaptionTrainer.BestDirectoryName, TrainingRecord.FileName))))
        {
            Assert.Equal(Path.GetFullPath(teacherTagger), teacherRecord.RootElement.GetProperty("encoder").GetString());
        }

        var student = TrainingRecord.Load(Path.Combine(output, "runs", "sup+seq+mse-f0.5-s1", CaptionTrainer.BestDirectoryName));
        Assert.Equal(Path.GetFullPath(studentTagger), student.Encoder);
        var teacher = Assert.Single(written, row => row.GetProperty("method").GetString() == KdReproduction.TeacherMethod);
        Assert.Equal(1.0, teacher.GetProperty("speedup_vs_teacher").GetDouble());
        foreach (var method in new[] { "sup", "sup+seq", "sup+seq+mse", "sup+seq+contrastive" })
        {
            Assert.Equal([0.5, 1.0], rows.Where(r => r.Method == method).Select(r => r.LabelledFraction).Order());
        }

        var audioOnly = Assert.Single(rows, r => r.Unlabelled);
        Assert.EndsWith("+audio-only", audioOnly.Method, StringComparison.Ordinal);
        Assert.Equal(0.5, audioOnly.LabelledFraction);
        Assert.All(rows, r => Assert.True(r.MsPerClip > 0 && r.Params > 0 && double.IsFinite(r.CiderD)));
        var teacherRow = rows.Single(r => r.Method == KdReproduction.TeacherMethod);
        Assert.All(rows.Where(r => r.Method != KdReproduction.TeacherMethod), r => Assert.Equal(teacherRow.MsPerClip / r.MsPerClip, r.SpeedupVsTeacher, 2));
        Assert.True(rows.Where(r => r.Method != KdReproduction.TeacherMethod).All(r => r.Params < teacherRow.Params));
        var tableRows = File.ReadAllLines(Path.Combine(output, KdReproduction.TableFileName)).Select(l => l.Split('|').Select(c => c.Trim()).ToArray());
        Assert.Contains(tableRows, cells => cells.Length > 4 && cells[1..5].SequenceEqual(["sup+seq+contrastive", "0.5", "no", "1"]));
        Assert.Contains("| isolated recall | event recall |", File.ReadAllText(Path.Combine(output, KdReproduction.TableFileName)), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(output, KdReproduction.SettingsFileName)));
        Assert.Equal(6, ClothoDataset.Load(Path.Combine(output, KdReproduction.SubsetDirectoryName), ClothoDataset.Development).Count);
        Assert.Contains("plan: 10 runs on 6 development, 2 validation and 2 evaluation clips and 2 isolated recordings", log.ToString(), StringComparison.Ordinal);
        foreach (var (chart, width) in new[] { (KdCharts.QualitySpeedFileName, 1000), (KdCharts.HearingFileName, 1400), (KdCharts.ValidationCurvesFileName, 1000), (KdCharts.LossCurvesFileName, 1000) })
        {
            var png = ChartImage.Decode(File.ReadAllBytes(Path.Combine(output, chart)));
            Assert.Equal((width, 640), (png.Width, png.Height));
            Assert.True(png.InkShare > 0.02, $"{chart} is blank");
        }
    }

    [Fact]
    public void Write_GivenTeacherRowOnly_WritesTheRowChartsAndNoCurves()
    {
        // A given teacher is evaluated first and has no training record; the charts are rewritten after every row.
        using var files = new TestFiles();
        KdResultRow[] rows = [new("teacher", 1, false, 1, 0.3, 0.5, 1.1, 0.79, 0.24, 3_000_000, 30, 1)];

        KdCharts.Write(files.Root, rows, [("teacher", files.PathOf("no-run"))]);

        Assert.True(File.Exists(files.PathOf(KdCharts.QualitySpeedFileName)));
        Assert.True(File.Exists(files.PathOf(KdCharts.HearingFileName)));
        Assert.False(File.Exists(files.PathOf(KdCharts.ValidationCurvesFileName)));
    }

    [Fact]
    public void QualitySpeed_SeveralSeeds_OnePointPerMethodAndFractionAtTheMeans()
    {
        KdResultRow Row(string method, double fraction, int seed, double cider, double ms) => new(method, fraction, false, seed, 0.1, 0.2, cider, 0.5, 0.25, 100, ms, 1);

        var chart = KdCharts.QualitySpeed([Row("teacher", 1, 1, 0.5, 300), Row("sup", 1, 1, 0.2, 10), Row("sup", 1, 2, 0.4, 12), Row("sup", 0.1, 1, 0.1, 11)]);

        Assert.Equal(["teacher", "labelled 1", "labelled 0.1"], chart.Series.Select(s => s.Name));
        var sup = Assert.Single(chart.Series[1].Points);
        Assert.Equal((11, 0.3, "sup 1"), (sup.X, sup.Y, sup.Label), new PointComparer());
        Assert.True(chart.LogX);
        Assert.Equal((1000, 640), (ChartImage.Decode(chart.RenderPng()).Width, chart.Height));
    }

    private sealed class PointComparer : IEqualityComparer<(double X, double Y, string? Label)>
    {
        public bool Equals((double X, double Y, string? Label) a, (double X, double Y, string? Label) b) =>
            Math.Abs(a.X - b.X) < 1e-9 && Math.Abs(a.Y - b.Y) < 1e-9 && a.Label == b.Label;

        public int GetHashCode((double X, double Y, string? Label) obj) => 0;
    }

    [Fact]
    public void Table_SeveralSeeds_AddsMeansWithStandardDeviations()
    {
        KdResultRow Row(int seed, double cider, double? isolated) => new("sup+seq", 0.1, false, seed, 0.1, 0.2, cider, isolated, 0.5, 100, 5, 20);

        var table = KdReproduction.Table([Row(1, 0.2, 0.25), Row(2, 0.4, 0.75)]);

        // Cells compared after trimming: the table pads its columns.
        var lines = table.Split('\n').Select(l => l.Split('|').Select(c => c.Trim()).ToArray()).ToArray();
        Assert.Contains(lines, cells => cells.SequenceEqual(["", "sup+seq", "0.1", "no", "1", "0.1000", "0.2000", "0.2000", "0.250", "0.500", "100", "5.0", "20.0x", ""]));
        Assert.Contains(lines, cells => cells.SequenceEqual(["", "sup+seq", "0.1", "no", "2", "0.1000 ± 0.0000", "0.2000 ± 0.0000", "0.3000 ± 0.1414", "0.5000 ± 0.3536", "0.5000 ± 0.0000", ""]));
    }

    [Fact]
    public void Hearing_RowsWithAndWithoutRecall_OneGroupPerMethodAndFractionWithGapsWhereARowLacksAMetric()
    {
        KdResultRow Row(string method, double fraction, int seed, double cider, double? isolated, double? events) => new(method, fraction, false, seed, 0.1, 0.2, cider, isolated, events, 100, 10, 1);

        var chart = KdCharts.Hearing([Row("teacher", 1, 1, 0.5, 0.8, 0.6), Row("sup", 1, 1, 0.2, 0.2, null), Row("sup", 1, 2, 0.4, 0.4, null)]);

        Assert.Equal(["CIDEr-D", "isolated recall", "event recall"], chart.SeriesNames);
        Assert.Equal(["teacher", "sup\nlabelled 1"], chart.Groups.Select(g => g.Name));
        Assert.Equal([0.5, 0.8, 0.6], chart.Groups[0].Values);
        Assert.Equal(0.3, chart.Groups[1].Values[0], 9);
        Assert.Equal(0.3, chart.Groups[1].Values[1], 9);
        Assert.True(double.IsNaN(chart.Groups[1].Values[2]));
        Assert.True(ChartImage.Decode(chart.RenderPng()).InkShare > 0.02);
    }
}
