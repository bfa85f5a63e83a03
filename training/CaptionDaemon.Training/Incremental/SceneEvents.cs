using System.Text.Json;
using CaptionDaemon.Training.Data.Scenes;

namespace CaptionDaemon.Training.Incremental;

/// <summary>One sound event of a clip: the recording's category and its own caption ("a dog barks").</summary>
internal sealed record ClipEvent(string Category, string Caption);

/// <summary>
/// The events of every clip of a generated scene set, read from its <c>scenes.jsonl</c> (keyed by file name, which is
/// the clip id of the Clotho layout). The class-incremental code needs them for a clip's category (its first event's,
/// the memory's per-category selection) and to check whether a caption names the events that are present; training
/// on a tagger needs every category one hears in a clip (<see cref="TryLoadCategories"/>).
/// </summary>
internal static class SceneEvents
{
    /// <summary>The events per clip id; null when <paramref name="dataDirectory"/> has no <c>scenes.jsonl</c>.</summary>
    /// <exception cref="InvalidDataException">A line is not a scene.</exception>
    public static IReadOnlyDictionary<string, IReadOnlyList<ClipEvent>>? TryLoad(string dataDirectory) =>
        TryRead(dataDirectory)?.ToDictionary(s => s.File, s => s.Events, StringComparer.Ordinal);

    /// <summary>
    /// The categories one hears in every clip, per clip id: its events', its steady background's, and
    /// <paramref name="nothing"/> for a clip in which nothing notable happens; null when <paramref name="dataDirectory"/>
    /// has no <c>scenes.jsonl</c>. These are a tagger's targets for the clip (<see cref="Tagging.TaggingSet"/>).
    /// </summary>
    /// <exception cref="InvalidDataException">A line is not a scene.</exception>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>>? TryLoadCategories(string dataDirectory, string nothing) =>
        TryRead(dataDirectory)?.ToDictionary(
            s => s.File,
            s => (IReadOnlyList<string>)[.. s.Events.Select(e => e.Category).Concat(s.Background is { } b ? [b] : []).Concat(s.Quiet ? [nothing] : []).Distinct(StringComparer.Ordinal)],
            StringComparer.Ordinal);

    private static List<(string File, IReadOnlyList<ClipEvent> Events, string? Background, bool Quiet)>? TryRead(string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(dataDirectory);
        var path = Path.Combine(dataDirectory, SceneSetBuilder.ScenesFileName);
        if (!File.Exists(path))
        {
            return null;
        }

        var scenes = new List<(string, IReadOnlyList<ClipEvent>, string?, bool)>();
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
                var events = root.GetProperty("events").EnumerateArray()
                    .Select(e => new ClipEvent(e.GetProperty("category").GetString()!, e.GetProperty("caption").GetString()!))
                    .ToArray();
                var background = root.TryGetProperty("background", out var b) && b.ValueKind == JsonValueKind.Object ? b.GetProperty("category").GetString() : null;
                var quiet = root.TryGetProperty("quiet", out var q) && q.ValueKind == JsonValueKind.True;
                scenes.Add((file, events, background, quiet));
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new InvalidDataException($"{path}:{number}: not a scene line ({ex.Message}).", ex);
            }
        }

        return scenes;
    }
}
