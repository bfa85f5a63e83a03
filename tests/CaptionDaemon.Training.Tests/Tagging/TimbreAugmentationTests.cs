using CaptionDaemon.Training.Tagging;

namespace CaptionDaemon.Training.Tests.Tagging;

public sealed class TimbreAugmentationTests
{
    private const int Rate = 16000;

    [Theory]
    [InlineData(3.0)]
    [InlineData(-3.0)]
    [InlineData(1.0)]
    public void Resample_ASine_MovesItsPitchBySemitonesAndItsLengthByTheSpeed(double semitones)
    {
        var speed = Math.Pow(2, semitones / 12);
        var sine = Sine(1000, Rate);
        var changed = new TimbreAugmentation(1, Rate).Resample(sine, speed);

        Assert.InRange(changed.Length, (Rate / speed) - 2, (Rate / speed) + 2);
        // The middle half, away from the filters' start and end: its frequency is the sine's times the speed.
        var middle = changed.AsSpan(changed.Length / 4, changed.Length / 2);
        Assert.InRange(Frequency(middle, Rate), 1000 * speed * 0.99, 1000 * speed * 1.01);
        Assert.InRange(Rms(middle), 0.6, 0.8); // a sine of amplitude 1 keeps its level (rms 0.707)
    }

    [Fact]
    public void ChangeSpeed_ALongRecording_CutsAStretchLongEnoughForTheWindow()
    {
        var random = new Random(3);
        var augmentation = new TimbreAugmentation(1, Rate);
        var ambience = Sine(440, Rate * 60);
        for (var i = 0; i < 20; i++)
        {
            var changed = augmentation.ChangeSpeed(ambience, Rate * 5, random);
            Assert.InRange(changed.Length, Rate * 5, Rate * 6);
        }
    }

    [Fact]
    public void ChangeSpeed_AtProbabilityZero_ReturnsTheRecordingItself()
    {
        var recording = Sine(440, Rate);

        Assert.Same(recording, new TimbreAugmentation(0, Rate).ChangeSpeed(recording, Rate, new Random(1)));
    }

    [Fact]
    public void Equalise_ChangesTheBalanceOfLowAndHighButKeepsSilenceSilentAndSamplesInRange()
    {
        var random = new Random(5);
        var augmentation = new TimbreAugmentation(1, Rate);
        var low = Sine(150, Rate);
        var high = Sine(6000, Rate);
        var ratios = new List<double>();
        for (var i = 0; i < 20; i++)
        {
            var seed = random.Next();
            var lowOut = (float[])low.Clone();
            var highOut = (float[])high.Clone();
            augmentation.Equalise(lowOut, new Random(seed));
            augmentation.Equalise(highOut, new Random(seed)); // the same three filters
            Assert.All(lowOut.Concat(highOut), s => Assert.InRange(s, -1f, 1f));
            ratios.Add(20 * Math.Log10(Rms(highOut.AsSpan(Rate / 2)) / Rms(lowOut.AsSpan(Rate / 2))));
        }

        // Each draw tilts the spectrum its own way: the high tone against the low one by up to +-18 dB (two shelves).
        Assert.True(ratios.Max() - ratios.Min() > 10, string.Join(", ", ratios.Select(r => r.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture))));
        Assert.All(ratios, r => Assert.InRange(r, -20, 20));
        var silence = new float[Rate];
        augmentation.Equalise(silence, random);
        Assert.All(silence, s => Assert.Equal(0f, s));
    }

    private static float[] Sine(double frequency, int length) =>
        Enumerable.Range(0, length).Select(i => (float)Math.Sin(2 * Math.PI * frequency * i / Rate)).ToArray();

    /// <summary>The frequency of a tone from its rising zero crossings.</summary>
    private static double Frequency(ReadOnlySpan<float> samples, int rate)
    {
        int first = -1, last = -1, crossings = 0;
        for (var i = 1; i < samples.Length; i++)
        {
            if (samples[i - 1] < 0 && samples[i] >= 0)
            {
                first = first < 0 ? i : first;
                last = i;
                crossings++;
            }
        }

        return (crossings - 1) * (double)rate / (last - first);
    }

    private static double Rms(ReadOnlySpan<float> samples)
    {
        double sum = 0;
        foreach (var s in samples)
        {
            sum += s * s;
        }

        return Math.Sqrt(sum / samples.Length);
    }
}
