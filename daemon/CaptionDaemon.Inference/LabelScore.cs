namespace CaptionDaemon.Inference;

/// <summary>A label the encoder heard in a window, with its probability.</summary>
/// <param name="Label">The label's name in the bundle's manifest, e.g. <c>dog</c>.</param>
/// <param name="Display">The label's name for people, e.g. <c>Dog</c>.</param>
/// <param name="Score">The encoder's probability of the label, in [0, 1]; at least the label's threshold.</param>
public sealed record LabelScore(string Label, string Display, float Score);
