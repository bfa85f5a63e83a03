namespace CaptionDaemon.Contracts;

/// <summary>A caption of one window of one source.</summary>
/// <param name="SourceId">The source the window came from.</param>
/// <param name="Sequence">
/// Per source, increasing by one for every caption published within one <see cref="Run"/>; with <see cref="Run"/> it
/// lets a client drop duplicates and see gaps.
/// </param>
/// <param name="Start">UTC time of the window's first sample.</param>
/// <param name="End">UTC time just after the window's last sample.</param>
/// <param name="Text">The caption, e.g. "a dog barks while rain falls".</param>
/// <param name="Confidence">
/// In [0, 1]: how likely the caption names what was heard, as the model's calibration estimates it; for a model without
/// one, the geometric mean of the chosen tokens' probabilities.
/// </param>
/// <param name="Model">The model name of the bundle that wrote it.</param>
/// <param name="Latency">
/// From the window's end to delivery: the host sets it as it hands the caption to a sink, so time spent in the outbox
/// counts.
/// </param>
public sealed record Caption(
    string SourceId,
    long Sequence,
    DateTimeOffset Start,
    DateTimeOffset End,
    string Text,
    double Confidence,
    string Model,
    TimeSpan Latency)
{
    /// <summary>
    /// The sounds the model's encoder heard in the window, highest score first: each of the model's labels whose
    /// probability reached its threshold (never the model's "nothing notable" label). Empty when none did or when
    /// the model has no labels.
    /// </summary>
    public IReadOnlyList<CaptionLabel> Labels { get; init; } = [];

    /// <summary>
    /// The numbering that <see cref="Sequence"/> belongs to: the same for as long as sequence numbers continue (across
    /// restarts when the daemon keeps them on disk), new whenever numbering starts again from 1. A caption is
    /// identified by (<see cref="SourceId"/>, <see cref="Run"/>, <see cref="Sequence"/>).
    /// </summary>
    public string Run { get; init; } = string.Empty;
}
