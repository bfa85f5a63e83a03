namespace CaptionDaemon.Contracts;

/// <summary>A label of a caption: a sound the model heard in the window.</summary>
/// <param name="Label">The label's name in the model, e.g. <c>dog</c>: stable, for automations.</param>
/// <param name="Display">The label's name for people, e.g. <c>Dog</c>.</param>
/// <param name="Score">The model's probability of the label, in [0, 1].</param>
public sealed record CaptionLabel(string Label, string Display, double Score);
