using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CaptionDaemon.Training.Data.Sounds.Labelling;

/// <summary>
/// <c>captiond-train data catalog</c>: the numbers of a fetched sounds folder; <c>data catalog build</c>: label every
/// audio file of the sound packages by the rules and write the catalog.
/// </summary>
internal static class CatalogCommand
{
    public static Command Create()
    {
        var sounds = new Option<string>("--sounds")
        {
            Description = "A sounds folder written by 'data fetch' (index.jsonl).",
            DefaultValueFactory = _ => SoundFetcher.DefaultDirectory,
        };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the summary to this file." };
        var list = new Option<FileInfo?>("--list")
        {
            Description = "Also write the recordings of --split as an 'eval --recordings' list (path<TAB>category), at most --per-category of each category, spread over its packages.",
        };
        var split = new Option<string>("--split") { Description = "The split --list takes (train, val, test).", DefaultValueFactory = _ => "test" };
        var perCategory = new Option<int>("--per-category") { Description = "At most this many recordings per category in --list.", DefaultValueFactory = _ => 20 };
        var command = new Command("catalog", "Summarise a fetched catalog: recordings, speech, speakers, instruments, categories with 10 or more recordings, per category, per package, per split.");
        command.Options.Add(sounds);
        command.Options.Add(json);
        command.Options.Add(list);
        command.Options.Add(split);
        command.Options.Add(perCategory);
        command.SetAction((parse, cancellationToken) =>
        {
            try
            {
                var entries = SoundIndex.Load(parse.GetValue(sounds)!, cancellationToken);
                var summary = CatalogSummary.Of(entries);
                var text = summary.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
                if (parse.GetValue(json) is { } file)
                {
                    File.WriteAllText(file.FullName, text);
                }

                Console.WriteLine(CatalogSummary.Describe(summary));
                if (parse.GetValue(list) is { } listFile)
                {
                    var rows = CatalogSummary.EvaluationList(entries, parse.GetValue(split)!, parse.GetValue(perCategory));
                    CatalogSummary.WriteEvaluationList(listFile.FullName, parse.GetValue(sounds)!, rows);
                    Console.WriteLine($"{rows.Count} recordings of {rows.Select(e => e.Category).Distinct().Count()} categories -> {listFile.FullName}");
                }

                return Task.FromResult(0);
            }
            catch (DatasetFormatException ex)
            {
                Console.Error.WriteLine("data catalog: " + ex.Message);
                return Task.FromResult(2);
            }
        });
        command.Subcommands.Add(CreateBuild());
        return command;
    }

    private static Command CreateBuild()
    {
        var debs = new Option<string>("--debs")
        {
            Description = "Where the packages' .deb files are (downloaded there when missing).",
            DefaultValueFactory = _ => Path.Combine(SoundFetcher.DefaultDirectory, "debs"),
        };
        var rulesDirectory = new Option<string>("--rules")
        {
            Description = $"Folder with {CatalogBuilder.PackagesFileName}, {LabelRules.RulesFileName}, {LabelRules.KeywordsFileName} and {CatalogBuilder.OverridesFileName}.",
            DefaultValueFactory = _ => LabelRules.BundledDirectory,
        };
        var output = new Option<string>("--out")
        {
            Description = "The catalog to write (the project's is training/CaptionDaemon.Training/Data/Sounds/debian-sounds.tsv).",
            Required = true,
        };
        var packages = new Option<string?>("--packages") { Description = "Comma-separated packages (default: all of the package table)." };
        var unlabelled = new Option<FileInfo?>("--unlabelled") { Description = "Write the audio files no rule labelled (package, path), for review." };
        var command = new Command("build", "List every audio file of the sound packages, label it by the overrides and the rules, and write the catalog (one row per labelled file).");
        foreach (var option in new Option[] { debs, rulesDirectory, output, packages, unlabelled })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                var directory = parse.GetValue(rulesDirectory)!;
                var rules = LabelRules.Load(directory);
                var allPackages = CatalogBuilder.LoadPackages(Path.Combine(directory, CatalogBuilder.PackagesFileName));
                var table = allPackages;
                if (parse.GetValue(packages) is { } only)
                {
                    var wanted = only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
                    var unknown = wanted.Except(table.Select(p => p.Name)).ToList();
                    if (unknown.Count > 0)
                    {
                        Console.Error.WriteLine($"data catalog build: {string.Join(", ", unknown)} not in {CatalogBuilder.PackagesFileName}.");
                        return 2;
                    }

                    table = table.Where(p => wanted.Contains(p.Name)).ToList();
                }

                var overrides = SoundCatalog.Load(Path.Combine(directory, CatalogBuilder.OverridesFileName), cancellationToken);
                if (CatalogBuilder.UnlistedPackages(allPackages, rules, overrides) is [_, ..] unlisted)
                {
                    Console.Error.WriteLine(
                        $"data catalog build: {LabelRules.RulesFileName} or {CatalogBuilder.OverridesFileName} in {directory} label files of {string.Join(", ", unlisted)}, "
                        + $"which {CatalogBuilder.PackagesFileName} does not list: add the package(s) to the table (with their split and licence) or remove their rows.");
                    return 2;
                }

                var builder = new CatalogBuilder(rules, table, overrides, parse.GetValue(debs)!, Console.Out);
                var (rows, report) = await builder.BuildAsync(cancellationToken);
                var path = parse.GetValue(output)!;
                if (parse.GetValue(packages) is not null && File.Exists(path))
                {
                    // Relabelling some packages keeps the other packages' rows of the catalog, in table order.
                    var rebuilt = table.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
                    var order = allPackages.Select((p, i) => (p.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
                    rows = File.ReadLines(path).Skip(1).Where(l => l.Length > 0).Select(l => l.Split('\t'))
                        .Where(f => !rebuilt.Contains(f[0]))
                        .Concat(rows)
                        .OrderBy(f => order.GetValueOrDefault(f[0], int.MaxValue))
                        .ToList();
                }

                CatalogBuilder.Write(path, rows);
                SoundCatalog.Load(path, cancellationToken); // the catalog must read back: ids unique, fields filled
                if (parse.GetValue(unlabelled) is { } file)
                {
                    File.WriteAllLines(file.FullName, report.SelectMany(r => r.Unlabelled.Select(u => r.Package + "\t" + u)));
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{report.Sum(r => r.Labelled)} of {report.Sum(r => r.AudioFiles)} audio files labelled; the catalog has {rows.Count} rows, {rows.Select(r => r[2]).Distinct().Count()} categories -> {path}"));
                return 0;
            }
            catch (Exception ex) when (ex is DatasetFormatException or DebianPackageException or IOException or InvalidDataException)
            {
                Console.Error.WriteLine("data catalog build: " + ex.Message);
                return 2;
            }
        });
        return command;
    }
}

