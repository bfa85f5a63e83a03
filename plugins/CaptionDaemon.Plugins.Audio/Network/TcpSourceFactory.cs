using CaptionDaemon.Contracts;
using CaptionDaemon.Plugins.Audio.Settings;
using Microsoft.Extensions.Configuration;

namespace CaptionDaemon.Plugins.Audio.Network;

/// <summary>
/// <c>tcp</c>: headerless PCM over a TCP stream. Settings: exactly one of <c>Listen</c> (<c>port</c>, <c>:port</c>,
/// <c>host:port</c>; no host = 0.0.0.0; one sender at a time) or <c>Connect</c> (<c>host:port</c>; reconnects with
/// backoff), plus <c>Encoding</c> (s16le | f32le, default s16le), <c>SampleRate</c> (required), <c>Channels</c>
/// (default 1), <c>MaxBackoffSeconds</c> (Connect only, default 60), <c>StallTimeoutSeconds</c> (default 10: a
/// connection that sends nothing for this long is closed, the status says it stalled, and the next sender is accepted
/// or the server dialled again).
/// </summary>
internal sealed class TcpSourceFactory : IAudioSourceFactory, ISettingsValidator
{
    public string TypeName => "tcp";

    public IReadOnlyCollection<string> SettingKeys { get; } = ["Listen", "Connect", "MaxBackoffSeconds", "StallTimeoutSeconds", .. RawPcmFormat.SettingKeys];

    public void Validate(IConfigurationSection settings) => _ = Read(settings);

    public IAudioSource Create(AudioSourceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (endPoint, format, maxBackoff, stall) = Read(context.Settings);
        return new TcpSource(context.Id, endPoint, format, maxBackoff, context.Logger, context.Status) { StallTimeout = stall };
    }

    private static (TcpEndPoint EndPoint, RawPcmFormat Format, TimeSpan MaxBackoff, TimeSpan Stall) Read(IConfigurationSection section)
    {
        var settings = new SourceSettings(section);
        var hasListen = settings.OptionalString("Listen") is not null;
        var hasConnect = settings.OptionalString("Connect") is not null;
        if (hasListen == hasConnect)
        {
            throw new PluginConfigurationException(hasListen
                ? $"{settings.PathOf("Listen")} and {settings.PathOf("Connect")}: give one of them, not both"
                : $"{settings.PathOf("Listen")} or {settings.PathOf("Connect")}: one is required (Listen = \":5004\" to accept a sender, Connect = \"192.168.1.20:5004\" to dial one)");
        }
        var format = RawPcmFormat.Read(settings);
        var maxBackoff = TimeSpan.FromSeconds(settings.Integer("MaxBackoffSeconds", 60, 1, 3600));
        var stall = TimeSpan.FromSeconds(settings.Integer("StallTimeoutSeconds", 10, 1, 3600));
        var endPoint = hasListen
            ? TcpEndPoint.Listening(settings.ListenEndPoint("Listen", ":5004"))
            : TcpEndPoint.Connecting(settings.RemoteEndPoint("Connect", "192.168.1.20:5004"));
        return (endPoint, format, maxBackoff, stall);
    }
}
