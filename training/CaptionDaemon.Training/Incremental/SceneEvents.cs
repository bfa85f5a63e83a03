using System.Text.Json;
using CaptionDaemon.Training.Data.Scenes;

namespace CaptionDaemon.Training.Incremental;

/// <summary>One sound event of a clip: the recording's category and its own caption ("a dog barks").</summary>
internal sealed record ClipEvent(string Category, string Caption);

/// <summary>
/// The events of every clip of a generated scene set, read from its <c>scenes.jsonl</c> (keyed by file name, which is
/// the clip id of the Clotho layout). The class-incremental code needs them for a clip's category (its first event's,
/// the memory's per-category selection) and to check whether a caption names the events that are present.
/// </summary>
internal static class SceneEvents
{
    /// <summary>The events per clip id; null when <paramref name="dataDirectory"/> has no <c>scenes.jsonl</c>.</summary>
    /// <exception cref="InvalidDataException">A line is not a scene.</exception>
    public static IReadOnlyDictionary<string, IReadOnlyList<ClipEvent>>? TryLoad(string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(dataDirectory);
        var path = Path.Combine(dataDirectory, SceneSetBuilder.ScenesFileName);
        if (!File.Exists(path))
        {
            return null;
        }

        var events = new Dictionary<string, IReadOnlyList<ClipEvent>>(StringComparer.Ordinal);
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                using var document = JsonDocument.Parse(line);
                var root = document.RootElement;
                var file = root.GetProperty("file").GetString() ?? throw new InvalidDataException("no file name");
                events[file] = root.GetProperty("events").EnumerateArray()
                    .Select(e => new ClipEvent(e.GetProperty("category").GetString()!, e.GetProperty("caption").GetString()!))
                    .ToArray();
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new InvalidDataException($"{path}:{number}: not a scene line ({ex.Message}).", ex);
            }
        }

        return events;
    }
}
