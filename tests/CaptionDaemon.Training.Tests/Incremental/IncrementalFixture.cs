using System.Globalization;
using System.Text.Json;
using CaptionDaemon.Training.Tests.Data;
using CaptionDaemon.Training.Tests.Models;
using CaptionDaemon.Training.Training;

namespace CaptionDaemon.Training.Tests.Incremental;

/// <summary>
/// Two small tasks of real WAV files made by ffmpeg, each in the Clotho layout with a scenes.jsonl naming every clip's
/// event: task A (a tone beeps, noise hisses) and task B (a whistle shrieks, with words task A never had). A tiny base
/// model is trained on task A with the real trainer once per test class.
/// </summary>
public sealed class IncrementalFixture : IDisposable
{
    private readonly TestFiles _files = new();

    public IncrementalFixture()
    {
        TaskA = WriteTask("task-a", [("tone", "a tone beeps", i => Sine(400 + (i * 50))), ("noise", "noise hisses", i => Noise(i))]);
        TaskB = WriteTask("task-b", [("whistle", "a whistle shrieks", i => ["-f", "lavfi", "-i", Invariant($"sine=frequency={2500 + (i * 100)}:sample_rate=16000:duration=2"), "-af", "tremolo=f=9:d=0.9"])]);
        BaseRun = NewDirectory();
        new CaptionTrainer(BaseOptions(BaseRun), new TrainingProgress(TextWriter.Null, isTerminal: false)).Run();
    }

    /// <summary>How the base is trained on task A (a tiny CNN student), into <paramref name="output"/>.</summary>
    internal TrainOptions BaseOptions(string output) => new()
    {
        DataDirectory = TaskA,
        OutputDirectory = output,
        Epochs = 3,
        BatchSize = 4,
        LearningRate = 3e-3,
        WarmupSteps = 1,
        Seed = 5,
        Threads = 2,
        MinWordCount = 1,
        WindowSeconds = 2,
        MaxDecodeTokens = 8,
        CommandLine = "test-incremental-base",
        ModelConfig = TinyModels.Student,
    };

    public string TaskA { get; }

    public string TaskB { get; }

    /// <summary>The base's <c>train</c> run folder (best/ holds the checkpoint).</summary>
    public string BaseRun { get; }

    public string BaseCheckpoint => Path.Combine(BaseRun, CaptionTrainer.BestDirectoryName);

    public string NewDirectory() => _files.PathOf(Path.Combine("runs", Guid.NewGuid().ToString("N")));

    public void Dispose() => _files.Dispose();

    private static string[] Sine(int frequency) => ["-f", "lavfi", "-i", Invariant($"sine=frequency={frequency}:sample_rate=16000:duration=2")];

    private static string[] Noise(int seed) => ["-f", "lavfi", "-i", Invariant($"anoisesrc=color=pink:amplitude=0.4:sample_rate=16000:duration=2:seed={seed + 1}")];

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private string WriteTask(string name, (string Category, string Caption, Func<int, string[]> Audio)[] events)
    {
        var scenes = new List<string>();
        foreach (var (split, prefix, count) in new[] { ("development", "dev", 6), ("validation", "val", 2), ("evaluation", "eval", 2) })
        {
            var lines = new List<string> { "file_name,caption_1,caption_2" };
            for (var i = 0; i < count; i++)
            {
                var (category, caption, audio) = events[i % events.Length];
                var file = Invariant($"{prefix}_{i + 1:D5}.wav");
                _files.Ffmpeg(Path.Combine(name, split, file), audio(i));
                lines.Add($"{file},{caption},{caption} nearby");
                scenes.Add(JsonSerializer.Serialize(new { file, split, events = new[] { new { category, caption } } }));
            }

            File.WriteAllLines(_files.PathOf(Path.Combine(name, $"clotho_captions_{split}.csv")), lines);
        }

        File.WriteAllLines(_files.PathOf(Path.Combine(name, "scenes.jsonl")), scenes);
        return Path.Combine(_files.Root, name);
    }
}
