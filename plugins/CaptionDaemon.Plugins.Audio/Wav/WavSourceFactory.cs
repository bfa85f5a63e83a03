using CaptionDaemon.Contracts;
using CaptionDaemon.Plugins.Audio.Settings;

namespace CaptionDaemon.Plugins.Audio.Wav;

/// <summary>
/// <c>wav</c>: plays a WAV file. Settings: <c>Path</c> (required), <c>Loop</c> (false), <c>Realtime</c> (true: paced
/// at the speed of the audio; false: as fast as the host takes it), <c>ChunkMilliseconds</c> (100, 1-10000).
/// </summary>
internal sealed class WavSourceFactory : IAudioSourceFactory
{
    public string TypeName => "wav";

    public IAudioSource Create(AudioSourceContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var settings = new SourceSettings(context.Settings);
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
        return new WavFileSource(context.Id, fullPath, header, loop, realtime, chunkMilliseconds, context.Logger, context.Status);
    }
}
