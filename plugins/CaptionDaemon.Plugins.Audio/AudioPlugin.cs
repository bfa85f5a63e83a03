using CaptionDaemon.Contracts;
using CaptionDaemon.Plugins.Audio.Ffmpeg;
using CaptionDaemon.Plugins.Audio.Network;
using CaptionDaemon.Plugins.Audio.Wav;
using Microsoft.Extensions.DependencyInjection;

namespace CaptionDaemon.Plugins.Audio;

/// <summary>
/// The first-party audio sources: <c>wav</c> (WAV files), <c>ffmpeg</c> (anything ffmpeg reads: microphones, RTSP,
/// RTP, HTTP, files), <c>udp</c> and <c>tcp</c> (raw PCM over the network).
/// </summary>
public sealed class AudioPlugin : ICaptionDaemonPlugin
{
    /// <inheritdoc />
    public void Register(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<IAudioSourceFactory, WavSourceFactory>();
        services.AddSingleton<IAudioSourceFactory, FfmpegSourceFactory>();
        services.AddSingleton<IAudioSourceFactory, UdpSourceFactory>();
        services.AddSingleton<IAudioSourceFactory, TcpSourceFactory>();
    }
}
