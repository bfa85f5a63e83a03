using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Distillation;
using CaptionDaemon.Training.Export;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Training;

namespace CaptionDaemon.Training.Tests.Distillation;

public sealed class TeacherTargetCacheTests(DistillationFixture fixture) : IClassFixture<DistillationFixture>
{
    [Fact]
    public void LoadOrCompute_SecondCall_ReadsTheSameTargetsFromTheCache()
    {
        var cache = fixture.NewDirectory();
        using var teacher = CaptionTeacher.Open(fixture.TeacherRun, 2, cache, threads: 1);
        var clips = Clips(teacher);
        var settings = new TeacherTargetSettings { TopK = 3, BatchSize = 3 };
        var messages = new List<string>();

        var computed = TeacherTargetCache.LoadOrCompute(teacher, clips, settings, cache, messages.Add, CancellationToken.None);
        var read = TeacherTargetCache.LoadOrCompute(teacher, clips, settings, cache, messages.Add, CancellationToken.None);

        Assert.Contains(messages, m => m.StartsWith("computing teacher targets", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("teacher targets of 8 clips read from", StringComparison.Ordinal));
        Assert.True(File.Exists(TeacherTargetCache.PathOf(cache, computed.Key)));
        Assert.Equal(computed.Key, read.Key);
        Assert.Equal(clips.Clips.Select(c => c.Id), read.ClipIds);
        Assert.Equal(teacher.EmbeddingDim, read.EmbeddingDim);
        for (var i = 0; i < clips.Count; i++)
        {
            Assert.Equal(computed.Caption(i), read.Caption(i));
            Assert.Equal(computed.Embedding(i), read.Embedding(i));
            Assert.Equal(computed.Distribution(i).Ids, read.Distribution(i).Ids);
            Assert.Equal(computed.Distribution(i).Probabilities, read.Distribution(i).Probabilities);
        }
    }

    [Fact]
    public void LoadOrCompute_AudioFrames_KeepsTheEncoderOutputSequenceUnderItsOwnKey()
    {
        var cache = fixture.NewDirectory();
        using var teacher = CaptionTeacher.Open(fixture.TeacherRun, 2, cache, threads: 1);
        var clips = Clips(teacher);
        var pooled = TeacherTargetCache.LoadOrCompute(teacher, clips, new TeacherTargetSettings { BatchSize = 4 }, cache, null, CancellationToken.None);

        var frames = TeacherTargetCache.LoadOrCompute(teacher, clips, new TeacherTargetSettings { BatchSize = 4, AudioFrames = true }, cache, null, CancellationToken.None);
        var read = TeacherTargets.TryLoad(TeacherTargetCache.PathOf(cache, frames.Key), frames.Key)!;

        Assert.NotEqual(pooled.Key, frames.Key);
        Assert.False(pooled.AudioFrames);
        Assert.True(read.AudioFrames);
        // The bundle's encoder output (memory) for the first window, as the TorchSharp checkpoint computes it.
        using var model = CaptionModel.LoadCheckpoint(fixture.TeacherCheckpoint);
        model.eval();
        using var noGrad = TorchSharp.torch.no_grad();
        var window = new float[teacher.WindowSamples];
        clips.CopyWindow(0, window, random: null);
        var memory = model.Encode(TorchSharp.torch.tensor(window, [1, window.Length])).Memory.flatten(1).data<float>().ToArray();
        Assert.Equal(memory.Length, read.EmbeddingDim);
        Assert.Equal(read.Embedding(0), frames.Embedding(0));
        for (var i = 0; i < memory.Length; i++)
        {
            Assert.Equal(memory[i], read.Embedding(0)[i], 1e-3);
        }
    }

    [Fact]
    public void Compute_TrainedTeacher_CaptionsWithItsWordsAndGivesDescendingTopKPerStep()
    {
        var cache = fixture.NewDirectory();
        using var teacher = CaptionTeacher.Open(fixture.TeacherRun, 2, cache, threads: 1);
        var clips = Clips(teacher);

        var targets = TeacherTargetCache.Compute(teacher, clips, new TeacherTargetSettings { TopK = 4, BatchSize = 8 }, "k", null, CancellationToken.None);

        Assert.Contains(Enumerable.Range(0, clips.Count), i => targets.Caption(i).Length > 0);
        for (var i = 0; i < clips.Count; i++)
        {
            var (ids, probabilities) = targets.Distribution(i);
            Assert.Equal((targets.Caption(i).Length + 1) * 4, ids.Length);
            Assert.All(ids, id => Assert.InRange(id, 0, teacher.Vocabulary.Count - 1));
            for (var step = 0; step < ids.Length / 4; step++)
            {
                var row = probabilities.AsSpan(step * 4, 4).ToArray();
                Assert.Equal(row.OrderDescending(), row);
                Assert.InRange(row.Sum(), 0, 1.0001);
            }

            // Caption words are words or <unk>, never <pad>, <start> or <end>.
            Assert.All(targets.Caption(i), id => Assert.InRange(id, CaptionModel.UnknownToken, teacher.Vocabulary.Count - 1));
            Assert.Equal(teacher.EmbeddingDim, targets.Embedding(i).Length);
            Assert.All(targets.Embedding(i), v => Assert.True(float.IsFinite(v)));
        }
    }

    [Fact]
    public void KeyOf_OtherTeacherSettingsOrTouchedAudio_GivesAnotherKey()
    {
        var cache = fixture.NewDirectory();
        using var teacher = CaptionTeacher.Open(fixture.TeacherRun, 2, cache, threads: 1);
        var copy = Path.Combine(fixture.NewDirectory(), "teacher-copy");
        CopyDirectory(fixture.TeacherCheckpoint, copy);
        using var sameWeights = CaptionTeacher.Open(copy, 2, cache, threads: 1);
        var retrained = Path.Combine(fixture.NewDirectory(), "teacher-retrained");
        CopyDirectory(fixture.TeacherCheckpoint, retrained);
        using (var model = CaptionModel.LoadCheckpoint(retrained))
        {
            using var noGrad = TorchSharp.torch.no_grad();
            model.Decoder.parameters().First().add_(0.01);
            model.SaveCheckpoint(retrained, teacher.Vocabulary.Tokens);
        }

        using var otherWeights = CaptionTeacher.Open(retrained, 2, cache, threads: 1);
        var clips = Clips(teacher).Clips.ToList();
        var settings = new TeacherTargetSettings();
        var key = TeacherTargetCache.KeyOf(teacher, clips, settings);

        Assert.Equal(key, TeacherTargetCache.KeyOf(sameWeights, clips, settings));
        Assert.NotEqual(key, TeacherTargetCache.KeyOf(otherWeights, clips, settings));
        Assert.NotEqual(key, TeacherTargetCache.KeyOf(teacher, clips, settings with { TopK = 5 }));
        Assert.NotEqual(key, TeacherTargetCache.KeyOf(teacher, clips, settings with { Beam = 2 }));
        Assert.NotEqual(key, TeacherTargetCache.KeyOf(teacher, clips.Take(7).ToList(), settings));

        var audioCopy = Path.Combine(fixture.NewDirectory(), "clip.wav");
        Directory.CreateDirectory(Path.GetDirectoryName(audioCopy)!);
        File.Copy(clips[0].AudioPath, audioCopy);
        var withCopy = clips.Skip(1).Prepend(clips[0] with { AudioPath = audioCopy }).ToList();
        var before = TeacherTargetCache.KeyOf(teacher, withCopy, settings);
        File.SetLastWriteTimeUtc(audioCopy, DateTime.UtcNow.AddMinutes(5));
        Assert.NotEqual(before, TeacherTargetCache.KeyOf(teacher, withCopy, settings));
    }

    [Fact]
    public void LoadOrCompute_RetrainedTeacher_RecomputesInsteadOfReusingStaleTargets()
    {
        var cache = fixture.NewDirectory();
        using var teacher = CaptionTeacher.Open(fixture.TeacherRun, 2, cache, threads: 1);
        var clips = Clips(teacher);
        var first = TeacherTargetCache.LoadOrCompute(teacher, clips, new TeacherTargetSettings(), cache, null, CancellationToken.None);
        var retrained = Path.Combine(fixture.NewDirectory(), "teacher-retrained");
        CopyDirectory(fixture.TeacherCheckpoint, retrained);
        using (var model = CaptionModel.LoadCheckpoint(retrained))
        {
            using var noGrad = TorchSharp.torch.no_grad();
            model.Encoder!.Projection.bias!.add_(0.5);
            model.SaveCheckpoint(retrained, teacher.Vocabulary.Tokens);
        }

        using var other = CaptionTeacher.Open(retrained, 2, cache, threads: 1);
        var messages = new List<string>();
        var second = TeacherTargetCache.LoadOrCompute(other, clips, new TeacherTargetSettings(), cache, messages.Add, CancellationToken.None);

        Assert.NotEqual(first.Key, second.Key);
        Assert.Contains(messages, m => m.StartsWith("computing teacher targets", StringComparison.Ordinal));
        Assert.True(File.Exists(TeacherTargetCache.PathOf(cache, first.Key)));
        Assert.Null(TeacherTargets.TryLoad(TeacherTargetCache.PathOf(cache, first.Key), second.Key));
    }

    [Fact]
    public void Open_BundleWithoutCheckpoint_CaptionsAndEmbedsButRefusesTokenDistributions()
    {
        var cache = fixture.NewDirectory();
        var bundle = Path.Combine(fixture.NewDirectory(), "teacher-bundle");
        BundleExporter.ExportCheckpoint(fixture.TeacherCheckpoint, bundle, "teacher", 2, null, overwrite: false, "test");
        Directory.Delete(Path.Combine(bundle, BundleExporter.CheckpointDirectoryName), recursive: true);
        using var checkpointTeacher = CaptionTeacher.Open(fixture.TeacherRun, 2, cache, threads: 1);
        using var bundleTeacher = CaptionTeacher.Open(bundle, 2, cache, threads: 1);
        var clips = Clips(bundleTeacher);

        var fromBundle = TeacherTargetCache.Compute(bundleTeacher, clips, new TeacherTargetSettings(), "b", null, CancellationToken.None);
        var fromCheckpoint = TeacherTargetCache.Compute(checkpointTeacher, clips, new TeacherTargetSettings(), "c", null, CancellationToken.None);

        Assert.Equal("bundle", bundleTeacher.Kind);
        Assert.False(bundleTeacher.HasTokenDistributions);
        for (var i = 0; i < clips.Count; i++)
        {
            Assert.Equal(fromCheckpoint.Caption(i), fromBundle.Caption(i));
            Assert.Equal(fromCheckpoint.Embedding(i), fromBundle.Embedding(i), new FloatTolerance(1e-4f));
        }

        var error = Assert.Throws<ArgumentException>(() => TeacherTargetCache.Compute(bundleTeacher, clips, new TeacherTargetSettings { TopK = 2 }, "t", null, CancellationToken.None));
        Assert.Contains("TorchSharp weights", error.Message, StringComparison.Ordinal);
    }

    private ClipSet Clips(CaptionTeacher teacher) =>
        ClipSet.Load(ClothoDataset.Load(fixture.Root, ClothoDataset.Development), teacher.Vocabulary, 10, 2, CancellationToken.None);

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }

    private sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance * Math.Max(1, Math.Abs(x));

        public int GetHashCode(float obj) => 0;
    }
}
