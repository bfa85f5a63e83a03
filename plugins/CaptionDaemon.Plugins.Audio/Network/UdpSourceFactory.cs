using CaptionDaemon.Contracts;
using CaptionDaemon.Plugins.Audio.Settings;

namespace CaptionDaemon.Plugins.Audio.Network;

/// <summary>
/// <c>udp</c>: headerless PCM datagrams from any sender. Settings: <c>Listen</c> (required: <c>port</c>, <c>:port</c>,
/// <c>host:port</c>; no host = 0.0.0.0), <c>Encoding</c> (s16le | f32le, default s16le), <c>SampleRate</c> (required),
/// <c>Channels</c> (default 1).
/// </summary>
internal sealed class UdpSourceFactory : IAudioSourceFactory
{
    public string TypeName => "udp";

    public IAudioSource Create(AudioSourceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var settings = new SourceSettings(context.Settings);
        var listen = settings.ListenEndPoint("Listen", "0.0.0.0:5004");
        var format = RawPcmFormat.Read(settings);
        return new UdpSource(context.Id, listen, format, context.Logger, context.Status);
    }
}
