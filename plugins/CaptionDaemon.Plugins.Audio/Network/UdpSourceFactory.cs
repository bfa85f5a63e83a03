using System.Net;
using CaptionDaemon.Contracts;
using CaptionDaemon.Plugins.Audio.Settings;
using Microsoft.Extensions.Configuration;

namespace CaptionDaemon.Plugins.Audio.Network;

/// <summary>
/// <c>udp</c>: headerless PCM datagrams from any sender. Settings: <c>Listen</c> (required: <c>port</c>, <c>:port</c>,
/// <c>host:port</c>; no host = 0.0.0.0), <c>Encoding</c> (s16le | f32le, default s16le), <c>SampleRate</c> (required),
/// <c>Channels</c> (default 1), <c>StallTimeoutSeconds</c> (default 10: after this long without a datagram the status
/// says the source is waiting, until audio comes again).
/// </summary>
internal sealed class UdpSourceFactory : IAudioSourceFactory, ISettingsValidator
{
    public string TypeName => "udp";

    public IReadOnlyCollection<string> SettingKeys { get; } = ["Listen", "StallTimeoutSeconds", .. RawPcmFormat.SettingKeys];

    public void Validate(IConfigurationSection settings) => _ = Read(settings);

    public IAudioSource Create(AudioSourceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (listen, format, stall) = Read(context.Settings);
        return new UdpSource(context.Id, listen, format, context.Logger, context.Status) { StallTimeout = stall };
    }

    private static (IPEndPoint Listen, RawPcmFormat Format, TimeSpan Stall) Read(IConfigurationSection section)
    {
        var settings = new SourceSettings(section);
        return (settings.ListenEndPoint("Listen", "0.0.0.0:5004"), RawPcmFormat.Read(settings),
            TimeSpan.FromSeconds(settings.Integer("StallTimeoutSeconds", 10, 1, 3600)));
    }
}
