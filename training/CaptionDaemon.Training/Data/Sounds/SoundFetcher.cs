using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text.RegularExpressions;

namespace CaptionDaemon.Training.Data.Sounds;

/// <summary>What <c>data fetch</c> should do.</summary>
internal sealed record SoundFetchOptions
{
    /// <summary>The sounds folder to fill (audio/, copyright/, index.jsonl, debian-sounds.tsv).</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>The catalog to fetch (debian-sounds.tsv).</summary>
    public required string CatalogPath { get; init; }

    /// <summary>Only these packages; null for every package of the catalog.</summary>
    public IReadOnlyCollection<string>? Packages { get; init; }

    /// <summary>Packages whose .deb is larger than this many megabytes (10^6 bytes) are skipped; null for no limit.</summary>
    public double? MaxPackageMegabytes { get; init; }

    /// <summary>Keep the downloaded .deb files in the cache after a successful extraction.</summary>
    public bool KeepDebs { get; init; }

    public int SampleRate { get; init; } = AudioDecoder.DefaultSampleRate;
}

/// <summary>The outcome of a fetch.</summary>
internal sealed record SoundFetchReport(
    int RecordingsInIndex,
    int RecordingsConverted,
    IReadOnlyList<string> PackagesFetched,
    IReadOnlyList<string> PackagesUpToDate,
    IReadOnlyList<string> PackagesSkippedBySize,
    IReadOnlyList<string> Failures);

/// <summary>
/// Fetches the recordings of the sound catalog out of their Debian packages, converts them to 16 kHz mono 16-bit WAV,
/// keeps each package's copyright file and writes index.jsonl. Idempotent: a package whose recordings and copyright
/// file are all present is not downloaded again.
/// </summary>
internal sealed partial class SoundFetcher(SoundFetchOptions options, TextWriter log)
{
    private const string CopyrightKey = "copyright";

    /// <summary>Recordings decoded by one ffmpeg process.</summary>
    private const int DecodeBatch = 32;
    private const string AnyCopyrightKey = "copyright (other doc folder)";

    /// <summary>The default sounds folder: $XDG_CACHE_HOME/captiond/sounds or ~/.cache/captiond/sounds.</summary>
    public static string DefaultDirectory => Path.Combine(CacheRoot(), "sounds");

