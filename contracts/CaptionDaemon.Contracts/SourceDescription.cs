namespace CaptionDaemon.Contracts;

/// <summary>
/// What a source can say, for sinks that describe sources to their consumers (e.g. Home Assistant discovery): the
/// labels its captions may carry. Sent when the source is configured and again when the model changes.
/// </summary>
/// <param name="SourceId">The source.</param>
/// <param name="Model">The model bundle's name.</param>
/// <param name="Labels">
/// The labels this source's captions may carry, in the model's order: the model's labels (never its "nothing notable"
/// label), narrowed to the source's <c>Labels</c> setting when it has one. Empty for a model without labels.
/// </param>
public sealed record SourceDescription(string SourceId, string Model, IReadOnlyList<ModelLabel> Labels);

/// <summary>A label of the model.</summary>
/// <param name="Label">The label's name in the model, e.g. <c>dog</c>: stable, for automations.</param>
/// <param name="Display">The label's name for people, e.g. <c>Dog</c>.</param>
public sealed record ModelLabel(string Label, string Display);

/// <summary>A source's audio level: the RMS of its latest window, as the silence gate measures it.</summary>
/// <param name="SourceId">The source.</param>
/// <param name="Dbfs">The level in dBFS (0 is the RMS of a full-scale square wave), rounded to 0.1; -150 for digital silence.</param>
/// <param name="Time">The end of the window it was measured on (UTC).</param>
public sealed record SourceLevel(string SourceId, double Dbfs, DateTimeOffset Time);
