using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Tests.Data;
using CaptionDaemon.Training.Tests.Models;
using CaptionDaemon.Training.Text;
using CaptionDaemon.Training.Training;
using CaptionDaemon.Training.Training.Features;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Tests.Training;

/// <summary>
/// The log-mel cache of <c>data features</c> and training from it, on real audio files made by ffmpeg and decoded by the
/// real decoder. (Not on <see cref="TestSoundsFixture"/>'s recordings: that fixture needs the built sound catalog,
/// which a fresh checkout lacks.)
/// </summary>
public sealed class FeatureCacheTests
{
    /// <summary>
    /// float16 has 10 fraction bits: its step between 64 and 128 dB is 1/16 dB, rounding costs half of it, and the rest is
    /// float32 noise of the STFT on near-silent bins (-100 dB is power 1e-10), which the two paths round differently.
    /// </summary>
    private const float Float16StepDb = 1f / 16;

    private static readonly FrontendParameters _frontend = FrontendParameters.Of(CaptionModelConfig.Student(10));

    [Fact]
    public async Task CopyLogMelWindow_CacheOfLongAndShortClips_EqualsFrontEndOfTheAudioWindowWithinHalfPrecision()
    {
        using var files = new TestFiles();
        var clips = new[]
        {
            new CaptionedClip("long", files.Ffmpeg("long.wav", "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.5:sample_rate=16000:duration=3:seed=5"), ["a"]),
            new CaptionedClip("short", files.Sine("short.wav", 0.7, frequency: 660), ["a"]),
        };
        var cachePath = files.PathOf("features/development.logmel");
        var report = await LogMelCacheBuilder.BuildAsync(clips, _frontend, cachePath, threads: 2, CancellationToken.None);
        using var cache = LogMelCacheFile.Open(cachePath);
        var vocabulary = Vocabulary.Build(["a"], minCount: 1);
        var cached = ClipSet.FromFeatures(clips, cache, _frontend, vocabulary, maxWords: 4, "rebuild");
        var decoded = ClipSet.Load(clips, vocabulary, maxWords: 4, threads: 2, CancellationToken.None);
        using var frontend = new LogMelFrontend(_frontend.ToModelConfig());
        const int window = 32000;
        var frames = _frontend.FramesOf(window);

        Assert.Equal(2, report.Clips);
        Assert.Equal(new FileInfo(cachePath).Length, report.Bytes);
        Assert.Equal(new[] { (48000 / 160) + 1, (11200 / 160) + 1 }, cache.Entries.Select(e => e.Frames));
        for (var clip = 0; clip < 2; clip++)
        {
            var audio = new float[window];
            decoded.CopyWindow(clip, audio, random: null);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var expected = frontend.LogMel(tensor(audio, [1, window]))[0].data<float>().ToArray();
            var actual = new float[_frontend.MelBins * frames];
            cached.CopyLogMelWindow(clip, window, actual, random: null);

            var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
            Assert.True(worst <= Float16StepDb, $"clip {clip}: largest difference {worst} dB");
        }

        // The short clip's window ends in silence, at the front end's floor, not at 0.
        var shortWindow = new float[_frontend.MelBins * frames];
        cached.CopyLogMelWindow(1, window, shortWindow, random: null);
        Assert.Equal(LogMelFrontend.FloorDecibels, shortWindow[frames - 1], 0.05f);
        Assert.Throws<InvalidOperationException>(() => cached.CopyWindow(0, new float[window], random: null));
    }

