namespace CaptionDaemon.Contracts;

/// <summary>A stream of audio: a microphone, a network stream, a file.</summary>
/// <remarks>
/// The host calls <see cref="ReadAsync"/> once and reads until the sequence ends (the source is finished, e.g. a
/// file that does not loop) or the token is cancelled (the daemon stops). While chunks arrive the host shows the
/// source online. An exception from the sequence is reported and the host restarts the source (a new one from the
/// factory) with exponential backoff; a source that can recover from transient failures itself (a network stream
/// that drops) should do so and say so through <see cref="AudioSourceContext.Status"/>.
/// </remarks>
public interface IAudioSource : IAsyncDisposable
{
    /// <summary>The source id from configuration; used in MQTT topics and metrics.</summary>
    string Id { get; }

    /// <summary>The format of every chunk this source yields. It does not change during the source's life.</summary>
    AudioFormat Format { get; }

    /// <summary>Yields audio as it arrives. Never blocks on anything but the audio itself.</summary>
    /// <param name="cancellationToken">Cancelled when the daemon stops or the source is removed.</param>
    IAsyncEnumerable<AudioChunk> ReadAsync(CancellationToken cancellationToken);
}
