namespace CaptionDaemon.Training.Tagging;

/// <summary>
/// What "nothing notable" (<see cref="TaggingSet.Nothing"/>) sounds like to the tagger, in sixths: digital silence;
/// faint white, pink or brown noise (-90 to -50 dBFS RMS); mains hum (48-62 Hz with a few harmonics, -75 to -38 dBFS,
/// over faint noise); a steady tone (1-3 partials of a fundamental between 80 Hz and 5 kHz, constant over the window,
/// -50 to -15 dBFS: a whine, a test tone, a held beep, which carry no event and which taggers trained without them call
/// a doorbell or an instrument); and, two sixths, a recording of a background category (rain, wind, engine, hum, ...:
/// <c>categories.tsv</c>'s background column) played far below speech level (-70 to -50 dBFS RMS), what a microphone in
/// a quiet room hears through a window or a wall. Without backgrounds (none in the split) those draws are noise.
/// The evaluation's quiet clips (Evaluation/QuietClips.cs) are made by generators of their own (fixed frequencies,
/// levels and seeds), so they stay a test.
/// </summary>
internal sealed class QuietWindows
{
    private readonly IReadOnlyList<TaggedRecording> _backgrounds;
    private readonly int _sampleRate;

    public QuietWindows(IReadOnlyList<TaggedRecording> backgrounds, int sampleRate)
    {
        ArgumentNullException.ThrowIfNull(backgrounds);
        _backgrounds = backgrounds;
        _sampleRate = sampleRate;
    }

    public int Backgrounds => _backgrounds.Count;

    /// <summary>Fills <paramref name="window"/> with one quiet window.</summary>
    public void Fill(Span<float> window, Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        window.Clear();
        var kind = rng.Next(6);
        if (kind == 0)
        {
            return;
        }

        if (kind == 3)
        {
            Tone(window, rng);
            Scale(window, Uniform(rng, -50, -15));
            return;
        }

        if (kind >= 4 && _backgrounds.Count > 0)
        {
            TaggingSet.CopyWindow(TaggingSet.Read(_backgrounds[rng.Next(_backgrounds.Count)], _sampleRate), window, rng);
            Scale(window, Uniform(rng, -70, -50));
            return;
        }

        if (kind == 2)
        {
            Hum(window, rng);
            Scale(window, Uniform(rng, -75, -38));
            var floor = new float[window.Length];
            Noise(floor, rng);
            Scale(floor, Uniform(rng, -90, -70));
            for (var s = 0; s < window.Length; s++)
            {
                window[s] += floor[s];
            }

            return;
        }

        Noise(window, rng);
        Scale(window, Uniform(rng, -90, -50));
    }

    /// <summary>White, pink-ish (one-pole low-pass) or brown (leaky integral) noise, unscaled.</summary>
    internal static void Noise(Span<float> window, Random rng)
    {
        var colour = rng.Next(3);
        var state = 0.0;
        for (var s = 0; s < window.Length; s++)
        {
            // Sum of uniforms: near-Gaussian.
            var white = (rng.NextDouble() + rng.NextDouble() + rng.NextDouble() - 1.5) * 2;
            state = colour switch
            {
                0 => white,
                1 => (0.9 * state) + white,
                _ => (0.995 * state) + white,
            };
            window[s] = (float)state;
        }
    }

    private void Hum(Span<float> window, Random rng) => Partials(window, rng, Uniform(rng, 48, 62), 1 + rng.Next(4));

    /// <summary>A steady tone: 1-3 partials of a fundamental drawn log-uniformly from 80 Hz to 5 kHz.</summary>
    private void Tone(Span<float> window, Random rng) => Partials(window, rng, 80 * Math.Pow(5000.0 / 80, rng.NextDouble()), 1 + rng.Next(3));

    /// <summary>
    /// The fundamental at amplitude 1 and the other partials at up to 0.6, each at a random phase; unscaled. Partials at
    /// or above the Nyquist frequency are left out (they would alias).
    /// </summary>
    private void Partials(Span<float> window, Random rng, double fundamental, int harmonics)
    {
        var amplitudes = Enumerable.Range(0, harmonics).Select(h => h == 0 ? 1.0 : rng.NextDouble() * 0.6).ToArray();
        harmonics = Math.Min(harmonics, (int)Math.Ceiling(_sampleRate / 2.0 / fundamental) - 1);
        var phases = Enumerable.Range(0, harmonics).Select(_ => rng.NextDouble() * 2 * Math.PI).ToArray();
        for (var s = 0; s < window.Length; s++)
        {
            var value = 0.0;
            for (var h = 0; h < harmonics; h++)
            {
                value += amplitudes[h] * Math.Sin((2 * Math.PI * fundamental * (h + 1) * s / _sampleRate) + phases[h]);
            }

            window[s] = (float)value;
        }
    }

    /// <summary>Scales <paramref name="window"/> to <paramref name="decibels"/> dBFS RMS (silence stays silent).</summary>
    internal static void Scale(Span<float> window, double decibels)
    {
        var level = Evaluation.QuietClips.RmsDb(window);
        if (double.IsNegativeInfinity(level))
        {
            return;
        }

        var gain = (float)Math.Pow(10, (decibels - level) / 20);
        for (var s = 0; s < window.Length; s++)
        {
            window[s] *= gain;
        }
    }

    private static double Uniform(Random rng, double low, double high) => low + (rng.NextDouble() * (high - low));
}
