using System.Globalization;
using System.Text;
using CaptionDaemon.Training.Data;

namespace CaptionDaemon.Training.Distillation;

/// <summary>Clips to keep of each split of a Clotho-layout set; null keeps the whole split.</summary>
internal sealed record SplitSizes(int? Development, int? Validation, int? Evaluation)
{
    public static SplitSizes All { get; } = new(null, null, null);

    public int? Of(string split) => split switch
    {
        ClothoDataset.Development => Development,
        ClothoDataset.Validation => Validation,
        ClothoDataset.Evaluation => Evaluation,
        _ => throw new ArgumentOutOfRangeException(nameof(split), split, "not a Clotho split"),
    };

    public bool KeepsAll => Development is null && Validation is null && Evaluation is null;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"development {Describe(Development)}, validation {Describe(Validation)}, evaluation {Describe(Evaluation)}");

    private static string Describe(int? clips) => clips is { } n ? n.ToString(CultureInfo.InvariantCulture) : "all";
}

/// <summary>
/// A smaller Clotho-layout scene set made of the first clips of each split of a larger one: the caption CSVs are
/// rewritten with those rows and the audio files are symbolic links, so the subset costs no audio copies and the
/// reproduction's budget decides how many clips it trains and scores on.
/// </summary>
internal static class SceneSubset
{
    /// <summary>Marker of a finished subset: the source and sizes it was made from.</summary>
    public const string MarkerFileName = "subset.txt";

    /// <summary>
    /// Writes the subset into <paramref name="target"/> unless it already holds one made from the same source and sizes;
    /// returns <paramref name="target"/>.
    /// </summary>
    /// <exception cref="DatasetFormatException">A split of the source is missing or malformed.</exception>
    public static string Create(string source, string target, SplitSizes sizes, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        ArgumentException.ThrowIfNullOrEmpty(target);
        ArgumentNullException.ThrowIfNull(sizes);
        source = Path.GetFullPath(source);
        target = Path.GetFullPath(target);
        var marker = Path.Combine(target, MarkerFileName);
        var description = $"{source}\n{sizes}\n";
        if (File.Exists(marker) && File.ReadAllText(marker) == description)
        {
            // Subsets made before the scene list was carried over get it now.
            CopySceneList(source, target);
            return target;
        }

        if (Directory.Exists(target))
        {
            // A subset of other sizes or an interrupted one: its links and CSVs are rebuilt from the source.
            Directory.Delete(target, recursive: true);
        }

        foreach (var split in ClothoDataset.Splits)
        {
            var clips = ClothoDataset.Load(source, split, cancellationToken);
            var kept = sizes.Of(split) is { } n ? clips.Take(n).ToArray() : [.. clips];
            var audio = ClothoDataset.AudioDirectory(target, split);
            Directory.CreateDirectory(audio);
            var csv = new StringBuilder();
            var captionColumns = kept.Length == 0 ? 5 : Math.Max(5, kept.Max(c => c.Captions.Count));
            csv.Append("file_name");
            for (var i = 1; i <= captionColumns; i++)
            {
                csv.Append(CultureInfo.InvariantCulture, $",caption_{i}");
            }

            csv.Append('\n');
            foreach (var clip in kept)
            {
                cancellationToken.ThrowIfCancellationRequested();
                File.CreateSymbolicLink(Path.Combine(audio, clip.Id), clip.AudioPath);
                csv.Append(Quote(clip.Id));
                for (var i = 0; i < captionColumns; i++)
                {
                    csv.Append(',').Append(i < clip.Captions.Count ? Quote(clip.Captions[i]) : string.Empty);
                }

                csv.Append('\n');
            }

            File.WriteAllText(ClothoDataset.CaptionsPath(target, split), csv.ToString());
        }

        var notice = Path.Combine(source, "NOTICE");
        if (File.Exists(notice))
        {
            File.Copy(notice, Path.Combine(target, "NOTICE"), overwrite: true);
        }

        CopySceneList(source, target);
        File.WriteAllText(marker, description);
        return target;
    }

    /// <summary>
    /// The scene set's list of events per clip (<c>scenes.jsonl</c>), whole: <c>eval</c> reads the lines of the clips it
    /// scores, and without it the subset would have no event recall.
    /// </summary>
    private static void CopySceneList(string source, string target)
    {
        var scenes = Path.Combine(source, Data.Scenes.SceneSetBuilder.ScenesFileName);
        var copy = Path.Combine(target, Data.Scenes.SceneSetBuilder.ScenesFileName);
        if (File.Exists(scenes) && (!File.Exists(copy) || File.GetLastWriteTimeUtc(copy) < File.GetLastWriteTimeUtc(scenes)))
        {
            File.Copy(scenes, copy, overwrite: true);
        }
    }

    private static string Quote(string field) => "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
