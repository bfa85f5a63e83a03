namespace CaptionDaemon.Training.Data;

/// <summary>A folder of audio without captions (for teacher pseudo-captions), searched recursively.</summary>
internal static class UnlabelledAudio
{
    /// <summary>
    /// Every audio file under <paramref name="directory"/> (extensions in <see cref="AudioFiles.Extensions"/>), in ordinal
    /// order of the relative path so that runs are reproducible; the id is the relative path with '/' separators.
    /// </summary>
    /// <exception cref="DatasetFormatException">The folder does not exist or holds no audio.</exception>
    public static IReadOnlyList<CaptionedClip> Load(string directory, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        var root = Path.GetFullPath(directory);
        if (!Directory.Exists(root))
        {
            throw new DatasetFormatException($"Audio folder '{root}' does not exist.");
        }

        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            IgnoreInaccessible = true,
            AttributesToSkip = FileAttributes.Hidden | FileAttributes.System,
            MatchType = MatchType.Simple,
        };
        var clips = new List<CaptionedClip>();
        foreach (var path in Directory.EnumerateFiles(root, "*", options))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (AudioFiles.IsAudio(path))
            {
                var id = Path.GetRelativePath(root, path).Replace(Path.DirectorySeparatorChar, '/');
                clips.Add(new CaptionedClip(id, path, []));
            }
        }

        if (clips.Count == 0)
        {
            throw new DatasetFormatException(
                $"Audio folder '{root}' holds no audio files ({string.Join(" ", AudioFiles.Extensions.Order(StringComparer.Ordinal))}).");
        }

        clips.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        return clips;
    }
}
