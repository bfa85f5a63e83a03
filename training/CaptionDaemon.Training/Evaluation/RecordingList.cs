using System.Text;
using CaptionDaemon.Training.Data;

namespace CaptionDaemon.Training.Evaluation;

/// <summary>A recording to caption alone and the category it should be named by.</summary>
/// <param name="Path">The path as the list gives it (the key of the report's <c>captions</c>).</param>
/// <param name="FullPath">The path resolved against the list's folder.</param>
/// <param name="Category">Any category name; the synonym table says which words name it.</param>
internal sealed record LabelledRecording(string Path, string FullPath, string Category);

/// <summary>
/// The <c>--recordings</c> list of <c>eval</c>: one <c>path&lt;TAB&gt;category</c> per line, paths relative to the
/// list's folder unless absolute, an optional header line <c>path&lt;TAB&gt;category</c>, blank lines ignored.
/// </summary>
internal static class RecordingList
{
    /// <summary>Reads a recording list; whether the audio files exist is left to the decoder, which names the file.</summary>
    /// <exception cref="DatasetFormatException">The file is missing, empty, or a line is malformed; the message names file and line.</exception>
    public static IReadOnlyList<LabelledRecording> Load(string path)
    {
        var fullPath = System.IO.Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new DatasetFormatException($"Recording list '{fullPath}' does not exist.");
        }

        using var reader = new StreamReader(fullPath, Encoding.UTF8);
        return Parse(reader, fullPath, System.IO.Path.GetDirectoryName(fullPath)!);
    }

    /// <summary>Parses list text; relative paths resolve against <paramref name="baseDirectory"/>.</summary>
    /// <exception cref="DatasetFormatException">A line is malformed or the list is empty; the message names <paramref name="source"/> and the line.</exception>
    public static IReadOnlyList<LabelledRecording> Parse(TextReader reader, string source, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var recordings = new List<LabelledRecording>();
        var lines = new Dictionary<string, int>(StringComparer.Ordinal);
        var lineNumber = 0;
        var firstLine = true;
        string? line;
        while ((line = reader.ReadLine()) is not null)
        {
            lineNumber++;
            if (line.Trim().Length == 0)
            {
                continue;
            }

            var fields = line.Split('\t');
            if (fields.Length != 2)
            {
                throw new DatasetFormatException(
                    $"{source} line {lineNumber}: expected 'path<TAB>category' (2 tab-separated fields), found {fields.Length} field(s).");
            }

            var (path, category) = (fields[0].Trim(), fields[1].Trim());
            var isHeader = firstLine && path.Equals("path", StringComparison.OrdinalIgnoreCase) && category.Equals("category", StringComparison.OrdinalIgnoreCase);
            firstLine = false;
            if (isHeader)
            {
                continue;
            }

            if (path.Length == 0 || category.Length == 0)
            {
                throw new DatasetFormatException($"{source} line {lineNumber}: the {(path.Length == 0 ? "path" : "category")} is empty.");
            }

            // The report keys captions by the path as given, so a second line for the same file would overwrite the first.
            if (!lines.TryAdd(path, lineNumber))
            {
                throw new DatasetFormatException($"{source} line {lineNumber}: '{path}' is listed already on line {lines[path]}.");
            }

            recordings.Add(new LabelledRecording(path, System.IO.Path.GetFullPath(path, baseDirectory), category));
        }

        if (recordings.Count == 0)
        {
            throw new DatasetFormatException($"{source}: lists no recordings (expected lines 'path<TAB>category').");
        }

        return recordings;
    }
}
