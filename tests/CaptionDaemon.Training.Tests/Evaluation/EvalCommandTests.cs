using System.Text.Json.Nodes;
using CaptionDaemon.Inference;
using CaptionDaemon.Training.Evaluation;
using CaptionDaemon.Training.Export;
using CaptionDaemon.Training.Tests.Distillation;
using CaptionDaemon.Training.Training;

namespace CaptionDaemon.Training.Tests.Evaluation;

public sealed class EvalCommandTests : IClassFixture<DistillationFixture>
{
    private readonly DistillationFixture _fixture;

    public EvalCommandTests(DistillationFixture fixture) => _fixture = fixture;

    [Fact]
    public void RunWithTeacherAndRecord_ExportedStudentAndTeacher_ManifestGetsBothModelsMetricsAndTheMeasuredSpeedup()
    {
        var teacherBundle = Path.Combine(_fixture.NewDirectory(), "teacher-bundle");
        BundleExporter.ExportCheckpoint(_fixture.TeacherCheckpoint, teacherBundle, "teacher", 2.0, null, overwrite: false, "test");
        var studentRun = _fixture.NewDirectory();
        new CaptionTrainer(DistillationFixture.StudentTrainOptions(_fixture.Root, studentRun, epochs: 2), new TrainingProgress(TextWriter.Null, isTerminal: false)).Run();
        var studentBundle = Path.Combine(_fixture.NewDirectory(), "student-bundle");
        BundleExporter.ExportCheckpoint(Path.Combine(studentRun, CaptionTrainer.BestDirectoryName), studentBundle, "student", 2.0, null, overwrite: false, "test");
        var settings = new EvalCommand.EvalSettings(3, 4, 1, null);
        var request = new EvalCommand.EvalRequest(studentBundle, _fixture.Root, "evaluation", settings, teacherBundle);

        var comparison = EvalCommand.Run(request, null, CancellationToken.None);
        EvalCommand.RecordInManifest(studentBundle, request, comparison);
        var result = comparison.ToJson();

        var latency = result["latency"]!.AsObject();
        Assert.Equal(Math.Round((double)latency["teacher_ms_per_clip"]! / (double)latency["ms_per_clip"]!, 3), (double)result["speedup_vs_teacher"]!);
        Assert.True((int)latency["words"]! >= 1);
        var teacherAlone = EvalCommand.Evaluate(teacherBundle, _fixture.Root, "evaluation", settings, null, CancellationToken.None);
        Assert.Equal(teacherAlone.Scores.CiderD, (double)result["teacher"]!["cider_d"]!, 9);

        var manifest = JsonNode.Parse(File.ReadAllText(Path.Combine(studentBundle, "manifest.json")))!;
        var training = manifest["training"]!;
        Assert.Equal("supervised", (string)training["method"]!);
        Assert.Equal((double)result["cider_d"]!, (double)training["metrics"]!["cider_d"]!);
        Assert.Equal("beam 3", (string)training["metrics_decoding"]!);
        Assert.Equal("evaluation", (string)training["metrics_split"]!);
        Assert.Equal(teacherAlone.Scores.CiderD, (double)training["teacher"]!["metrics"]!["cider_d"]!, 9);
        Assert.Equal((double)result["speedup_vs_teacher"]!, (double)training["speedup_vs_teacher"]!);
        Assert.Null(training["metrics"]!["ms_per_clip"]);
        // Rewriting the manifest leaves the bundle loadable: the graph hashes do not cover it.
        using var reloaded = CaptionBundle.Load(studentBundle);
        Assert.Equal("student", reloaded.Manifest.Name);
    }
}
