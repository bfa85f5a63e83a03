using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Distillation;
using CaptionDaemon.Training.Incremental;
using CaptionDaemon.Training.Tests.Data;

namespace CaptionDaemon.Training.Tests.Incremental;

public sealed class RehearsalMemoryTests
{
    [Fact]
    public void Save_ThenTryLoad_GivesTheClipsAudioAndTargetsBack()
    {
        using var files = new TestFiles();
        var first = files.Sine("data/dev_00001.wav", 1, frequency: 500);
        var second = files.Sine("data/dev_00002.wav", 1, frequency: 900);
        var clips = new[]
        {
            new MemoryClip("base/dev_00001.wav", first, ["a tone beeps", "a tone"], "tone", [new ClipEvent("tone", "a tone beeps")], "base"),
            new MemoryClip("task-2/dev_00002.wav", second, ["a whistle shrieks"], "whistle", [new ClipEvent("whistle", "a whistle shrieks")], "task-2"),
        };
        var memory = new RehearsalMemory(clips, MemorySelection.Herding, MemoryBudget.Parse("2%"), 120, ["base", "task-2"]);
        var settings = new TeacherTargetSettings { Beam = 3, TopK = 2 };
        var key = RehearsalMemory.TargetsKey("fingerprint-1", clips.Select(c => c.Id), settings);
        var targets = new TeacherTargets(
            key, [.. clips.Select(c => c.Id)], [[4, 5], [6]], [[0.5f, 1.5f], [2.5f, 3.5f]], 2, [([4, 7, 5, 8, 2, 9], [0.6f, 0.2f, 0.5f, 0.3f, 0.9f, 0.1f]), ([6, 4, 2, 5], [0.7f, 0.1f, 0.8f, 0.1f])]);
        var model = files.PathOf("model");

        memory.Save(model, targets, settings);
        File.Delete(first);
        var loaded = RehearsalMemory.TryLoad(model);
        var loadedTargets = RehearsalMemory.TryLoadTargets(model, key);

        Assert.NotNull(loaded);
        Assert.Equal(MemorySelection.Herding, loaded.Selection);
        Assert.Equal("2%", loaded.Budget.ToString());
        Assert.Equal(120, loaded.SeenClips);
        Assert.Equal(["base", "task-2"], loaded.Tasks);
        Assert.Equal(clips.Select(c => c.Id), loaded.Clips.Select(c => c.Id));
        Assert.Equal(clips.Select(c => c.Category), loaded.Clips.Select(c => c.Category));
        Assert.Equal(["a tone beeps", "a tone"], loaded.Clips[0].Captions);
        Assert.Equal(new ClipEvent("whistle", "a whistle shrieks"), loaded.Clips[1].Events.Single());
        // The audio travels with the memory: the copy decodes although the original is gone.
        Assert.StartsWith(RehearsalMemory.PathIn(model), loaded.Clips[0].AudioPath, StringComparison.Ordinal);
        Assert.Equal(16000, AudioDecoder.Decode(loaded.Clips[0].AudioPath, 16000, CancellationToken.None).Length);
        Assert.NotNull(loadedTargets);
        Assert.Equal([4, 5], loadedTargets.Caption(0));
        Assert.Equal([2.5f, 3.5f], loadedTargets.Embedding(1));
        Assert.Equal([0.7f, 0.1f, 0.8f, 0.1f], loadedTargets.Distribution(1).Probabilities);
    }

    [Fact]
    public void TryLoadTargets_AnotherModelsKey_GivesNothing()
    {
        using var files = new TestFiles();
        var audio = files.Sine("data/a.wav", 1);
        var clips = new[] { new MemoryClip("base/a.wav", audio, ["a tone beeps"], "tone", [new ClipEvent("tone", "a tone beeps")], "base") };
        var settings = new TeacherTargetSettings { Beam = 3, TopK = 0 };
        var key = RehearsalMemory.TargetsKey("model-a", ["base/a.wav"], settings);
        var model = files.PathOf("model");
        new RehearsalMemory(clips, MemorySelection.Random, MemoryBudget.Parse("1"), 1, ["base"]).Save(model, new TeacherTargets(key, ["base/a.wav"], [[4]], [[1f]], 0, null), settings);

        Assert.NotNull(RehearsalMemory.TryLoadTargets(model, key));
        Assert.Null(RehearsalMemory.TryLoadTargets(model, RehearsalMemory.TargetsKey("model-b", ["base/a.wav"], settings)));
        Assert.Null(RehearsalMemory.TryLoadTargets(model, RehearsalMemory.TargetsKey("model-a", ["base/a.wav"], settings with { Beam = 2 })));
    }

    [Fact]
    public void TryLoad_NoMemory_GivesNull()
    {
        using var files = new TestFiles();

        Assert.Null(RehearsalMemory.TryLoad(files.Root));
    }
}
