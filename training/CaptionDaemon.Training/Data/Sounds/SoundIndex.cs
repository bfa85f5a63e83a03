using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace CaptionDaemon.Training.Data.Sounds;

/// <summary>One converted recording in a sounds folder (a line of index.jsonl).</summary>
internal sealed record SoundIndexEntry
{
    [JsonPropertyName("id")]
    public required string Id { get; init; }

    /// <summary>The 16 kHz mono WAV, relative to the sounds folder, '/'-separated.</summary>
    [JsonPropertyName("file")]
    public required string File { get; init; }

    [JsonPropertyName("package")]
    public required string Package { get; init; }

    [JsonPropertyName("package_version")]
    public string? PackageVersion { get; init; }

    /// <summary>The path in the package as the catalog gives it.</summary>
    [JsonPropertyName("path")]
    public required string SourcePath { get; init; }

    [JsonPropertyName("category")]
    public required string Category { get; init; }

    [JsonPropertyName("caption")]
    public required string Caption { get; init; }

    [JsonPropertyName("group")]
    public required string Group { get; init; }

    [JsonPropertyName("license")]
    public required string License { get; init; }

    /// <summary>The package's Debian copyright file, relative to the sounds folder.</summary>
    [JsonPropertyName("copyright_file")]
    public required string CopyrightFile { get; init; }

    [JsonPropertyName("sample_rate")]
    public int SampleRate { get; init; }

    [JsonPropertyName("duration")]
    public double DurationSeconds { get; init; }

    /// <summary>The split the recording's package belongs to (<c>train</c>, <c>val</c>, <c>test</c>); whole packages are held out.</summary>
    [JsonPropertyName("split")]
    public string? Split { get; init; }

    /// <summary>For speech: who speaks (stable within the package, e.g. <c>hedgewars-data:Pirate</c>); null when not speech or unknown.</summary>
    [JsonPropertyName("speaker")]
    public string? Speaker { get; init; }

    /// <summary>For speech: <c>male</c>, <c>female</c>, or null when unknown.</summary>
    [JsonPropertyName("sex")]
    public string? Sex { get; init; }

    /// <summary>For speech: ISO 639-1 language code where known.</summary>
    [JsonPropertyName("language")]
    public string? Language { get; init; }

    /// <summary>SHA-256 (hex, first 16 bytes) of the converted samples; recordings with equal hashes are one recording.</summary>
    [JsonPropertyName("content_hash")]
    public string? ContentHash { get; init; }
}

/// <summary>The index of a sounds folder written by <c>data fetch</c> and read by <c>data scenes</c>.</summary>
internal static class SoundIndex
{
    public const string FileName = "index.jsonl";

    // Relaxed escaping keeps licences like "GPL-2+" readable in the file; the index is never embedded in HTML.
    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = false,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Reads index.jsonl of a sounds folder.</summary>
    /// <exception cref="DatasetFormatException">The index is missing or a line is not a valid entry; the message names file and line.</exception>
    public static IReadOnlyList<SoundIndexEntry> Load(string soundsDirectory, CancellationToken cancellationToken = default)
    {
        var path = Path.Combine(soundsDirectory, FileName);
        if (!System.IO.File.Exists(path))
        {
            throw new DatasetFormatException(
                $"'{path}' does not exist; run 'captiond-train data fetch --out {soundsDirectory}' first.");
        }

        var entries = new List<SoundIndexEntry>();
        var number = 0;
        foreach (var line in System.IO.File.ReadLines(path, Encoding.UTF8))
        {
            number++;
            cancellationToken.ThrowIfCancellationRequested();
            if (line.Trim().Length == 0)
            {
                continue;
            }

            try
            {
                entries.Add(JsonSerializer.Deserialize<SoundIndexEntry>(line, s_json)
                    ?? throw new DatasetFormatException($"{path} line {number}: null entry."));
            }
            catch (JsonException ex)
            {
                throw new DatasetFormatException($"{path} line {number}: not a sound index entry ({ex.Message}).", ex);
            }
        }

        return entries;
    }

    /// <summary>Writes the index through a temporary file so that readers never see half of it.</summary>
    public static void Write(string soundsDirectory, IEnumerable<SoundIndexEntry> entries, CancellationToken cancellationToken = default)
    {
        var path = Path.Combine(soundsDirectory, FileName);
        var temporary = path + ".partial";
        using (var writer = new StreamWriter(temporary, append: false, new UTF8Encoding(false)))
        {
            writer.NewLine = "\n";
            foreach (var entry in entries)
            {
                cancellationToken.ThrowIfCancellationRequested();
                writer.WriteLine(JsonSerializer.Serialize(entry, s_json));
            }
        }

        System.IO.File.Move(temporary, path, overwrite: true);
    }
}
