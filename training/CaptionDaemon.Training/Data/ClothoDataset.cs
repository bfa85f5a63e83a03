using System.Globalization;

namespace CaptionDaemon.Training.Data;

/// <summary>
/// The Clotho layout: <c>root/clotho_captions_&lt;split&gt;.csv</c> with columns <c>file_name,caption_1..caption_5</c>
/// and the audio files in <c>root/&lt;split&gt;/</c>. Splits: <c>development</c> (train), <c>validation</c>,
/// <c>evaluation</c> (test). Generated scenes are written in this layout too.
/// </summary>
internal static class ClothoDataset
{
    public const string Development = "development";
    public const string Validation = "validation";
    public const string Evaluation = "evaluation";

    /// <summary>The three splits in the order train, validation, test.</summary>
    public static IReadOnlyList<string> Splits { get; } = [Development, Validation, Evaluation];

    /// <summary>The captions file of a split.</summary>
    public static string CaptionsPath(string root, string split) => Path.Combine(root, $"clotho_captions_{split}.csv");

    /// <summary>The audio folder of a split.</summary>
    public static string AudioDirectory(string root, string split) => Path.Combine(root, split);

    /// <summary>Loads one split; every listed audio file must exist.</summary>
    /// <exception cref="DatasetFormatException">The CSV or an audio file is missing or malformed; the message names the file and line.</exception>
    public static IReadOnlyList<CaptionedClip> Load(string root, string split, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        ArgumentException.ThrowIfNullOrEmpty(split);
        var csvPath = CaptionsPath(root, split);
        if (!File.Exists(csvPath))
        {
            throw new DatasetFormatException(
                $"Clotho split '{split}' not found: '{csvPath}' does not exist (expected clotho_captions_<split>.csv with file_name,caption_1..caption_5 and audio in '{AudioDirectory(root, split)}').");
        }

        var table = CsvTable.Load(csvPath, cancellationToken);
        var fileColumn = table.Column("file_name");
        var captionColumns = CaptionColumns(table);
        var audioDirectory = Path.GetFullPath(AudioDirectory(root, split));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var clips = new List<CaptionedClip>(table.Rows.Count);
        foreach (var row in table.Rows)
        {
            var fileName = row.Fields[fileColumn].Trim();
            if (fileName.Length == 0)
            {
                throw new DatasetFormatException($"{csvPath} line {row.Line}: empty file_name.");
            }

            if (!seen.Add(fileName))
            {
                throw new DatasetFormatException($"{csvPath} line {row.Line}: '{fileName}' is listed twice.");
            }

            var captions = captionColumns
                .Select(i => row.Fields[i].Trim())
                .Where(c => c.Length > 0)
                .ToArray();
            if (captions.Length == 0)
            {
                throw new DatasetFormatException($"{csvPath} line {row.Line}: '{fileName}' has no caption.");
            }

            var audioPath = Path.Combine(audioDirectory, fileName);
            if (!File.Exists(audioPath))
            {
                throw new DatasetFormatException(
                    $"{csvPath} line {row.Line}: audio file '{audioPath}' for '{fileName}' does not exist.");
            }

            clips.Add(new CaptionedClip(fileName, audioPath, captions));
        }

        return clips;
    }

    /// <summary>The caption columns in their numeric order (caption_1, caption_2, ...).</summary>
    private static int[] CaptionColumns(CsvTable table)
    {
        var columns = new List<(int Number, int Index)>();
        for (var i = 0; i < table.Header.Count; i++)
        {
            var name = table.Header[i];
            if (name.StartsWith("caption_", StringComparison.OrdinalIgnoreCase)
                && int.TryParse(name.AsSpan("caption_".Length), NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                columns.Add((number, i));
            }
        }

        if (columns.Count == 0)
        {
            throw new DatasetFormatException(
                $"CSV file '{table.Source}' has no caption_1..caption_N columns; its columns are: {string.Join(", ", table.Header)}.");
        }

        return columns.OrderBy(c => c.Number).Select(c => c.Index).ToArray();
    }
}