/// <summary>The numbers of a fetched catalog.</summary>
internal static class CatalogSummary
{
    public const string SpeechGroup = "SPEECH";
    public const string MusicGroup = "MUS";

    public static JsonObject Of(IReadOnlyList<SoundIndexEntry> entries)
    {
        var speech = entries.Where(e => e.Group == SpeechGroup).ToList();
        var other = entries.Where(e => e.Group != SpeechGroup).ToList();
        var perCategory = other.GroupBy(e => e.Category, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        JsonObject Counts<T>(IEnumerable<IGrouping<string, T>> groups)
        {
            var o = new JsonObject();
            foreach (var g in groups)
            {
                o[g.Key] = g.Count();
            }

            return o;
        }

        return new JsonObject
        {
            ["recordings"] = entries.Count,
            ["non_speech_recordings"] = other.Count,
            ["speech_utterances"] = speech.Count,
            ["speakers"] = speech.Select(e => e.Speaker ?? e.Package).Distinct(StringComparer.Ordinal).Count(),
            ["speech_by_sex"] = Counts(speech.GroupBy(e => e.Sex ?? "unknown", StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)),
            ["speech_languages"] = speech.Select(e => e.Language).OfType<string>().Distinct(StringComparer.Ordinal).Count(),
            ["instruments"] = other.Where(e => e.Group == MusicGroup).Select(e => e.Category).Distinct(StringComparer.Ordinal).Count(),
            ["categories"] = perCategory.Count,
            ["categories_with_10_or_more"] = perCategory.Count(g => g.Count() >= 10),
            ["minutes"] = Math.Round(entries.Sum(e => e.DurationSeconds) / 60, 1),
            ["per_split"] = Counts(entries.GroupBy(e => e.Split ?? "train", StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)),
            ["per_category"] = Counts(perCategory),
            ["per_package"] = Counts(entries.GroupBy(e => e.Package, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal)),
        };
    }

    /// <summary>
    /// Up to <paramref name="perCategory"/> recordings of each category of a split, taken in turn from its packages so
    /// that no one package speaks for a category; recordings under half a second are left out (a click, not a sound a
    /// microphone's window is about). Deterministic: the index's order.
    /// </summary>
    public static List<SoundIndexEntry> EvaluationList(IReadOnlyList<SoundIndexEntry> entries, string split, int perCategory)
    {
        var chosen = new List<SoundIndexEntry>();
        foreach (var category in entries.Where(e => (e.Split ?? "train") == split && e.DurationSeconds >= 0.5).GroupBy(e => e.Category, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var queues = category.GroupBy(e => e.Package, StringComparer.Ordinal).Select(g => new Queue<SoundIndexEntry>(g)).ToList();
            var taken = 0;
            while (taken < perCategory && queues.Any(q => q.Count > 0))
            {
                foreach (var queue in queues.Where(q => q.Count > 0))
                {
                    if (taken++ < perCategory)
                    {
                        chosen.Add(queue.Dequeue());
                    }
                }
            }
        }

        return chosen;
    }

    /// <summary>
    /// Writes <paramref name="rows"/> of the sounds folder <paramref name="soundsDirectory"/> as an <c>eval --recordings</c>
    /// list: a header, then one <c>path&lt;TAB&gt;category</c> line per recording with its absolute path.
    /// </summary>
    public static void WriteEvaluationList(string path, string soundsDirectory, IEnumerable<SoundIndexEntry> rows)
    {
        var directory = Path.GetFullPath(soundsDirectory);
        File.WriteAllLines(path, rows.Select(e => $"{Path.Combine(directory, e.File)}\t{e.Category}").Prepend("path\tcategory"));
    }

    /// <summary>A few lines for a person: the totals, then the categories under 10 recordings.</summary>
    public static string Describe(JsonObject summary)
    {
        var thin = summary["per_category"]!.AsObject().Where(kv => (int)kv.Value! < 10).Select(kv => $"{kv.Key} {(int)kv.Value!}");
        return string.Create(CultureInfo.InvariantCulture, $"""
            recordings {summary["recordings"]}: non-speech {summary["non_speech_recordings"]}, speech {summary["speech_utterances"]} ({summary["speakers"]} speakers, {summary["speech_languages"]} languages), {summary["minutes"]} min
            instruments {summary["instruments"]}; categories {summary["categories"]}, {summary["categories_with_10_or_more"]} with 10 or more recordings
            per split: {summary["per_split"]!.ToJsonString()}
            thin (< 10): {string.Join(", ", thin)}
            """);
    }
}
