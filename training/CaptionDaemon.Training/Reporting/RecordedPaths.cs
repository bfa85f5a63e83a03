using System.Text.Json.Nodes;

namespace CaptionDaemon.Training.Reporting;

/// <summary>
/// How paths are written into what the trainer records for others (bundle manifests, reproduction results): never as
/// this machine's absolute path, but relative to a named root, so a committed manifest reads the same on every
/// checkout and a recorded command can be run again:
/// <list type="bullet">
/// <item>inside the repository: relative to its root (<c>models/default</c>);</item>
/// <item><c>$WORK/...</c>: beside the repository, under the folder that holds the checkout (data and runs next to it);</item>
/// <item><c>~/...</c>: under the home folder (e.g. <c>~/.cache/captiond/reproduce-default/scenes</c>);</item>
/// <item><c>$TMP/...</c>: under the temporary folder;</item>
/// <item><c>&lt;elsewhere&gt;/NAME</c>: anywhere else, only the folder's own name.</item>
/// </list>
/// </summary>
internal sealed class RecordedPaths
{
    public const string WorkRoot = "$WORK";
    public const string TempRoot = "$TMP";
    public const string HomeRoot = "~";
    public const string Elsewhere = "<elsewhere>";

    /// <summary>The file that marks the repository's root.</summary>
    public const string RepositoryMarker = "CaptionDaemon.sln";

    private readonly (string Name, string Directory)[] _roots;

    /// <param name="repository">The repository's root, or null when the trainer runs outside a checkout.</param>
    /// <param name="home">The home folder, or null.</param>
    /// <param name="temp">The temporary folder, or null.</param>
    public RecordedPaths(string? repository, string? home, string? temp)
    {
        Repository = repository is null ? null : Full(repository);
        var roots = new List<(string, string)>();
        if (Repository is not null)
        {
            roots.Add(("", Repository));
            // A checkout right in the home or temporary folder has no "work" folder of its own: those names say more.
            if (Path.GetDirectoryName(Repository) is { Length: > 1 } work && !SameFolder(work, home) && !SameFolder(work, temp))
            {
                roots.Add((WorkRoot, work));
            }
        }

        if (!string.IsNullOrEmpty(home) && Full(home) != "/")
        {
            roots.Add((HomeRoot, Full(home)));
        }

        if (!string.IsNullOrEmpty(temp))
        {
            roots.Add((TempRoot, Full(temp)));
        }

        _roots = [.. roots];
    }

    private static bool SameFolder(string directory, string? other) => !string.IsNullOrEmpty(other) && Full(other) == directory;

    /// <summary>The roots of this process: the checkout found above the working folder or the trainer's binary.</summary>
    public static RecordedPaths Current { get; } = new(
        FindRepository(Environment.CurrentDirectory) ?? FindRepository(AppContext.BaseDirectory),
        Environment.GetFolderPath(Environment.SpecialFolder.UserProfile),
        Path.GetTempPath());

    public string? Repository { get; }

    /// <summary>The recorded form of <paramref name="path"/> (an absolute one, or relative to the working folder).</summary>
    public string Record(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Full(path);
        foreach (var (name, directory) in _roots)
        {
            if (full == directory)
            {
                return name.Length == 0 ? "." : name;
            }

            if (full.StartsWith(directory + "/", StringComparison.Ordinal))
            {
                var relative = full[(directory.Length + 1)..];
                return name.Length == 0 ? relative : $"{name}/{relative}";
            }
        }

        return $"{Elsewhere}/{Path.GetFileName(full)}";
    }

    /// <summary>
    /// <paramref name="path"/> relative to <paramref name="folder"/> when inside it (a results folder that names its own
    /// runs and data), else as <see cref="Record"/> writes it.
    /// </summary>
    public string RecordUnder(string folder, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var (root, full) = (Full(folder), Full(path));
        return full.StartsWith(root + "/", StringComparison.Ordinal) ? full[(root.Length + 1)..] : Record(full);
    }

    /// <summary>A command line with every absolute path among its words recorded (other words as they are).</summary>
    public string RecordCommand(string command)
    {
        ArgumentNullException.ThrowIfNull(command);
        return string.Join(' ', command.Split(' ').Select(word => RecordWord(word)));
    }

    /// <summary>
    /// A copy of <paramref name="node"/> with every string that is an absolute path, or a command holding one, recorded:
    /// for sections copied whole from a checkout's <c>training.json</c> into a manifest.
    /// </summary>
    public JsonNode? RecordAll(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.Select(p => KeyValuePair.Create(p.Key, RecordAll(p.Value)))),
        JsonArray a => new JsonArray([.. a.Select(RecordAll)]),
        JsonValue v when v.TryGetValue<string>(out var s) && s.Contains('/', StringComparison.Ordinal) => JsonValue.Create(RecordCommand(s)),
        _ => node?.DeepClone(),
    };

    /// <summary>
    /// The folder a recorded path names on this machine (an absolute path is taken as it is; a path relative to the
    /// repository needs the checkout), or null when it cannot be known (<c>&lt;elsewhere&gt;</c>, no checkout).
    /// </summary>
    public string? Resolve(string recorded)
    {
        ArgumentException.ThrowIfNullOrEmpty(recorded);
        if (Path.IsPathRooted(recorded))
        {
            return recorded;
        }

        foreach (var (name, directory) in _roots)
        {
            if (name.Length > 0 && (recorded == name || recorded.StartsWith(name + "/", StringComparison.Ordinal)))
            {
                return Path.Combine(directory, recorded[name.Length..].TrimStart('/'));
            }
        }

        if (recorded.StartsWith(Elsewhere, StringComparison.Ordinal) || recorded.StartsWith('$') || recorded.StartsWith('~'))
        {
            return null;
        }

        return Repository is null ? null : Path.GetFullPath(Path.Combine(Repository, recorded));
    }

    /// <summary>The nearest folder at or above <paramref name="start"/> that holds <see cref="RepositoryMarker"/>.</summary>
    public static string? FindRepository(string start)
    {
        for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, RepositoryMarker)))
            {
                return directory.FullName;
            }
        }

        return null;
    }

    private string RecordWord(string word)
    {
        // --option=/path and quoted words keep their prefix and quotes.
        var start = word.IndexOf('/', StringComparison.Ordinal);
        if (start < 0 || (start > 0 && word[start - 1] is not ('=' or '\'' or '"')))
        {
            return word;
        }

        var end = word.Length;
        while (end > start && word[end - 1] is '\'' or '"' or ',' or ')')
        {
            end--;
        }

        return end - start < 2 ? word : word[..start] + Record(word[start..end]) + word[end..];
    }

    private static string Full(string path) => Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
}
