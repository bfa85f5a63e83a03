using CaptionDaemon.Training.Training;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Tests.Distillation;

public sealed class AugmentationTests(DistillationFixture fixture) : IClassFixture<DistillationFixture>
{
    [Fact]
    public void Train_TeacherSize_AugmentsByDefaultAndRecordsHow()
    {
        Assert.True(new TrainOptions { DataDirectory = "d", OutputDirectory = "o", Size = "teacher" }.Augments);
        Assert.False(new TrainOptions { DataDirectory = "d", OutputDirectory = "o" }.Augments);
        Assert.False(new TrainOptions { DataDirectory = "d", OutputDirectory = "o", Size = "teacher", Augment = false }.Augments);

        // The fixture's teacher was trained by the real trainer with size teacher (and a tiny model) and no --augment.
        Assert.Equal(new Augmentation().Describe(), fixture.TeacherRecord.Augmentation);
        Assert.Contains("SpecAugment", new Augmentation().Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void PerturbWaveforms_SameSeed_SameResultAndEachWindowIsAScaledRotation()
    {
        var original = Enumerable.Range(0, 2 * 100).Select(i => (float)Math.Sin(i * 0.37) * 0.5f).ToArray();
        var first = (float[])original.Clone();
        var second = (float[])original.Clone();
        var augmentation = new Augmentation();

        augmentation.PerturbWaveforms(first, 2, new Random(9));
        augmentation.PerturbWaveforms(second, 2, new Random(9));

        Assert.Equal(first, second);
        Assert.NotEqual(original, first);
        for (var w = 0; w < 2; w++)
        {
            // Energy scales with the gain squared, within +-6 dB.
            var before = original.AsSpan(w * 100, 100).ToArray().Sum(x => x * x);
            var after = first.AsSpan(w * 100, 100).ToArray().Sum(x => x * x);
            Assert.InRange(after / before, Math.Pow(10, -12 / 10.0) * 0.999, Math.Pow(10, 12 / 10.0) * 1.001);
        }
    }

    [Fact]
    public void MaskSpectrogram_ZeroesWholeFrequencyAndTimeBandsWithinTheLimits()
    {
        using var scope = NewDisposeScope();
        var augmentation = new Augmentation { FrequencyMasks = 1, MaxFrequencyMaskBins = 8, TimeMasks = 1, MaxTimeMaskFraction = 0.1 };
        var spectrogram = ones(3, 1, 64, 200);

        var masked = augmentation.MaskSpectrogram(spectrogram, new Random(4)).data<float>().ToArray();

        for (var b = 0; b < 3; b++)
        {
            var example = masked.AsSpan(b * 64 * 200, 64 * 200).ToArray();
            var zeroRows = Enumerable.Range(0, 64).Count(m => example.Skip(m * 200).Take(200).All(v => v == 0));
            var zeroColumns = Enumerable.Range(0, 200).Count(t => Enumerable.Range(0, 64).All(m => example[(m * 200) + t] == 0));
            Assert.InRange(zeroRows, 0, 8);
            Assert.InRange(zeroColumns, 0, 20);
            Assert.All(example, v => Assert.True(v is 0 or 1));
        }

        Assert.Contains(0f, masked);
    }
}
