using CaptionDaemon.Contracts;
using CaptionDaemon.Plugins.Audio.Settings;
using Microsoft.Extensions.Configuration;

namespace CaptionDaemon.Plugins.Audio.Wav;

/// <summary>
/// <c>wav</c>: plays a WAV file. Settings: <c>Path</c> (required), <c>Loop</c> (false), <c>Realtime</c> (true: paced
/// at the speed of the audio; false: as fast as the host takes it), <c>ChunkMilliseconds</c> (100, 1-10000).
/// </summary>
internal sealed class WavSourceFactory : IAudioSourceFactory, ISettingsValidator
{
    public string TypeName => "wav";

    public IReadOnlyCollection<string> SettingKeys { get; } = ["Path", "Loop", "Realtime", "ChunkMilliseconds"];

    public void Validate(IConfigurationSection settings) => _ = Read(settings);

    public IAudioSource Create(AudioSourceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var (fullPath, header, loop, realtime, chunkMilliseconds) = Read(context.Settings);
        return new WavFileSource(context.Id, fullPath, header, loop, realtime, chunkMilliseconds, context.Logger, context.Status);
    }

    /// <summary>Reads and checks the settings and the file's header (read only; the file is opened again to play).</summary>
    private static (string Path, WavHeader Header, bool Loop, bool Realtime, int ChunkMilliseconds) Read(IConfigurationSection section)
    {
        var settings = new SourceSettings(section);
        var path = settings.RequiredString("Path", "/srv/audio/door.wav");
        var loop = settings.Boolean("Loop", false);
        var realtime = settings.Boolean("Realtime", true);
        var chunkMilliseconds = settings.Integer("ChunkMilliseconds", 100, 1, 10_000);
        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            var problem = Directory.Exists(fullPath) ? "is a directory, not a WAV file" : "no such file";
            throw settings.Invalid("Path", $"{problem}: {fullPath}");
        }

        WavHeader header;
        using (var stream = WavFileSource.Open(fullPath))
            header = WavHeader.Read(stream, fullPath);
        return (fullPath, header, loop, realtime, chunkMilliseconds);
    }
}
