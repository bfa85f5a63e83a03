namespace CaptionDaemon.Training.Data.Scenes;

/// <summary>One sound event placed in a scene (a line of scenes.jsonl lists these).</summary>
/// <param name="RecordingId">The recording (sound index id).</param>
/// <param name="Category">The recording's category.</param>
/// <param name="Caption">The recording's own caption.</param>
/// <param name="Onset">Start of the first occurrence, seconds from the clip start.</param>
/// <param name="Seconds">Length of one occurrence (the cropped segment).</param>
/// <param name="SourceStart">Where the segment starts in the trimmed recording, seconds.</param>
/// <param name="Repeats">How many times the segment occurs.</param>
/// <param name="Gap">Silence between occurrences, seconds.</param>
/// <param name="GainDb">Gain applied to the recording.</param>
/// <param name="LevelDb">Resulting RMS level of the loud part, dBFS.</param>
/// <param name="Distant">Quiet and low-passed, captioned "in the distance".</param>
/// <param name="Rt60">Reverberation time of the synthetic room it was played in, seconds; null when dry.</param>
/// <param name="Wet">Share of reverberant sound (0..1); 0 when dry.</param>
internal sealed record SceneEvent(
    string RecordingId,
    string Category,
    string Caption,
    double Onset,
    double Seconds,
    double SourceStart,
    int Repeats,
    double Gap,
    double GainDb,
    double LevelDb,
    bool Distant,
    double? Rt60 = null,
    double Wet = 0)
{
    /// <summary>End of the last occurrence, seconds from the clip start.</summary>
    public double End => Math.Round(Onset + (Repeats * Seconds) + ((Repeats - 1) * Gap), 3);
}

/// <summary>
/// The background of a scene over the whole clip: a steady ambience looped, or (<paramref name="Media"/> "radio" or
/// "television") speech or music played one recording after another from <paramref name="Chained"/>, quieter and
/// band-limited like a small loudspeaker. Backgrounds are not events.
/// </summary>
internal sealed record SceneBackground(
    string RecordingId,
    string Category,
    string Caption,
    double Offset,
    double GainDb,
    double LevelDb,
    string? Media = null,
    IReadOnlyList<string>? Chained = null)
{
    /// <summary>Every recording the background plays.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IEnumerable<string> RecordingIds => Chained is null ? [RecordingId] : Chained.Prepend(RecordingId).Distinct(StringComparer.Ordinal);
}

/// <summary>A generated clip: where it is, what kind it is (<see cref="SceneKinds.Name"/>), what is in it and its five captions.</summary>
/// <param name="File">The clip's file name (its id in the Clotho layout).</param>
/// <param name="Split">The Clotho split.</param>
/// <param name="Kind">The clip kind: single, mixture, speech, music, media_background, ambience or quiet.</param>
/// <param name="Seconds">Clip length.</param>
/// <param name="Events">The events, in order of onset; none in ambience and quiet clips.</param>
/// <param name="Background">Steady ambience, hum, or radio/television; null when none.</param>
/// <param name="NoiseDb">Level of the noise floor, dBFS; null for none (digital silence between the sounds).</param>
/// <param name="HumDb">Level of a synthetic mains hum (quiet clips), dBFS; null when none.</param>
/// <param name="Captions">The five captions.</param>
/// <param name="Quiet">Whether nothing notable happens (<see cref="SceneKinds.IsQuiet"/>).</param>
/// <param name="Tone">A steady tone (quiet clips); null when none.</param>
internal sealed record Scene(
    string File,
    string Split,
    string Kind,
    bool Quiet,
    double Seconds,
    IReadOnlyList<SceneEvent> Events,
    SceneBackground? Background,
    double? NoiseDb,
    double? HumDb,
    IReadOnlyList<string> Captions,
    SteadyTone? Tone = null);

/// <summary>A steady tone under a quiet clip: fundamental, partials (1-3, amplitudes 1, 1/2, 1/4) and RMS level in dBFS.</summary>
internal sealed record SteadyTone(double FrequencyHz, int Partials, double LevelDb);

/// <summary>What a quiet clip holds besides its noise floor, which its captions mention.</summary>
internal enum QuietSound
{
    /// <summary>Nothing (or room tone).</summary>
    None,

    /// <summary>A hum or a fan.</summary>
    Hum,

    /// <summary>A steady tone.</summary>
    Tone,
}
