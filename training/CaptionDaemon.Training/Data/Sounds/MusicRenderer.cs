using System.Diagnostics;
using System.Globalization;

namespace CaptionDaemon.Training.Data.Sounds;

/// <summary>What <c>data music</c> should do.</summary>
internal sealed record MusicRenderOptions
{
    /// <summary>
    /// The default soundfont packages: FluidR3_GM (148 MB of samples), A320U (denemo-data) and sf_GMbank (csound-soundfont)
    /// for training, so that a model hears an instrument rather than one soundfont's recording of it; GeneralUser 1.47
    /// (minuet-data) held out for validation, TimGM6mb held out for testing.
    /// </summary>
    public static readonly IReadOnlyList<string> DefaultSoundfonts =
        ["fluid-soundfont-gm", "denemo-data", "csound-soundfont", "minuet-data", "timgm6mb-soundfont"];

    /// <summary>The sounds folder to fill (audio/&lt;package&gt;/, copyright/, index.jsonl), shared with <c>data fetch</c>.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Debian packages that ship a General MIDI .sf2.</summary>
    public IReadOnlyList<string> Soundfonts { get; init; } = DefaultSoundfonts;

    /// <summary>Packages whose recordings form the test split (a whole soundfont held out); the others are <c>train</c>.</summary>
    public IReadOnlyCollection<string> TestSoundfonts { get; init; } = ["timgm6mb-soundfont"];

    /// <summary>
    /// Packages whose recordings form the validation split, so calibration and model selection see instruments (the
    /// validation packages of sound-packages.tsv are everyday sounds and speech only); the others are <c>train</c>.
    /// </summary>
    public IReadOnlyCollection<string> ValidationSoundfonts { get; init; } = ["minuet-data"];

    /// <summary>The split of <paramref name="package"/>'s renders: test, val or train.</summary>
    public string SplitOf(string package) =>
        TestSoundfonts.Contains(package) ? "test" : ValidationSoundfonts.Contains(package) ? "val" : "train";

    /// <summary>The instrument table (instruments.tsv).</summary>
    public string InstrumentsPath { get; init; } = InstrumentTable.BundledPath;

    /// <summary>Only these categories of the table; null for all.</summary>
    public IReadOnlyCollection<string>? Categories { get; init; }

    public int PhrasesPerInstrument { get; init; } = 40;

    public int Seed { get; init; } = 1;

    public int SampleRate { get; init; } = AudioDecoder.DefaultSampleRate;

    /// <summary>Keep the downloaded .deb files in &lt;out&gt;/debs after rendering.</summary>
    public bool KeepDebs { get; init; }
}

/// <summary>The outcome of <see cref="MusicRenderer.RenderAsync"/>.</summary>
internal sealed record MusicRenderReport(
    int RecordingsInIndex,
    int MusicRecordingsInIndex,
    int PhrasesRendered,
    IReadOnlyList<string> PackagesRendered,
    IReadOnlyList<string> PackagesUpToDate,
    IReadOnlyList<string> Failures);

/// <summary>
/// Renders short instrument phrases from real-sample General MIDI soundfonts in Debian packages: gets the package with
/// apt-get download, extracts the .sf2 and the copyright file, writes each instrument's phrases into one MIDI file, renders
/// it with fluidsynth, cuts the phrases apart, trims and normalises them, and writes them as 16 kHz mono WAV with their
/// rows in the shared index.jsonl. Idempotent: an instrument whose WAVs exist and whose stamp matches the parameters is
/// not rendered again; a package whose instruments are all done is not downloaded.
/// </summary>
internal sealed class MusicRenderer(MusicRenderOptions options, TextWriter log)
{
    public const string Group = "MUS";

    // Each phrase gets a slot this long; after its at most 4.6 s of notes the rest lets reverb and releases die out
    // before the next phrase starts, so a phrase's samples do not depend on its neighbours.
    private const double SlotSeconds = 10;
    private const double MaxClipSeconds = 6;
    private const double TailSeconds = 1.4;
    private const double PeakLevel = 0.7079; // -3 dBFS
    private const double SilenceBelowPeakDb = -50;
    private const double FluidsynthGain = 0.3;

