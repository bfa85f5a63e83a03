namespace CaptionDaemon.Contracts;

/// <summary>
/// A run of samples from a source, in the source's <see cref="AudioFormat"/>: floats in [-1, 1], interleaved.
/// </summary>
/// <remarks>
/// The host copies the samples before it asks the source for the next chunk, so a source may reuse one buffer
/// for every chunk it yields: <see cref="Samples"/> need only stay valid until the enumerator is advanced.
/// </remarks>
/// <param name="Samples">Interleaved samples; the length is a multiple of the channel count.</param>
/// <param name="Timestamp">
/// When the first sample was captured (UTC), or null to let the host continue the source's timeline from the
/// previous chunk (the host starts the timeline at the wall-clock time of the first chunk).
/// </param>
public readonly record struct AudioChunk(ReadOnlyMemory<float> Samples, DateTimeOffset? Timestamp = null);
