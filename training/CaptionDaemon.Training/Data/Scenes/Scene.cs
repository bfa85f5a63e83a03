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
    bool Distant)
{
    /// <summary>End of the last occurrence, seconds from the clip start.</summary>
    public double End => Math.Round(Onset + (Repeats * Seconds) + ((Repeats - 1) * Gap), 3);
}

/// <summary>The steady background of a scene, looped over the whole clip.</summary>
internal sealed record SceneBackground(string RecordingId, string Category, string Caption, double Offset, double GainDb, double LevelDb);

/// <summary>A generated clip: where it is, what is in it and its five captions.</summary>
internal sealed record Scene(
    string File,
    string Split,
    double Seconds,
    IReadOnlyList<SceneEvent> Events,
    SceneBackground? Background,
    double NoiseDb,
    IReadOnlyList<string> Captions);