    /// <summary>The MIDI bank fluidsynth takes drum kits from (channel 10).</summary>
    private const int DrumBank = 128;

    // Raised when the phrase writer or the processing changes, so that old renders are redone.
    private const int RenderVersion = 2;

    /// <summary>The WAV of phrase <paramref name="index"/> of an instrument, relative to the sounds folder.</summary>
    public static string RelativeWavPath(string package, string category, int index)
        => Path.Combine("audio", package, string.Create(CultureInfo.InvariantCulture, $"{category}_{index:000}.wav"));

    public async Task<MusicRenderReport> RenderAsync(CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.PhrasesPerInstrument, 1);
        var instruments = SelectInstruments(InstrumentTable.Load(options.InstrumentsPath));
        var output = Path.GetFullPath(options.OutputDirectory);
        Directory.CreateDirectory(output);
        File.Copy(options.InstrumentsPath, Path.Combine(output, InstrumentTable.FileName), overwrite: true);

        // Read before any work, so that a damaged index stops the run instead of losing data fetch's rows at the end.
        var existing = File.Exists(Path.Combine(output, SoundIndex.FileName)) ? SoundIndex.Load(output, cancellationToken) : [];

        var rendered = new List<string>();
        var upToDate = new List<string>();
        var failures = new List<string>();
        var phrases = 0;
        var packages = new List<(string Package, string Version, string Sf2Name)>();
        for (var i = 0; i < options.Soundfonts.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var package = options.Soundfonts[i];
            var prefix = $"[{i + 1}/{options.Soundfonts.Count}] {package}:";
            try
            {
                var info = await DebianPackages.ShowAsync(package, cancellationToken);
                var todo = instruments.Where(x => !IsComplete(output, package, info.Version, x)).ToList();
                var stampedSf2 = ReadStampedSf2(output, package);
                if (todo.Count == 0 && stampedSf2 is not null && File.Exists(Path.Combine(output, SoundFetcher.CopyrightRelativePath(package))))
                {
                    log.WriteLine($"{prefix} up to date ({instruments.Count} instruments)");
                    upToDate.Add(package);
                    packages.Add((package, info.Version, stampedSf2));
                    continue;
                }

                var stopwatch = Stopwatch.StartNew();
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{prefix} downloading {info.Name} {info.Version} ({info.SizeBytes / 1e6:0.0} MB)"));
                var deb = await DebianPackages.DownloadAsync(info, Path.Combine(output, "debs"), cancellationToken);
                var packageFailures = new List<string>();
                var (count, sf2Name) = await ExtractAndRenderAsync(output, deb, info, instruments, todo, packageFailures, prefix, cancellationToken);
                phrases += count;
                failures.AddRange(packageFailures);
                rendered.Add(package);
                packages.Add((package, info.Version, sf2Name));
                log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{prefix} {count} phrases of {todo.Count} instruments rendered in {stopwatch.Elapsed.TotalSeconds:0.0} s{(packageFailures.Count > 0 ? $", {packageFailures.Count} failed" : string.Empty)}"));
                if (packageFailures.Count == 0 && !options.KeepDebs)
                {
                    File.Delete(deb);
                }
            }
            catch (Exception ex) when (ex is DebianPackageException or InvalidOperationException or IOException or InvalidDataException or AudioDecodeException)
            {
                // One soundfont that cannot be had or rendered must not stop the others; the failure is reported and sets the exit code.
                log.WriteLine($"{prefix} FAILED: {ex.Message}");
                failures.Add($"{package}: {ex.Message}");
            }
        }

