namespace CaptionDaemon.Training.Data;

/// <summary>Which files count as audio when a folder is scanned.</summary>
internal static class AudioFiles
{
    /// <summary>Extensions (lower case, with dot) of the audio formats the readers pick up; ffmpeg decodes all of them.</summary>
    public static IReadOnlySet<string> Extensions { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".au", ".aif", ".aiff", ".wma", ".webm", ".mka",
    };

    public static bool IsAudio(string path) => Extensions.Contains(Path.GetExtension(path));
}