    [Fact]
    public async Task Match_SourceChangedOrOtherFrontEnd_ThrowsNamingTheCacheAndWhatDiffers()
    {
        using var files = new TestFiles();
        var audioPath = files.Sine("tone.wav", 1);
        var clips = new[] { new CaptionedClip("tone", audioPath, ["a"]) };
        var cachePath = files.PathOf("features/validation.logmel");
        await LogMelCacheBuilder.BuildAsync(clips, _frontend, cachePath, threads: 1, CancellationToken.None);

        using (var cache = LogMelCacheFile.Open(cachePath))
        {
            Assert.Equal(new[] { 0 }, cache.Match(clips, _frontend, "rebuild it"));
            var mismatch = Assert.Throws<FeatureCacheException>(() => cache.Match(clips, _frontend with { Hop = 320, MelBins = 80 }, "rebuild it"));
            Assert.Contains(cachePath, mismatch.Message, StringComparison.Ordinal);
            Assert.Contains("hop 160 in the cache vs 320 in the model", mismatch.Message, StringComparison.Ordinal);
            Assert.Contains("mel_bins 64 in the cache vs 80 in the model", mismatch.Message, StringComparison.Ordinal);
        }

        File.SetLastWriteTimeUtc(audioPath, File.GetLastWriteTimeUtc(audioPath).AddMinutes(1));
        using (var cache = LogMelCacheFile.Open(cachePath))
        {
            var stale = Assert.Throws<FeatureCacheException>(() => cache.Match(clips, _frontend, "rebuild it"));
            Assert.Contains(cachePath, stale.Message, StringComparison.Ordinal);
            Assert.Contains($"stale for {audioPath}", stale.Message, StringComparison.Ordinal);
            Assert.Contains("rebuild it", stale.Message, StringComparison.Ordinal);
            var missing = Assert.Throws<FeatureCacheException>(() => cache.Match([new CaptionedClip("other", files.Sine("other.wav", 1), ["a"])], _frontend, "rebuild it"));
            Assert.Contains("has no features for", missing.Message, StringComparison.Ordinal);
        }

        File.WriteAllBytes(cachePath, new byte[100]);
        var notCache = Assert.Throws<FeatureCacheException>(() => LogMelCacheFile.Open(cachePath).Dispose());
        Assert.Contains(cachePath, notCache.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BuildAsync_BatchesOfEqualLengthClips_WritesTheSameFileAsOneClipAtATime()
    {
        using var files = new TestFiles();
        // Runs of equal length (batched together), a length change inside a batch, and a FLAC that goes through ffmpeg.
        var clips = new[]
        {
            files.Ffmpeg("pink1.wav", "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.5:sample_rate=16000:duration=2:seed=1"),
            files.Ffmpeg("pink2.wav", "-f", "lavfi", "-i", "anoisesrc=color=pink:amplitude=0.05:sample_rate=16000:duration=2:seed=2"),
            files.Sine("tone.wav", 2, frequency: 880),
            files.Ffmpeg("chirp.wav", "-f", "lavfi", "-i", "aevalsrc=0.4*sin(2*PI*(200+900*t)*t):s=16000:d=1.3"),
            files.Ffmpeg("brown.flac", "-f", "lavfi", "-i", "anoisesrc=color=brown:amplitude=0.8:sample_rate=16000:duration=1.3:seed=3"),
            files.Sine("short.wav", 0.4, frequency: 300),
        }.Select(path => new CaptionedClip(Path.GetFileName(path), path, ["a"])).ToArray();

        var single = files.PathOf("single/development.logmel");
        var batched = files.PathOf("batched/development.logmel");
        await LogMelCacheBuilder.BuildAsync(clips, _frontend, single, threads: 2, CancellationToken.None, batch: 1);
        await LogMelCacheBuilder.BuildAsync(clips, _frontend, batched, threads: 2, CancellationToken.None, batch: 4);

        using (var cache = LogMelCacheFile.Open(batched))
        {
            Assert.Equal(clips.Select(c => Path.GetFileName(c.AudioPath)), cache.Entries.Select(e => e.FileName));
        }

        Assert.Equal(File.ReadAllBytes(single), File.ReadAllBytes(batched));
    }

    [Fact]
    public async Task EncodeLogMel_CachedFeaturesOfRealRecordings_MatchEncodeOfTheirWaveforms()
    {
        using var files = new TestFiles();
        var recordings = new[]
        {
            files.Ffmpeg("brown.wav", "-f", "lavfi", "-i", "anoisesrc=color=brown:amplitude=0.8:sample_rate=16000:duration=3.5:seed=2"),
            files.Ffmpeg("chirp.wav", "-f", "lavfi", "-i", "aevalsrc=0.4*sin(2*PI*(200+900*t)*t)*(0.6+0.4*sin(7*t)):s=16000:d=2.2"),
            files.Ffmpeg("quiet.flac", "-f", "lavfi", "-i", "anoisesrc=color=white:amplitude=0.002:sample_rate=44100:duration=4:seed=9"),
        };
        var clips = recordings.Select(path => new CaptionedClip(Path.GetFileName(path), path, ["a"])).ToArray();
        var cachePath = files.PathOf("features/evaluation.logmel");
        await LogMelCacheBuilder.BuildAsync(clips, _frontend, cachePath, threads: 2, CancellationToken.None);
        using var cache = LogMelCacheFile.Open(cachePath);
        var vocabulary = Vocabulary.Build(["a"], minCount: 1);
        var cached = ClipSet.FromFeatures(clips, cache, _frontend, vocabulary, maxWords: 4, "rebuild");
        var decoded = ClipSet.Load(clips, vocabulary, maxWords: 4, threads: 2, CancellationToken.None);
        using var model = new CaptionModel(TinyModels.Config(10));
        TinyModels.RandomiseBatchNorms(model, seed: 4);
        model.eval();
        const int window = 48000;
        var frames = _frontend.FramesOf(window);
        var audio = new float[clips.Length * window];
        var logMel = new float[clips.Length * _frontend.MelBins * frames];
        for (var i = 0; i < clips.Length; i++)
        {
            decoded.CopyWindow(i, audio.AsSpan(i * window, window), random: null);
            cached.CopyLogMelWindow(i, window, logMel.AsSpan(i * _frontend.MelBins * frames, _frontend.MelBins * frames), random: null);
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (fromAudio, audioEmbedding) = model.Encode(tensor(audio, [clips.Length, window]));
        var (fromCache, cacheEmbedding) = model.EncodeLogMel(tensor(logMel, [clips.Length, _frontend.MelBins, frames]));

        Assert.Equal(fromAudio.shape, fromCache.shape);
        var memoryError = (fromAudio - fromCache).abs().max().item<float>();
        var embeddingError = ((audioEmbedding - cacheEmbedding).abs().max() / audioEmbedding.abs().max()).item<float>();
        Assert.True(memoryError < 2e-2f, $"memory differs by up to {memoryError} (LayerNorm scale 1)");
        Assert.True(embeddingError < 2e-3f, $"embedding differs by up to {embeddingError} of its largest value");
    }

    [Fact]
    public async Task Run_FeaturesRequiredFromBuiltCaches_TrainsWithoutDecodingAndLossFalls()
    {
        using var data = new SyntheticClotho();
        foreach (var split in new[] { ClothoDataset.Development, ClothoDataset.Validation })
        {
            await LogMelCacheBuilder.BuildAsync(ClothoDataset.Load(data.Root, split), _frontend, LogMelCacheFile.PathOf(data.Root, split), threads: 2, CancellationToken.None);
        }

        var output = data.NewOutputDirectory();
        using var log = new StringWriter();
        var record = new CaptionTrainer(
            CaptionTrainerTests.Options(output, epochs: 6) with { Features = FeatureSource.Require, Augment = true },
            new TrainingProgress(log, isTerminal: false)).Run();

        Assert.Equal(LogMelCacheFile.PathOf(data.Root, ClothoDataset.Development), record.Features);
        Assert.Contains("reading the log-mel of 8 clips", log.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("decoding", log.ToString(), StringComparison.Ordinal);
        Assert.True(record.History[^1].TrainLoss < record.History[0].TrainLoss * 0.7, $"train loss {record.History[0].TrainLoss} -> {record.History[^1].TrainLoss}");
        Assert.All(record.History, e => Assert.True(double.IsFinite(e.Validation.CiderD)));
        Assert.Equal(2, record.TestClips);
    }

    [Fact]
    public void Run_FeaturesRequiredWithoutCache_FailsNamingTheMissingFile()
    {
        using var data = new SyntheticClotho();
        var output = data.NewOutputDirectory();

        var error = Assert.Throws<FeatureCacheException>(() => new CaptionTrainer(
            CaptionTrainerTests.Options(output, epochs: 1) with { Features = FeatureSource.Require },
            new TrainingProgress(TextWriter.Null, isTerminal: false)).Run());

        Assert.Contains(LogMelCacheFile.PathOf(data.Root, ClothoDataset.Development), error.Message, StringComparison.Ordinal);
        Assert.Contains("data features", error.Message, StringComparison.Ordinal);
    }
}
