namespace CaptionDaemon.Training.Evaluation;

/// <summary>A generated clip with no sound event in it.</summary>
internal sealed record QuietClip(string Name, float[] Samples);

/// <summary>
/// Quiet and background-only clips that a captioner should not report events in, 10 s each, generated in code from
/// fixed seeds so every run gets the same samples. Levels are RMS over the clip (a sine's peak is 3 dB higher):
/// <list type="bullet">
/// <item><c>silence</c>: digital silence.</item>
/// <item><c>room_tone</c>: pink-ish noise (white noise through Paul Kellet's economy pinking filter) at -60 dBFS.</item>
/// <item><c>hum_50hz</c>, <c>hum_60hz</c>: mains hum, the fundamental with harmonics 2-4 at half, a third and a quarter of its amplitude, at -40 dBFS.</item>
/// <item><c>tone_440hz</c>, <c>tone_1khz</c>: a steady sine at -20 dBFS.</item>
/// <item><c>fan</c>: low fan-like broadband noise (white noise through two one-pole low-passes at 400 Hz) at -45 dBFS.</item>
/// <item><c>fan_and_hum</c>: the fan at -45 dBFS plus 50 Hz hum at -45 dBFS.</item>
/// </list>
/// </summary>
internal static class QuietClips
{
    public const double Seconds = 10;

    /// <summary>The clips at <paramref name="sampleRate"/>, in the order above.</summary>
    public static IReadOnlyList<QuietClip> Generate(int sampleRate)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleRate, 1000);
        var length = (int)(Seconds * sampleRate);
        return
        [
            new QuietClip("silence", new float[length]),
            new QuietClip("room_tone", Scaled(PinkNoise(length, seed: 1), -60)),
            new QuietClip("hum_50hz", Scaled(Hum(length, sampleRate, 50), -40)),
            new QuietClip("hum_60hz", Scaled(Hum(length, sampleRate, 60), -40)),
            new QuietClip("tone_440hz", Scaled(Sine(length, sampleRate, 440), -20)),
            new QuietClip("tone_1khz", Scaled(Sine(length, sampleRate, 1000), -20)),
            new QuietClip("fan", Scaled(FanNoise(length, sampleRate, seed: 2), -45)),
            new QuietClip("fan_and_hum", Sum(Scaled(FanNoise(length, sampleRate, seed: 3), -45), Scaled(Hum(length, sampleRate, 50), -45))),
        ];
    }

    /// <summary>RMS level of <paramref name="samples"/> in dBFS (negative infinity for silence).</summary>
    public static double RmsDb(ReadOnlySpan<float> samples)
    {
        var sum = 0.0;
        foreach (var sample in samples)
        {
            sum += (double)sample * sample;
        }

        return 10 * Math.Log10(sum / samples.Length);
    }

    private static double[] Sine(int length, int sampleRate, double frequency)
    {
        var samples = new double[length];
        for (var n = 0; n < length; n++)
        {
            samples[n] = Math.Sin(2 * Math.PI * frequency * n / sampleRate);
        }

        return samples;
    }

    private static double[] Hum(int length, int sampleRate, double fundamental)
    {
        var samples = new double[length];
        for (var harmonic = 1; harmonic <= 4; harmonic++)
        {
            for (var n = 0; n < length; n++)
            {
                samples[n] += Math.Sin(2 * Math.PI * fundamental * harmonic * n / sampleRate) / harmonic;
            }
        }

        return samples;
    }

    private static double[] PinkNoise(int length, int seed)
    {
        var random = new Random(seed);
        var samples = new double[length];
        double b0 = 0, b1 = 0, b2 = 0;
        for (var n = 0; n < length; n++)
        {
            var white = (random.NextDouble() * 2) - 1;
            b0 = (0.99765 * b0) + (white * 0.0990460);
            b1 = (0.96300 * b1) + (white * 0.2965164);
            b2 = (0.57000 * b2) + (white * 1.0526913);
            samples[n] = b0 + b1 + b2 + (white * 0.1848);
        }

        return samples;
    }

    private static double[] FanNoise(int length, int sampleRate, int seed)
    {
        var random = new Random(seed);
        var alpha = 1 - Math.Exp(-2 * Math.PI * 400 / sampleRate);
        var samples = new double[length];
        double first = 0, second = 0;
        for (var n = 0; n < length; n++)
        {
            first += alpha * (((random.NextDouble() * 2) - 1) - first);
            second += alpha * (first - second);
            samples[n] = second;
        }

        return samples;
    }

    private static float[] Scaled(double[] samples, double rmsDb)
    {
        var rms = Math.Sqrt(samples.Sum(s => s * s) / samples.Length);
        var gain = Math.Pow(10, rmsDb / 20) / rms;
        return samples.Select(s => (float)(s * gain)).ToArray();
    }

    private static float[] Sum(float[] a, float[] b) => a.Zip(b, (x, y) => x + y).ToArray();
}