        var table = InstrumentTable.Load(options.InstrumentsPath);
        var music = packages.SelectMany(p => IndexRows(output, p.Package, p.Version, p.Sf2Name, table, cancellationToken)).ToList();
        var owned = options.Soundfonts.ToHashSet(StringComparer.Ordinal);
        var entries = MergeIndex(existing, owned, music);
        SoundIndex.Write(output, entries, cancellationToken);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"index: {music.Count} music recordings of {music.Select(e => e.Category).Distinct().Count()} instruments, {music.Sum(e => e.DurationSeconds) / 60:0.0} min; {entries.Count} recordings in all -> {Path.Combine(output, SoundIndex.FileName)}"));
        return new MusicRenderReport(entries.Count, music.Count, phrases, rendered, upToDate, failures);
    }

    /// <summary>
    /// The index with the rows of <paramref name="owned"/> packages replaced by <paramref name="music"/>: every other
    /// row (those of data fetch) stays as it was and where it was; the new rows follow them.
    /// </summary>
    public static List<SoundIndexEntry> MergeIndex(
        IEnumerable<SoundIndexEntry> existing, IReadOnlySet<string> owned, IEnumerable<SoundIndexEntry> music)
        => existing.Where(e => !owned.Contains(e.Package)).Concat(music).ToList();

    private List<Instrument> SelectInstruments(IReadOnlyList<Instrument> table)
    {
        if (options.Categories is null || options.Categories.Count == 0)
        {
            return table.ToList();
        }

        var unknown = options.Categories.Where(c => !table.Any(x => x.Category == c)).ToList();
        return unknown.Count > 0
            ? throw new ArgumentException(
                $"Instrument(s) {string.Join(", ", unknown)} are not in '{options.InstrumentsPath}'; it lists: {string.Join(", ", table.Select(x => x.Category))}.")
            : table.Where(x => options.Categories.Contains(x.Category)).ToList();
    }

    private async Task<(int Count, string Sf2Name)> ExtractAndRenderAsync(
        string output,
        string deb,
        DebianPackageInfo info,
        IReadOnlyList<Instrument> instruments,
        IReadOnlyList<Instrument> todo,
        List<string> failures,
        string prefix,
        CancellationToken cancellationToken)
    {
        var package = info.Name;
        var staging = Path.Combine(output, ".staging", package);
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }

        try
        {
            const string soundfontKey = "soundfont";
            var requests = new List<MemberRequest>
            {
                new(soundfontKey, name => name.EndsWith(".sf2", StringComparison.OrdinalIgnoreCase)),
            };
            requests.AddRange(SoundFetcher.CopyrightRequests(package));
            var extracted = await DebianPackages.ExtractAsync(deb, requests, staging, cancellationToken);
            SoundFetcher.WriteCopyright(output, package, deb, extracted);
            if (!extracted.TryGetValue(soundfontKey, out var sf2))
            {
                throw new InvalidDataException($"{Path.GetFileName(deb)} holds no .sf2 soundfont.");
            }

            var sf2Name = Path.GetFileName(sf2);
            File.WriteAllText(Sf2StampPath(output, package), sf2Name + "\n");
            var presets = SoundFontPresets.Read(sf2);
            var count = 0;
            for (var i = 0; i < todo.Count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var instrument = todo[i];
                if (MissingPreset(presets, instrument, sf2Name) is { } missing)
                {
                    log.WriteLine($"{prefix} {instrument.Category} FAILED: {missing}");
                    failures.Add($"{package}: {instrument.Category}: {missing}");
                    continue;
                }

                var stopwatch = Stopwatch.StartNew();
                try
                {
                    count += await RenderInstrumentAsync(output, staging, sf2, info, instrument, cancellationToken);
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{prefix} {instrument.Category} ({instrument.PresetName}, {instrument.Style}) {options.PhrasesPerInstrument} phrases in {stopwatch.Elapsed.TotalSeconds:0.0} s [{i + 1}/{todo.Count}]"));
                }
                catch (Exception ex) when (ex is InvalidOperationException or InvalidDataException or AudioDecodeException)
                {
                    // One instrument that the soundfont lacks or renders silent must not stop the others.
                    log.WriteLine($"{prefix} {instrument.Category} FAILED: {ex.Message}");
                    failures.Add($"{package}: {instrument.Category}: {ex.Message}");
                }
            }

            return (count, sf2Name);
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }

    /// <summary>
    /// Why <paramref name="instrument"/> cannot be rendered from a soundfont with <paramref name="presets"/>, or null when
    /// it can: fluidsynth plays a melodic part with bank 0's program and a drum part with bank 128's kit, and in place of
    /// a missing one it plays another preset, which would put mislabelled audio in the index.
    /// </summary>
    public static string? MissingPreset(IReadOnlyList<SoundFontPreset> presets, Instrument instrument, string soundfont)
    {
        var bank = instrument.IsDrumKit ? DrumBank : 0;
        return SoundFontPresets.Has(presets, bank, instrument.Program)
            ? null
            : string.Create(CultureInfo.InvariantCulture,
                $"{soundfont} has no preset for bank {bank} {instrument.PresetName} (it has {presets.Count} presets); fluidsynth would play another in its place.");
    }

    private async Task<int> RenderInstrumentAsync(
        string output, string staging, string sf2, DebianPackageInfo info, Instrument instrument, CancellationToken cancellationToken)
    {
        var phrases = Enumerable.Range(0, options.PhrasesPerInstrument)
            .Select(k => PhraseComposer.Compose(instrument, PhraseComposer.PhraseSeed(options.Seed, info.Name, instrument.Category, k)))
            .ToList();
        var midi = Path.Combine(staging, instrument.Category + ".mid");
        var rendering = Path.Combine(staging, instrument.Category + ".wav");
        PhraseMidiFile.Write(midi, instrument, phrases, SlotSeconds);

        string[] arguments =
        [
            "-n", "-i", "-q",
            "-F", rendering, "-T", "wav", "-O", "float",
            "-r", options.SampleRate.ToString(CultureInfo.InvariantCulture),
            "-g", FluidsynthGain.ToString(CultureInfo.InvariantCulture),
            // A room's reverb as fluidsynth sets it by default; no chorus, which smears the samples' own character.
            "-R", "1", "-C", "0",
            sf2, midi,
        ];
        var result = await ExternalTool.RunAsync("fluidsynth", arguments, staging, cancellationToken);
        if (result.ExitCode != 0 || !File.Exists(rendering))
        {
            throw new InvalidOperationException(
                $"fluidsynth failed on {instrument.Category} (exit code {result.ExitCode}): {ExternalTool.Tail(result.StandardError + result.StandardOutput)}");
        }

        // fluidsynth writes stereo float; the decoder averages the channels (and would resample, were the rate not honoured).
        var samples = AudioDecoder.Decode(rendering, options.SampleRate, cancellationToken);
        var clips = new List<float[]>();
        for (var k = 0; k < phrases.Count; k++)
        {
            var clip = CutPhrase(samples, k, phrases[k].Length, options.SampleRate)
                ?? throw new InvalidDataException(
                    $"phrase {k} ({phrases[k].Pattern}) of {instrument.PresetName} is silent in {Path.GetFileName(sf2)}; the soundfont may lack the preset.");
            clips.Add(clip);
        }

        for (var k = 0; k < clips.Count; k++)
        {
            WavFile.Write(Path.Combine(output, RelativeWavPath(info.Name, instrument.Category, k)), clips[k], options.SampleRate, cancellationToken);
        }

        File.WriteAllText(StampPath(output, info.Name, instrument), Stamp(info.Version, instrument));
        File.Delete(rendering);
        File.Delete(midi);
        return clips.Count;
    }

    /// <summary>
    /// Phrase <paramref name="index"/> of a rendering: its notes and up to 1.4 s of tail (6 s at most), trailing silence
    /// (50 dB under the peak) trimmed but never below 2 s, a 20 ms fade at the cut, the peak at -3 dBFS. Null when silent.
    /// </summary>
    public static float[]? CutPhrase(ReadOnlySpan<float> rendering, int index, double notesSeconds, int sampleRate)
    {
        var start = (int)Math.Round(index * SlotSeconds * sampleRate);
        var length = (int)Math.Round(Math.Min(notesSeconds + TailSeconds, MaxClipSeconds) * sampleRate);
        if (start >= rendering.Length)
        {
            return null;
        }

        var clip = rendering.Slice(start, Math.Min(length, rendering.Length - start)).ToArray();
        var peak = 0f;
        foreach (var sample in clip)
        {
            peak = Math.Max(peak, Math.Abs(sample));
        }

        if (peak < 1e-4f)
        {
            return null;
        }

        var threshold = peak * (float)Math.Pow(10, SilenceBelowPeakDb / 20);
        var last = clip.Length - 1;
        while (last > 0 && Math.Abs(clip[last]) < threshold)
        {
            last--;
        }

        var keep = Math.Min(clip.Length, Math.Max(last + 1 + sampleRate / 20, 2 * sampleRate));
        Array.Resize(ref clip, keep);
        var fade = Math.Min(keep, sampleRate / 50);
        var gain = (float)(PeakLevel / peak);
        for (var i = 0; i < clip.Length; i++)
        {
            var fromEnd = clip.Length - 1 - i;
            clip[i] *= fromEnd < fade ? gain * fromEnd / fade : gain;
        }

        return clip;
    }

    private IEnumerable<SoundIndexEntry> IndexRows(
        string output, string package, string version, string sf2Name, IReadOnlyList<Instrument> table, CancellationToken cancellationToken)
    {
        var copyright = Path.Combine(output, SoundFetcher.CopyrightRelativePath(package));
        var license = (File.Exists(copyright) ? DebianCopyright.License(File.ReadAllText(copyright), sf2Name) : null)
            ?? "see " + SoundFetcher.CopyrightRelativePath(package);
        var split = options.SplitOf(package);
        // Every instrument rendered with today's parameters, also those a --instruments run left out this time.
        foreach (var instrument in table.Where(x => IsComplete(output, package, version, x)))
        {
            for (var k = 0; k < options.PhrasesPerInstrument; k++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var relative = RelativeWavPath(package, instrument.Category, k);
                var wav = Path.Combine(output, relative);
                var info = WavFile.ReadInfo(wav, cancellationToken);
                yield return new SoundIndexEntry
                {
                    Id = string.Create(CultureInfo.InvariantCulture, $"{package}/{instrument.Category}_{k:000}"),
                    File = relative.Replace(Path.DirectorySeparatorChar, '/'),
                    Package = package,
                    PackageVersion = version,
                    SourcePath = string.Create(CultureInfo.InvariantCulture, $"{sf2Name}#{instrument.PresetName} phrase {k}"),
                    Category = instrument.Category,
                    Caption = instrument.Caption,
                    Group = Group,
                    License = license,
                    CopyrightFile = SoundFetcher.CopyrightRelativePath(package).Replace(Path.DirectorySeparatorChar, '/'),
                    SampleRate = info.SampleRate,
                    DurationSeconds = Math.Round(info.DurationSeconds, 3),
                    Split = split,
                    ContentHash = WavFile.ContentHash(wav, cancellationToken),
                };
            }
        }
    }

    private bool IsComplete(string output, string package, string version, Instrument instrument)
    {
        var stamp = StampPath(output, package, instrument);
        return File.Exists(stamp)
            && File.ReadAllText(stamp) == Stamp(version, instrument)
            && Enumerable.Range(0, options.PhrasesPerInstrument).All(k => File.Exists(Path.Combine(output, RelativeWavPath(package, instrument.Category, k))));
    }

    /// <summary>Everything an instrument's WAVs depend on; a difference re-renders the instrument.</summary>
    private string Stamp(string version, Instrument instrument) => string.Create(CultureInfo.InvariantCulture,
        $"render {RenderVersion}; package version {version}; seed {options.Seed}; phrases {options.PhrasesPerInstrument}; rate {options.SampleRate}; {instrument.Describe()}\n");

    private static string StampPath(string output, string package, Instrument instrument)
        => Path.Combine(output, "audio", package, "." + instrument.Category + ".stamp");

    /// <summary>The soundfont's file name, kept so that an up-to-date run can fill the index without the package.</summary>
    private static string Sf2StampPath(string output, string package)
    {
        var directory = Path.Combine(output, "audio", package);
        Directory.CreateDirectory(directory);
        return Path.Combine(directory, ".soundfont");
    }

    private static string? ReadStampedSf2(string output, string package)
    {
        var path = Path.Combine(output, "audio", package, ".soundfont");
        return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
    }
}
