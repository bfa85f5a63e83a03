using System.Text.Json;
using CaptionDaemon.Training.Data;

namespace CaptionDaemon.Training.Evaluation;

/// <summary>A candidate caption read from a JSON-lines file, with the line it came from (for error messages).</summary>
internal sealed record CandidateLine(string Id, string Caption, int Line);

/// <summary>A reference set read from a JSON-lines file, with the line it came from.</summary>
internal sealed record ReferenceLine(string Id, IReadOnlyList<string> Captions, int Line);

/// <summary>
/// The JSON-lines files of <c>captiond-train score</c>: candidates <c>{"id": .., "caption": ".."}</c> and references
/// <c>{"id": .., "captions": ["..", ..]}</c>, one object a line, blank lines ignored. Ids may be strings or numbers;
/// a number is matched by its text as written (<c>7</c> matches <c>"7"</c>), since tools disagree on which they write.
/// </summary>
internal static class CaptionFiles
{
    /// <exception cref="DatasetFormatException">The file is missing or a line is malformed; the message names the file and line.</exception>
    public static IReadOnlyList<CandidateLine> ReadCandidates(string path) =>
        ReadLines(path, (root, line) => new CandidateLine(Id(root, path, line), RequiredString(root, "caption", path, line), line));

    /// <exception cref="DatasetFormatException">The file is missing or a line is malformed; the message names the file and line.</exception>
    public static IReadOnlyList<ReferenceLine> ReadReferences(string path) =>
        ReadLines(path, (root, line) =>
        {
            if (!root.TryGetProperty("captions", out var captions) || captions.ValueKind != JsonValueKind.Array)
            {
                throw new DatasetFormatException($"{path} line {line}: expected \"captions\": an array of strings.");
            }

            var list = new List<string>();
            foreach (var caption in captions.EnumerateArray())
            {
                if (caption.ValueKind != JsonValueKind.String)
                {
                    throw new DatasetFormatException($"{path} line {line}: every entry of \"captions\" must be a string, found {caption.ValueKind}.");
                }

                list.Add(caption.GetString()!);
            }

            if (list.Count == 0)
            {
                throw new DatasetFormatException($"{path} line {line}: \"captions\" is empty; every item needs at least one reference.");
            }

            return new ReferenceLine(Id(root, path, line), list, line);
        });

    private static List<T> ReadLines<T>(string path, Func<JsonElement, int, T> parse)
        where T : class
    {
        if (!File.Exists(path))
        {
            throw new DatasetFormatException($"{path}: the file does not exist.");
        }

        var items = new List<T>();
        var lineNumber = 0;
        foreach (var text in File.ReadLines(path))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(text);
            }
            catch (JsonException ex)
            {
                throw new DatasetFormatException($"{path} line {lineNumber}: not valid JSON ({ex.Message}).", ex);
            }

            using (document)
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw new DatasetFormatException($"{path} line {lineNumber}: expected a JSON object, found {document.RootElement.ValueKind}.");
                }

                items.Add(parse(document.RootElement, lineNumber));
            }
        }

        return items;
    }

    private static string Id(JsonElement root, string path, int line)
    {
        if (!root.TryGetProperty("id", out var id))
        {
            throw new DatasetFormatException($"{path} line {line}: missing \"id\".");
        }

        return id.ValueKind switch
        {
            JsonValueKind.String => id.GetString()!,
            JsonValueKind.Number => id.GetRawText(),
            _ => throw new DatasetFormatException($"{path} line {line}: \"id\" must be a string or a number, found {id.ValueKind}."),
        };
    }

    private static string RequiredString(JsonElement root, string name, string path, int line)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String)
        {
            throw new DatasetFormatException($"{path} line {line}: expected \"{name}\": a string.");
        }

        return value.GetString()!;
    }
}
