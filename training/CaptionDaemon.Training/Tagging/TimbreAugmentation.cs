using System.Globalization;
using NAudio.Dsp;

namespace CaptionDaemon.Training.Tagging;

/// <summary>
/// Changes of a recording's timbre of the kind that separate one game's sounds of a category from another's: a speed
/// change (pitch and tempo together, as a sound designer's varispeed) and a random equaliser (a low shelf, a peaking
/// band and a high shelf). The catalog's categories come from a few packages each, and a tagger that learns a package's
/// mastering instead of the sound does not recognise the same category in a test package; these draws make the
/// mastering a nuisance to ignore. The resampler and the filters are NAudio.Core's (WDL resampler, RBJ biquads).
/// </summary>
internal sealed class TimbreAugmentation
{
    /// <summary>Most semitones the speed change moves a recording, either way.</summary>
    public const double MaxSemitones = 3;

    /// <summary>Most gain of each equaliser band, either way.</summary>
    public const double MaxBandDb = 9;

    /// <summary>Samples of silence fed after a recording so that the resampler's filters give out its end.</summary>
    private const int FlushSamples = 256;

    private readonly int _sampleRate;

    /// <param name="probability">The chance of each change (speed, equaliser), drawn independently.</param>
    /// <param name="sampleRate">The recordings' rate (Hz).</param>
    public TimbreAugmentation(double probability, int sampleRate)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(probability, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(probability, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleRate, 8000);
        Probability = probability;
        _sampleRate = sampleRate;
    }

    public double Probability { get; }

    /// <summary>One line for the training record.</summary>
    public static string Describe(double probability) => string.Create(
        CultureInfo.InvariantCulture,
        $"timbre p {probability}: speed change within +-{MaxSemitones} semitones, equaliser (low shelf, peak, high shelf) within +-{MaxBandDb} dB per band");

    /// <summary>
    /// A window's worth of <paramref name="samples"/>, sped up or slowed down with probability <see cref="Probability"/>:
    /// a longer recording is first cut to a random stretch just long enough for <paramref name="windowSamples"/> after
    /// the change, so a long ambience costs no more than a short one. <paramref name="samples"/> itself is returned
    /// when the draw keeps the speed.
    /// </summary>
    public float[] ChangeSpeed(float[] samples, int windowSamples, Random random)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(random);
        if (random.NextDouble() >= Probability)
        {
            return samples;
        }

        var semitones = ((random.NextDouble() * 2) - 1) * MaxSemitones;
        var speed = Math.Pow(2, semitones / 12);
        var needed = (int)Math.Ceiling(windowSamples * speed) + FlushSamples;
        var source = samples;
        if (samples.Length > needed)
        {
            source = samples.AsSpan(random.Next(samples.Length - needed + 1), needed).ToArray();
        }

        return Resample(source, speed);
    }

    /// <summary>
    /// <paramref name="samples"/> played <paramref name="speed"/> times as fast (above 1: higher and shorter), its length
    /// divided by <paramref name="speed"/>.
    /// </summary>
    public float[] Resample(float[] samples, double speed)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(speed, 0);
        var resampler = new WdlResampler();
        resampler.SetMode(true, 2, false);
        resampler.SetFilterParms();
        resampler.SetFeedMode(true);
        // Read at speed x the rate and written at the rate: the same samples played faster.
        resampler.SetRates(_sampleRate * speed, _sampleRate);
        var length = (int)Math.Round(samples.Length / speed);
        var output = new float[length + (2 * FlushSamples)];
        var written = 0;
        var fed = 0;
        var total = samples.Length + FlushSamples;
        while (fed < total && written < output.Length)
        {
            var block = Math.Min(4096, total - fed);
            var wanted = resampler.ResamplePrepare(block, 1, out var input);
            for (var i = 0; i < wanted; i++)
            {
                var at = fed + i;
                input[i] = at < samples.Length ? samples[at] : 0f;
            }

            fed += wanted;
            written += resampler.ResampleOut(output.AsSpan(written), wanted, output.Length - written, 1);
        }

        return output.AsSpan(0, Math.Min(length, written)).ToArray();
    }

    /// <summary>
    /// With probability <see cref="Probability"/>, filters <paramref name="window"/> in place through a low shelf
    /// (100-400 Hz), a peaking band (300 Hz-5 kHz, Q 0.7-2) and a high shelf (2-6 kHz), each with a gain drawn within
    /// +-<see cref="MaxBandDb"/> dB; clipped to full scale.
    /// </summary>
    public void Equalise(Span<float> window, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (random.NextDouble() >= Probability)
        {
            return;
        }

        float Gain() => (float)(((random.NextDouble() * 2) - 1) * MaxBandDb);
        float LogUniform(double low, double high) => (float)(low * Math.Pow(high / low, random.NextDouble()));
        var rate = (float)_sampleRate;
        var filters = new[]
        {
            BiQuadFilter.LowShelf(rate, LogUniform(100, 400), 1f, Gain()),
            BiQuadFilter.PeakingEQ(rate, LogUniform(300, 5000), LogUniform(0.7, 2), Gain()),
            BiQuadFilter.HighShelf(rate, LogUniform(2000, 6000), 1f, Gain()),
        };
        for (var i = 0; i < window.Length; i++)
        {
            var x = window[i];
            foreach (var filter in filters)
            {
                x = filter.Transform(x);
            }

            window[i] = Math.Clamp(x, -1f, 1f);
        }
    }
}
