namespace CaptionDaemon.Contracts;

/// <summary>The format of the samples a source delivers: 32-bit float, interleaved when there is more than one channel.</summary>
/// <param name="SampleRate">Samples per second per channel, e.g. 16000 or 48000.</param>
/// <param name="Channels">Interleaved channels; the host mixes them down to mono.</param>
public sealed record AudioFormat(int SampleRate, int Channels)
{
    /// <summary>16 kHz mono, the rate of the shipped models.</summary>
    public static AudioFormat Mono16k { get; } = new(16000, 1);
}
