using CaptionDaemon.Contracts;
using CaptionDaemon.Plugins.Audio.Pcm;
using CaptionDaemon.Plugins.Audio.Settings;

namespace CaptionDaemon.Plugins.Audio.Network;

/// <summary>The declared layout of headerless PCM from a socket: <c>Encoding</c>, <c>SampleRate</c>, <c>Channels</c>.</summary>
internal sealed record RawPcmFormat(SampleEncoding Encoding, AudioFormat Format)
{
    /// <summary>The keys <see cref="Read"/> reads.</summary>
    public static IReadOnlyList<string> SettingKeys { get; } = ["Encoding", "SampleRate", "Channels"];

    /// <summary>Bytes per frame: one sample of every channel.</summary>
    public int FrameBytes => Format.Channels * SampleDecoder.BytesPerSample(Encoding);

    /// <summary>Reads <c>Encoding</c> (s16le | f32le, default s16le), <c>SampleRate</c> (required) and <c>Channels</c> (default 1).</summary>
    public static RawPcmFormat Read(SourceSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var encoding = settings.OneOf("Encoding", "s16le", "f32le") switch
        {
            "f32le" => SampleEncoding.Float32,
            _ => SampleEncoding.Signed16,
        };
        var sampleRate = settings.RequiredInteger("SampleRate", 1000, 768_000, "16000");
        var channels = settings.Integer("Channels", 1, 1, 64);
        return new RawPcmFormat(encoding, new AudioFormat(sampleRate, channels));
    }
}