    /// <summary>$XDG_CACHE_HOME/captiond, or ~/.cache/captiond.</summary>
    public static string CacheRoot()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = string.IsNullOrWhiteSpace(xdg) || !Path.IsPathRooted(xdg)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache")
            : xdg;
        return Path.Combine(root, "captiond");
    }

    /// <summary>The copyright file of a package inside a sounds folder (relative).</summary>
    public static string CopyrightRelativePath(string package) => Path.Combine("copyright", package + ".txt");

    public async Task<SoundFetchReport> FetchAsync(CancellationToken cancellationToken)
    {
        var catalog = SoundCatalog.Load(options.CatalogPath, cancellationToken);
        var packages = SelectPackages(catalog);
        var output = Path.GetFullPath(options.OutputDirectory);
        Directory.CreateDirectory(output);
        File.Copy(catalog.Source, Path.Combine(output, SoundCatalog.FileName), overwrite: true);

        // The index an earlier run wrote is read once: versions, other commands' rows and known hashes come from it.
        var earlier = EarlierIndex.Read(output);
        var versions = earlier.Versions();
        var fetched = new List<string>();
        var upToDate = new List<string>();
        var skipped = new List<string>();
        var failures = new List<string>();
        var converted = 0;
        for (var i = 0; i < packages.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var package = packages[i];
            var recordings = catalog.Recordings.Where(r => r.Package == package).ToList();
            var prefix = $"[{i + 1}/{packages.Count}] {package}:";
            if (IsComplete(output, package, recordings))
            {
                log.WriteLine($"{prefix} up to date ({recordings.Count} recordings)");
                upToDate.Add(package);
                continue;
            }

            try
            {
                var info = await DebianPackages.ShowAsync(package, cancellationToken);
                var megabytes = info.SizeBytes / 1e6;
                if (options.MaxPackageMegabytes is { } limit && megabytes > limit)
                {
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{prefix} skipped, {megabytes:0} MB > --max-package-mb {limit:0.#}"));
                    skipped.Add(package);
                    continue;
                }

                var stopwatch = Stopwatch.StartNew();
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{prefix} downloading {info.Name} {info.Version} ({megabytes:0.0} MB)"));
                var deb = await DebianPackages.DownloadAsync(info, Path.Combine(output, "debs"), cancellationToken);
                var packageFailures = new List<string>();
                var count = await ExtractAndConvertAsync(output, deb, package, recordings, packageFailures, cancellationToken);
                converted += count;
                versions[package] = info.Version;
                failures.AddRange(packageFailures);
                fetched.Add(package);
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{prefix} {count}/{recordings.Count} recordings converted in {stopwatch.Elapsed.TotalSeconds:0.0} s{(packageFailures.Count > 0 ? $", {packageFailures.Count} failed" : string.Empty)}"));
                if (packageFailures.Count == 0 && !options.KeepDebs)
                {
                    File.Delete(deb);
                }
            }
            catch (Exception ex) when (ex is DebianPackageException or InvalidOperationException or IOException or InvalidDataException)
            {
                // One broken or unavailable package must not stop the others; the failure is reported and sets the exit code.
                log.WriteLine($"{prefix} FAILED: {ex.Message}");
                failures.Add($"{package}: {ex.Message}");
            }
        }

        // Rows of packages outside the catalog (data music's soundfonts) belong to another command and stay as they are.
        var entries = earlier.ForeignRows(catalog).Concat(BuildIndex(output, catalog, versions, earlier)).ToList();
        SoundIndex.Write(output, entries, cancellationToken);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"index: {entries.Count} recordings, {entries.Select(e => e.Category).Distinct().Count()} categories, {entries.Sum(e => e.DurationSeconds) / 60:0.0} min -> {Path.Combine(output, SoundIndex.FileName)}"));
        return new SoundFetchReport(entries.Count, converted, fetched, upToDate, skipped, failures);
    }

    [GeneratedRegex("^usr/share/doc/[^/]+/copyright$", RegexOptions.CultureInvariant)]
    private static partial Regex AnyCopyright();

    private static bool IsComplete(string output, string package, IReadOnlyList<SoundRecording> recordings)
        => File.Exists(Path.Combine(output, CopyrightRelativePath(package)))
            && recordings.All(r => File.Exists(Path.Combine(output, r.RelativeWavPath)));

    private async Task<int> ExtractAndConvertAsync(
        string output,
        string deb,
        string package,
        IReadOnlyList<SoundRecording> recordings,
        List<string> failures,
        CancellationToken cancellationToken)
    {
        var staging = Path.Combine(output, ".staging", package);
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }

        try
        {
            var requests = new List<MemberRequest>();
            foreach (var recording in recordings.Where(r => r.ArchiveName is null))
            {
                var path = recording.SourcePath;
                requests.Add(new MemberRequest(recording.Id, name => name == path));
            }

            // The catalog names an archive only by file name ("0snd.pk3:sound/x.ogg"); find it anywhere in the package.
            foreach (var archive in recordings.Select(r => r.ArchiveName).OfType<string>().Distinct(StringComparer.Ordinal))
            {
                requests.Add(new MemberRequest("archive:" + archive, name => name == archive || name.EndsWith("/" + archive, StringComparison.Ordinal)));
            }

            requests.AddRange(CopyrightRequests(package));
            var extracted = await DebianPackages.ExtractAsync(deb, requests, staging, cancellationToken);

            var sources = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var recording in recordings)
            {
                if (recording.ArchiveName is null)
                {
                    if (extracted.TryGetValue(recording.Id, out var file))
                    {
                        sources[recording.Id] = file;
                    }
                    else
                    {
                        failures.Add($"{package}: '{recording.SourcePath}' is not in {Path.GetFileName(deb)}");
                    }
                }
                else if (!extracted.TryGetValue("archive:" + recording.ArchiveName, out var archive))
                {
                    failures.Add($"{package}: archive '{recording.ArchiveName}' is not in {Path.GetFileName(deb)}");
                }
                else if (ExtractFromZip(archive, recording.MemberPath, Path.Combine(staging, "zip", recording.ArchiveName)) is { } member)
                {
                    sources[recording.Id] = member;
                }
                else
                {
                    failures.Add($"{package}: '{recording.MemberPath}' is not in {recording.ArchiveName}");
                }
            }

            // A package of thousands of short files is bound by starting ffmpeg: batches of files share one ffmpeg,
            // and one batch runs per core.
            var count = 0;
            var batches = recordings.Where(r => sources.ContainsKey(r.Id)).Chunk(DecodeBatch).ToList();
            Parallel.ForEach(
                batches,
                new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount },
                batch =>
                {
                    var decoded = AudioDecoder.DecodeMany(batch.Select(r => sources[r.Id]).ToList(), options.SampleRate, staging, cancellationToken);
                    for (var i = 0; i < batch.Length; i++)
                    {
                        if (decoded[i].Samples is { } samples)
                        {
                            WavFile.Write(Path.Combine(output, batch[i].RelativeWavPath), samples, options.SampleRate, cancellationToken);
                            Interlocked.Increment(ref count);
                        }
                        else
                        {
                            lock (failures)
                            {
                                failures.Add($"{package}: {batch[i].SourcePath}: {decoded[i].Error!.Reason}");
                            }
                        }
                    }
                });

            WriteCopyright(output, package, deb, extracted);
            return count;
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    /// <summary>Extracts one member of a zip archive (.pk3); null when it is not there.</summary>
    private static string? ExtractFromZip(string archivePath, string member, string destination)
    {
        using var zip = ZipFile.OpenRead(archivePath);
        var entry = zip.GetEntry(member)
            ?? zip.Entries.FirstOrDefault(e => string.Equals(e.FullName, member, StringComparison.OrdinalIgnoreCase));
        if (entry is null)
        {
            return null;
        }

        var file = Path.Combine(destination, member);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        entry.ExtractToFile(file, overwrite: true);
        return file;
    }

    /// <summary>What to ask <see cref="DebianPackages.ExtractAsync"/> for so that <see cref="WriteCopyright"/> finds the package's copyright file.</summary>
    public static IEnumerable<MemberRequest> CopyrightRequests(string package)
    {
        var ownCopyright = $"usr/share/doc/{package}/copyright";
        yield return new MemberRequest(CopyrightKey, name => name == ownCopyright);
        yield return new MemberRequest(AnyCopyrightKey, name => AnyCopyright().IsMatch(name));
    }

    /// <summary>Keeps the copyright file extracted through <see cref="CopyrightRequests"/> at <see cref="CopyrightRelativePath"/>.</summary>
    public static void WriteCopyright(string output, string package, string deb, IReadOnlyDictionary<string, string> extracted)
    {
        var target = Path.Combine(output, CopyrightRelativePath(package));
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        if (extracted.TryGetValue(CopyrightKey, out var own) || extracted.TryGetValue(AnyCopyrightKey, out own))
        {
            File.Copy(own, target, overwrite: true);
        }
        else
        {
            // Still written so the package counts as fetched; the catalog's licence column then is the only record.
            File.WriteAllText(target, $"{Path.GetFileName(deb)} ships no usr/share/doc/*/copyright file; see the licence column of {SoundCatalog.FileName}.\n");
        }
    }

    private List<string> SelectPackages(SoundCatalog catalog)
    {
        var all = catalog.Packages;
        if (options.Packages is null || options.Packages.Count == 0)
        {
            return all.ToList();
        }

        var unknown = options.Packages.Where(p => !all.Contains(p, StringComparer.Ordinal)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException(
                $"Package(s) {string.Join(", ", unknown)} are not in the catalog '{catalog.Source}'; it lists: {string.Join(", ", all)}.");
        }

        return all.Where(options.Packages.Contains).ToList();
    }

    /// <summary>Below this peak (about -60 dBFS) a recording is taken for silence and left out of the index.</summary>
    internal const float SilencePeak = 0.001f;

    /// <summary>
    /// The index rows of the catalog's converted recordings, in catalog order, deduplicated by content: of recordings
    /// with equal samples the one of a test package is kept, else of a validation package, else the first, so no copy
    /// of a held-out recording reaches training. Silent recordings are left out. Hashes of unchanged files are taken
    /// from the previous index instead of read again.
    /// </summary>
    private List<SoundIndexEntry> BuildIndex(string output, SoundCatalog catalog, Dictionary<string, string> versions, EarlierIndex earlier)
    {
        var previous = earlier.ById();
        var present = catalog.Recordings.Where(r => File.Exists(Path.Combine(output, r.RelativeWavPath))).ToList();
        var infos = new WavInfo[present.Count];
        var hashes = new string?[present.Count];
        Parallel.For(0, present.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            var wav = Path.Combine(output, present[i].RelativeWavPath);
            infos[i] = WavFile.ReadInfo(wav);
            if (previous.TryGetValue(present[i].Id, out var old) && old.ContentHash is { } known
                && Math.Abs(old.DurationSeconds - Math.Round(infos[i].DurationSeconds, 3)) < 1e-9)
            {
                hashes[i] = known;
                return;
            }

            var samples = WavFile.TryReadMono16(wav, infos[i].SampleRate);
            hashes[i] = samples is null || samples.Length == 0 || samples.Max(MathF.Abs) < SilencePeak ? null : WavFile.ContentHash(wav);
        });

        static int Priority(string split) => split switch { "test" => 0, "val" => 1, _ => 2 };
        var keep = new bool[present.Count];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var i in Enumerable.Range(0, present.Count).OrderBy(i => Priority(present[i].Split)))
        {
            keep[i] = hashes[i] is { } hash && seen.Add(hash);
        }

        var silent = hashes.Count(h => h is null);
        var duplicates = present.Count - silent - keep.Count(k => k);
        if (silent + duplicates > 0)
        {
            log.WriteLine($"index: left out {silent} silent recording(s) and {duplicates} duplicate(s) of others by content");
        }

        var entries = new List<SoundIndexEntry>();
        for (var i = 0; i < present.Count; i++)
        {
            if (!keep[i])
            {
                continue;
            }

            var recording = present[i];
            entries.Add(new SoundIndexEntry
            {
                Id = recording.Id,
                File = recording.RelativeWavPath.Replace(Path.DirectorySeparatorChar, '/'),
                Package = recording.Package,
                PackageVersion = versions.GetValueOrDefault(recording.Package),
                SourcePath = recording.SourcePath,
                Category = recording.Category,
                Caption = recording.Caption,
                Group = recording.Group,
                License = recording.License,
                CopyrightFile = CopyrightRelativePath(recording.Package).Replace(Path.DirectorySeparatorChar, '/'),
                SampleRate = infos[i].SampleRate,
                DurationSeconds = Math.Round(infos[i].DurationSeconds, 3),
                Split = recording.Split,
                Speaker = recording.Speaker,
                Sex = recording.Sex,
                Language = recording.Language,
                ContentHash = hashes[i],
            });
        }

        return entries;
    }

    /// <summary>The index an earlier run wrote: its rows, or why it could not be read.</summary>
    private sealed record EarlierIndex(IReadOnlyList<SoundIndexEntry> Entries, DatasetFormatException? Damage)
    {
        public static EarlierIndex Read(string output)
        {
            if (!File.Exists(Path.Combine(output, SoundIndex.FileName)))
            {
                return new([], null);
            }

            try
            {
                return new(SoundIndex.Load(output), null);
            }
            catch (DatasetFormatException ex)
            {
                // A damaged index is rebuilt from the files; only the versions and hashes of old rows are lost.
                return new([], ex);
            }
        }

        /// <summary>Versions recorded by earlier runs, so entries of packages not fetched this time keep theirs.</summary>
        public Dictionary<string, string> Versions()
        {
            var versions = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in Entries.Where(e => e.PackageVersion is not null))
            {
                versions[entry.Package] = entry.PackageVersion!;
            }

            return versions;
        }

        /// <summary>Rows by id, for the hashes of files that did not change.</summary>
        public Dictionary<string, SoundIndexEntry> ById()
            => Entries.GroupBy(e => e.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);

        /// <summary>Rows of packages outside the catalog (data music's); a damaged index cannot give them and fails the fetch, as before.</summary>
        public IEnumerable<SoundIndexEntry> ForeignRows(SoundCatalog catalog)
        {
            if (Damage is not null)
            {
                throw Damage;
            }

            var own = catalog.Packages.ToHashSet(StringComparer.Ordinal);
            return Entries.Where(e => !own.Contains(e.Package)).ToList();
        }
    }
}
