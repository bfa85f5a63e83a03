namespace CaptionDaemon.Training.Data;

/// <summary>One audio clip of a data set and its reference captions (empty for unlabelled audio).</summary>
/// <param name="Id">Unique within its data set: the Clotho file name, the AudioCaps video and start, or the relative path.</param>
/// <param name="AudioPath">Absolute path of the audio file; decode it with <see cref="AudioDecoder"/>.</param>
/// <param name="Captions">The reference captions as written in the data set (not normalised).</param>
internal sealed record CaptionedClip(string Id, string AudioPath, IReadOnlyList<string> Captions);
