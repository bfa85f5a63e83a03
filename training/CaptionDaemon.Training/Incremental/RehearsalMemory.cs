using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Distillation;

namespace CaptionDaemon.Training.Incremental;

/// <summary>A clip of the rehearsal memory: its audio, reference captions, events, category (for the per-category budget) and the task it came from.</summary>
internal sealed record MemoryClip(string Id, string AudioPath, IReadOnlyList<string> Captions, string Category, IReadOnlyList<ClipEvent> Events, string Task)
{
    public CaptionedClip ToCaptionedClip() => new(Id, AudioPath, Captions);
}

/// <summary>
/// The rehearsal memory kept with a model (<c>memory/</c> in its checkpoint folder and in its bundle), so the next
/// update can rehearse it: <c>memory.json</c> (clips, captions, categories, how it was chosen, how many clips were seen),
/// copies of the clips' audio under <c>audio/</c>, and <c>targets.bin</c>, the model's own beam captions, pooled
/// embeddings and top-k token distributions for those clips, computed once at the end of the task that made the model
/// (the sequence-level, audio and token KD targets of the next update). The targets are keyed by the model's
/// <see cref="ModelFingerprint"/>, the clip ids and the settings, so targets of another model are never used.
/// </summary>
internal sealed class RehearsalMemory
{
    public const string DirectoryName = "memory";
    public const string FileName = "memory.json";
    public const string TargetsFileName = "targets.bin";
    public const string FormatId = "captiond-rehearsal-memory";
    public const int FormatVersion = 1;

    private static readonly JsonSerializerOptions _json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public RehearsalMemory(IReadOnlyList<MemoryClip> clips, string selection, MemoryBudget budget, int seenClips, IReadOnlyList<string> tasks)
    {
        ArgumentNullException.ThrowIfNull(clips);
        ArgumentNullException.ThrowIfNull(tasks);
        Clips = clips;
        Selection = selection;
        Budget = budget;
        SeenClips = seenClips;
        Tasks = tasks;
    }

    public IReadOnlyList<MemoryClip> Clips { get; }

    /// <summary><see cref="MemorySelection.Random"/> or <see cref="MemorySelection.Herding"/>.</summary>
    public string Selection { get; }

    public MemoryBudget Budget { get; }

    /// <summary>Training clips of all tasks so far (what a percentage budget is a percentage of).</summary>
    public int SeenClips { get; }

    /// <summary>The tasks the model has learnt, oldest first.</summary>
    public IReadOnlyList<string> Tasks { get; }

    /// <summary>The folder of the memory kept with a model folder (a checkpoint or a bundle).</summary>
    public static string PathIn(string modelDirectory) => Path.Combine(modelDirectory, DirectoryName);

    /// <summary>The key of targets computed by the model <paramref name="modelFingerprint"/> for <paramref name="clipIds"/>.</summary>
    public static string TargetsKey(string modelFingerprint, IEnumerable<string> clipIds, TeacherTargetSettings settings)
    {
        ArgumentNullException.ThrowIfNull(clipIds);
        ArgumentNullException.ThrowIfNull(settings);
        var text = new StringBuilder(modelFingerprint).Append('\n')
            .Append(settings.Describe()).Append('\n');
        foreach (var id in clipIds)
        {
            text.Append(id).Append('\n');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..32];
    }

    /// <summary>Reads the memory kept with <paramref name="modelDirectory"/>; null when it has none.</summary>
    /// <exception cref="InvalidDataException">The memory file is malformed or an audio file is missing.</exception>
    public static RehearsalMemory? TryLoad(string modelDirectory)
    {
        ArgumentNullException.ThrowIfNull(modelDirectory);
        var directory = PathIn(modelDirectory);
        var path = Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        MemoryFile file;
        try
        {
            file = JsonSerializer.Deserialize<MemoryFile>(File.ReadAllText(path), _json) ?? throw new InvalidDataException($"{path} is empty.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: not a rehearsal memory ({ex.Message}).", ex);
        }

        if (file.Format != FormatId || file.FormatVersion != FormatVersion)
        {
            throw new InvalidDataException($"{path}: format '{file.Format}' version {file.FormatVersion}; expected {FormatId} version {FormatVersion}.");
        }

        var clips = file.Clips.Select(c =>
        {
            var audio = Path.Combine(directory, c.File);
            if (!File.Exists(audio))
            {
                throw new InvalidDataException($"{path}: the audio of memory clip {c.Id} ({audio}) is missing.");
            }

            return new MemoryClip(c.Id, audio, c.Captions, c.Category, c.Events, c.Task);
        }).ToArray();
        return new RehearsalMemory(clips, file.Selection, MemoryBudget.Parse(file.Budget), file.SeenClips, file.Tasks);
    }

    /// <summary>The targets stored with the memory in <paramref name="modelDirectory"/> if they were computed under <paramref name="expectedKey"/>; otherwise null.</summary>
    public static TeacherTargets? TryLoadTargets(string modelDirectory, string expectedKey) =>
        TeacherTargets.TryLoad(Path.Combine(PathIn(modelDirectory), TargetsFileName), expectedKey);

    /// <summary>
    /// Writes the memory into <paramref name="modelDirectory"/>/memory: the audio copied under <c>audio/</c>,
    /// <c>memory.json</c>, and <paramref name="targets"/> (computed by the model of that folder) as <c>targets.bin</c>.
    /// </summary>
    public void Save(string modelDirectory, TeacherTargets? targets, TeacherTargetSettings? targetSettings)
    {
        ArgumentNullException.ThrowIfNull(modelDirectory);
        var directory = PathIn(modelDirectory);
        var audioDirectory = Path.Combine(directory, "audio");
        Directory.CreateDirectory(audioDirectory);
        var entries = new List<MemoryFileClip>(Clips.Count);
        for (var i = 0; i < Clips.Count; i++)
        {
            var clip = Clips[i];
            var name = string.Create(CultureInfo.InvariantCulture, $"{i + 1:D5}-{Safe(clip.Id)}");
            if (!Path.HasExtension(name))
            {
                name += Path.GetExtension(clip.AudioPath);
            }

            File.Copy(clip.AudioPath, Path.Combine(audioDirectory, name), overwrite: true);
            entries.Add(new MemoryFileClip(clip.Id, "audio/" + name, clip.Captions, clip.Category, clip.Events, clip.Task));
        }

        if (targets is not null)
        {
            targets.Save(Path.Combine(directory, TargetsFileName));
        }

        var file = new MemoryFile(
            FormatId,
            FormatVersion,
            Selection,
            Budget.ToString(),
            SeenClips,
            Tasks,
            targets is null ? null : new MemoryFileTargets(TargetsFileName, targets.Key, targetSettings?.Beam ?? 0, targets.TopK),
            entries);
        File.WriteAllText(Path.Combine(directory, FileName), JsonSerializer.Serialize(file, _json));
    }

    private static string Safe(string id)
    {
        var builder = new StringBuilder(id.Length);
        foreach (var ch in id)
        {
            builder.Append(char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.' ? ch : '_');
        }

        return builder.ToString();
    }

    private sealed record MemoryFile(
        string Format,
        int FormatVersion,
        string Selection,
        string Budget,
        int SeenClips,
        IReadOnlyList<string> Tasks,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] MemoryFileTargets? Targets,
        IReadOnlyList<MemoryFileClip> Clips);

    private sealed record MemoryFileTargets(string File, string Key, int Beam, int TopK);

    private sealed record MemoryFileClip(string Id, string File, IReadOnlyList<string> Captions, string Category, IReadOnlyList<ClipEvent> Events, string Task);
}
