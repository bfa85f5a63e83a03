using CaptionDaemon.Training.Data.Scenes;

namespace CaptionDaemon.Training.Tagging;

/// <summary>
/// Scene-like tagger windows (<c>tag --scene-windows</c>): the drawn recording as one event of a scene, at the levels that
/// <c>data scenes</c> gives its events (<see cref="SceneGenerator"/>), so that the tagger learns to name a sound that is not
/// alone and not loud, as it is in the scenes the captioner is trained and tested on. A tagger trained only on isolated
/// recordings at their own levels names them well alone (isolated recall 0.79 for v7) and hardly at all in a mix
/// (v7's tagger reports 9 of the 278 labelled everyday events of its 300 test scenes).
/// <para>
/// The event: a crop of 1 s to the whole window (a shorter recording whole) at a random offset. Half the windows (when the
/// split has steady backgrounds of another category) get a background looped over the whole window at -45..-22 dBFS,
/// and the event -5..+25 dB over it; the others put the event at -40..-12 dBFS. A fifth of the events are distant
/// (-5..+10 dB over a background, -45..-32 dBFS without), as in the scenes. Levels are the active RMS (frames within
/// 20 dB of the loudest, <see cref="SoundLibrary.ActiveRmsDb"/>). Three windows in four then get a faint noise floor
/// (-66..-54 dBFS, white, pink or brown), the others none (digital silence, as <c>--digital-silence-chance</c> makes).
/// A background is an audible sound of the window, so its label is a target too.
/// </para>
/// </summary>
internal sealed class SceneWindows
{
    /// <summary>Share of the windows with a steady background under the event.</summary>
    public const double BackgroundChance = 0.5;

    /// <summary>Share of the events that are distant (quieter).</summary>
    public const double DistantChance = 0.2;

    /// <summary>Share of the windows with a noise floor.</summary>
    public const double NoiseChance = 0.75;

    private readonly IReadOnlyList<TaggedRecording> _backgrounds;
    private readonly int _sampleRate;
    private readonly int _frame;

    public SceneWindows(IReadOnlyList<TaggedRecording> backgrounds, int sampleRate)
    {
        ArgumentNullException.ThrowIfNull(backgrounds);
        _backgrounds = backgrounds;
        _sampleRate = sampleRate;
        _frame = sampleRate / 100;
    }

    /// <summary>One line for the training record.</summary>
    public static string Describe(double probability) => FormattableString.Invariant(
        $"scene windows p {probability}: event 1 s..window, background p {BackgroundChance} at -45..-22 dBFS with the event -5..+25 dB over it, else the event at -40..-12 dBFS, distant p {DistantChance}, noise floor p {NoiseChance} at -66..-54 dBFS");

    /// <summary>
    /// Fills <paramref name="window"/> (cleared first) with <paramref name="recording"/>'s samples as a scene event and
    /// returns the label of the background put under it, or null when there is none.
    /// </summary>
    public int? Fill(Span<float> window, float[] samples, TaggedRecording recording, Random rng)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(recording);
        ArgumentNullException.ThrowIfNull(rng);
        window.Clear();
        var shortest = Math.Min(_sampleRate, window.Length);
        var length = Math.Min(samples.Length, shortest + rng.Next(window.Length - shortest + 1));
        var crop = samples.AsSpan(rng.Next(samples.Length - length + 1), length);
        var distant = rng.NextDouble() < DistantChance;
        var background = rng.NextDouble() < BackgroundChance ? PickBackground(recording.Category, rng) : null;
        double eventDb;
        if (background is not null)
        {
            var floorDb = Uniform(rng, -45, -22);
            var backgroundSamples = TaggingSet.Read(background, _sampleRate);
            var gain = Gain(SoundLibrary.ActiveRmsDb(backgroundSamples, _frame), floorDb);
            var offset = rng.Next(backgroundSamples.Length);
            for (var s = 0; s < window.Length; s++)
            {
                window[s] = gain * backgroundSamples[(offset + s) % backgroundSamples.Length];
            }

            eventDb = floorDb + (distant ? Uniform(rng, -5, 10) : Uniform(rng, -5, 25));
        }
        else
        {
            eventDb = distant ? Uniform(rng, -45, -32) : Uniform(rng, -40, -12);
        }

        var eventGain = Gain(SoundLibrary.ActiveRmsDb(crop, _frame), Math.Min(eventDb, -8));
        var at = rng.Next(window.Length - length + 1);
        for (var s = 0; s < length; s++)
        {
            window[at + s] += eventGain * crop[s];
        }

        if (rng.NextDouble() < NoiseChance)
        {
            var noise = new float[window.Length];
            QuietWindows.Noise(noise, rng);
            QuietWindows.Scale(noise, Uniform(rng, -66, -54));
            for (var s = 0; s < window.Length; s++)
            {
                window[s] += noise[s];
            }
        }

        // Loud events on a loud background can clip: scale the whole window, which keeps every relative level.
        var peak = 0f;
        foreach (var sample in window)
        {
            peak = Math.Max(peak, Math.Abs(sample));
        }

        if (peak > 1)
        {
            for (var s = 0; s < window.Length; s++)
            {
                window[s] /= peak;
            }
        }

        return background?.Label;
    }

    /// <summary>A background of another category than the event's, or null when the split has none.</summary>
    private TaggedRecording? PickBackground(string eventCategory, Random rng)
    {
        for (var attempt = 0; attempt < 8 && _backgrounds.Count > 0; attempt++)
        {
            var candidate = _backgrounds[rng.Next(_backgrounds.Count)];
            if (!string.Equals(candidate.Category, eventCategory, StringComparison.Ordinal))
            {
                return candidate;
            }
        }

        return null;
    }

    private static float Gain(double levelDb, double targetDb) => levelDb <= -119 ? 0f : (float)Math.Pow(10, (targetDb - levelDb) / 20);

    private static double Uniform(Random rng, double low, double high) => low + (rng.NextDouble() * (high - low));
}
