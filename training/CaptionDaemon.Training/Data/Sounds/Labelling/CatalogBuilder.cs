using System.Globalization;
using System.IO.Compression;
using System.Text;

namespace CaptionDaemon.Training.Data.Sounds.Labelling;

/// <summary>One package of sound-packages.tsv.</summary>
internal sealed record SoundPackage(string Name, string Split, IReadOnlyList<string> Archives, string License, string Note);

/// <summary>What <see cref="CatalogBuilder"/> found in one package.</summary>
internal sealed record PackageLabelling(string Package, int AudioFiles, int Labelled, IReadOnlyList<string> Unlabelled);

/// <summary>
/// Builds the catalog (debian-sounds.tsv) from the packages themselves: lists every audio file of every package of
/// sound-packages.tsv (members of the archives it names too), labels each by sound-overrides.tsv (per file, reviewed by
/// hand) or else by the rules, and writes one row per labelled file. The catalog is committed, so a change of the
/// rules shows in review as the rows it changes.
/// </summary>
internal sealed class CatalogBuilder(LabelRules rules, IReadOnlyList<SoundPackage> packages, SoundCatalog overrides, string debDirectory, TextWriter log)
{
    public const string PackagesFileName = "sound-packages.tsv";
    public const string OverridesFileName = "sound-overrides.tsv";

    /// <summary>What ffmpeg decodes among the packages' files (.wv: teeworlds, .gsm: Asterisk prompts).</summary>
    internal static readonly IReadOnlySet<string> AudioExtensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".ogg", ".oga", ".wav", ".flac", ".mp3", ".opus", ".wv", ".gsm", ".au", ".aif", ".aiff", ".voc",
    };

    public static readonly string[] CatalogColumns = ["package", "path", "category", "caption", "group", "license", "split", "speaker", "sex", "language"];

    /// <summary>Labels every package; returns the rows (catalog order: table order of packages, then path) and a report per package.</summary>
    public async Task<(List<string[]> Rows, List<PackageLabelling> Report)> BuildAsync(CancellationToken cancellationToken)
    {
        var rows = new List<string[]>();
        var report = new List<PackageLabelling>();
        var overrideByPath = overrides.Recordings.ToDictionary(r => (r.Package, r.SourcePath));
        for (var i = 0; i < packages.Count; i++)
        {
            var package = packages[i];
            var files = await AudioFilesAsync(package, cancellationToken);
            var unlabelled = new List<string>();
            var labelled = 0;
            foreach (var path in PreferOneExtension(files))
            {
                string[]? row = null;
                if (overrideByPath.TryGetValue((package.Name, path), out var fixedLabel))
                {
                    if (fixedLabel.Category != "-")
                    {
                        row = [package.Name, path, fixedLabel.Category, fixedLabel.Caption, fixedLabel.Group, package.License, package.Split, "", "", ""];
                    }
                }
                else if (rules.Apply(package.Name, path) is { } label)
                {
                    row = [package.Name, path, label.Category, label.Caption, label.Group, package.License, package.Split, label.Speaker ?? "", label.Sex ?? "", label.Language ?? ""];
                }

                if (row is null)
                {
                    unlabelled.Add(path);
                }
                else
                {
                    rows.Add(row);
                    labelled++;
                }
            }

            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{i + 1}/{packages.Count}] {package.Name} ({package.Split}): {labelled} of {files.Count} audio files labelled"));
            report.Add(new PackageLabelling(package.Name, files.Count, labelled, unlabelled));
        }

        return (rows, report);
    }

    /// <summary>Writes the catalog, header first, through a temporary file.</summary>
    public static void Write(string path, IEnumerable<string[]> rows)
    {
        var temporary = path + ".partial";
        using (var writer = new StreamWriter(temporary, append: false, new UTF8Encoding(false)))
        {
            writer.NewLine = "\n";
            writer.WriteLine(string.Join('\t', CatalogColumns));
            foreach (var row in rows)
            {
                writer.WriteLine(string.Join('\t', row));
            }
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads sound-packages.tsv ('#' lines are comments).</summary>
    public static List<SoundPackage> LoadPackages(string path)
    {
        var list = new List<SoundPackage>();
        foreach (var (number, f) in LabelRules.ReadTable(path, ["package", "split", "archives", "license", "note"]))
        {
            if (f[3].Length == 0 || f[1] is not ("train" or "val" or "test"))
            {
                throw new DatasetFormatException($"{path} line {number}: expected package, split (train, val or test), archives ('-' for none) and licence.");
            }

            var archives = f[2] is "" or "-" ? [] : f[2].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            list.Add(new SoundPackage(f[0], f[1], archives, f[3], f[4]));
        }

        return list;
    }

    /// <summary>
    /// Packages that the rules or the reviewed files name but the package table does not list: the builder never lists
    /// such a package's files, so its rows would go unused without a word (sorted, distinct).
    /// </summary>
    public static List<string> UnlistedPackages(IReadOnlyList<SoundPackage> packages, LabelRules rules, SoundCatalog overrides)
    {
        var listed = packages.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        return rules.Packages.Concat(overrides.Recordings.Select(r => r.Package))
            .Where(p => !listed.Contains(p)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Where two files differ only in extension (a.ogg and a.wav), the catalog keeps one: ids leave out the extension.</summary>
    private static IEnumerable<string> PreferOneExtension(IReadOnlyList<string> files)
        => files
            .GroupBy(f => f[..^Path.GetExtension(f).Length], StringComparer.OrdinalIgnoreCase)
            .Select(g => g.OrderBy(f => Path.GetExtension(f).ToLowerInvariant() switch { ".ogg" => 0, ".flac" => 1, ".wav" => 2, _ => 3 }).ThenBy(f => f, StringComparer.Ordinal).First())
            .Order(StringComparer.Ordinal);

    private async Task<IReadOnlyList<string>> AudioFilesAsync(SoundPackage package, CancellationToken cancellationToken)
    {
        var deb = await LocalDebAsync(package.Name, cancellationToken);
        var names = await DebianPackages.ListAsync(deb, cancellationToken);
        var files = names.Where(n => AudioExtensions.Contains(Path.GetExtension(n)) && !n.StartsWith("usr/share/doc/", StringComparison.Ordinal)).ToList();
        if (package.Archives.Count == 0)
        {
            return files;
        }

        var staging = Path.Combine(debDirectory, ".catalog-staging", package.Name);
        try
        {
            var requests = package.Archives
                .Select(a => new MemberRequest(a, n => n == a || n.EndsWith("/" + a, StringComparison.Ordinal)))
                .ToList();
            var extracted = await DebianPackages.ExtractAsync(deb, requests, staging, cancellationToken);
            foreach (var archive in package.Archives)
            {
                if (!extracted.TryGetValue(archive, out var file))
                {
                    throw new DebianPackageException($"{PackagesFileName} names archive '{archive}' for {package.Name}, but {Path.GetFileName(deb)} has no such file.");
                }

                using var zip = ZipFile.OpenRead(file);
                files.AddRange(zip.Entries
                    .Where(e => e.Length > 0 && AudioExtensions.Contains(Path.GetExtension(e.FullName)))
                    .Select(e => archive + ":" + e.FullName));
            }
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }

        return files;
    }

    private async Task<string> LocalDebAsync(string package, CancellationToken cancellationToken)
    {
        var info = await DebianPackages.ShowAsync(package, cancellationToken);
        return await DebianPackages.DownloadAsync(info, debDirectory, cancellationToken);
    }
}
