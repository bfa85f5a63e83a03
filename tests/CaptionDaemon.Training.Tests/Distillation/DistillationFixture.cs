using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Tests.Models;
using CaptionDaemon.Training.Tests.Training;
using CaptionDaemon.Training.Training;

namespace CaptionDaemon.Training.Tests.Distillation;

/// <summary>
/// The synthetic Clotho set (real WAV files made by ffmpeg) and a tiny teacher trained on it for a few epochs with the
/// real trainer, once per test class; folders for runs and target caches under the data set's root.
/// </summary>
public sealed class DistillationFixture : IDisposable
{
    private readonly SyntheticClotho _data = new();

    public DistillationFixture()
    {
        TeacherRun = _data.NewOutputDirectory();
        TeacherRecord = new CaptionTrainer(TeacherOptions(TeacherRun), new TrainingProgress(TextWriter.Null, isTerminal: false)).Run();
    }

    public string Root => _data.Root;

    /// <summary>The teacher's <c>train</c> run folder (best/, last/).</summary>
    public string TeacherRun { get; }

    internal TrainingRecord TeacherRecord { get; }

    public string TeacherCheckpoint => Path.Combine(TeacherRun, CaptionTrainer.BestDirectoryName);

    public string NewDirectory() => _data.NewOutputDirectory();

    public void Dispose() => _data.Dispose();

    internal static TrainOptions StudentTrainOptions(string data, string output, int epochs = 1) => new()
    {
        DataDirectory = data,
        OutputDirectory = output,
        Epochs = epochs,
        BatchSize = 2,
        LearningRate = 3e-3,
        WarmupSteps = 1,
        Seed = 3,
        Threads = 1,
        WindowSeconds = 2,
        MaxDecodeTokens = 8,
        CommandLine = "test-distill",
        ModelConfig = TinyModels.Student,
    };

    private TrainOptions TeacherOptions(string output) => new()
    {
        DataDirectory = _data.Root,
        OutputDirectory = output,
        Epochs = 4,
        BatchSize = 4,
        LearningRate = 3e-3,
        WarmupSteps = 2,
        Seed = 7,
        Threads = 2,
        MinWordCount = 1,
        WindowSeconds = 2,
        MaxDecodeTokens = 8,
        Size = "teacher",
        CommandLine = "test-teacher",
        ModelConfig = vocabSize => new CaptionModelConfig
        {
            VocabSize = vocabSize,
            EncoderChannels = [8, 16],
            DModel = 32,
            DecoderLayers = 1,
            Heads = 4,
            FeedForward = 64,
            Dropout = 0,
            MaxTokens = 12,
        },
    };
}
