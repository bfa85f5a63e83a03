using System.CommandLine;
using System.Diagnostics;
using System.Globalization;

namespace CaptionDaemon.Training.Data.Sounds;

/// <summary><c>captiond-train data fetch</c>.</summary>
internal static class SoundFetchCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out")
        {
            Description = "Sounds folder to fill (audio/, copyright/, index.jsonl). Default: $XDG_CACHE_HOME/captiond/sounds or ~/.cache/captiond/sounds.",
            DefaultValueFactory = _ => SoundFetcher.DefaultDirectory,
        };
        var packages = new Option<string?>("--packages")
        {
            Description = "Comma-separated packages to fetch (default: every package of the catalog).",
        };
        var maxPackageMb = new Option<double?>("--max-package-mb")
        {
            Description = "Skip packages whose .deb is larger than this many MB (e.g. 150 leaves out the four big game packages and unknown-horizons). Default: no limit.",
        };
        var catalog = new Option<string>("--catalog")
        {
            Description = "The sound catalog (TSV: package, path, category, caption, group, license).",
            DefaultValueFactory = _ => SoundCatalog.BundledPath,
        };
        var keepDebs = new Option<bool>("--keep-debs")
        {
            Description = "Keep the downloaded .deb files in <out>/debs after extraction.",
        };
        var noMusic = new Option<bool>("--no-music")
        {
            Description = "Do not render the instrument phrases of 'data music' (rendered by default when no --packages is given).",
        };

        var command = new Command("fetch", "Download the Debian packages of the sound catalog (apt-get download, no install), extract the listed recordings and their copyright files, convert them to 16 kHz mono WAV and write index.jsonl. Skips what is already there.");
        command.Options.Add(output);
        command.Options.Add(packages);
        command.Options.Add(maxPackageMb);
        command.Options.Add(catalog);
        command.Options.Add(keepDebs);
        command.Options.Add(noMusic);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var options = new SoundFetchOptions
            {
                OutputDirectory = parseResult.GetValue(output)!,
                CatalogPath = parseResult.GetValue(catalog)!,
                Packages = parseResult.GetValue(packages)?
                    .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                MaxPackageMegabytes = parseResult.GetValue(maxPackageMb),
                KeepDebs = parseResult.GetValue(keepDebs),
            };
            var stopwatch = Stopwatch.StartNew();
            try
            {
                var report = await new SoundFetcher(options, Console.Out).FetchAsync(cancellationToken);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"fetched {report.PackagesFetched.Count} package(s), {report.PackagesUpToDate.Count} up to date, {report.PackagesSkippedBySize.Count} skipped by size; {report.RecordingsConverted} recordings converted; {report.RecordingsInIndex} in the index; {stopwatch.Elapsed.TotalSeconds:0} s"));
                foreach (var failure in report.Failures)
                {
                    Console.Error.WriteLine("failed: " + failure);
                }

                var musicFailed = false;
                if (options.Packages is null && !parseResult.GetValue(noMusic))
                {
                    // The catalog's instruments come from soundfonts rendered into phrases, not from files of a package.
                    var music = await new MusicRenderer(new MusicRenderOptions { OutputDirectory = options.OutputDirectory, KeepDebs = options.KeepDebs }, Console.Out)
                        .RenderAsync(cancellationToken);
                    musicFailed = music.Failures.Count > 0;
                    foreach (var failure in music.Failures)
                    {
                        Console.Error.WriteLine("failed: " + failure);
                    }
                }

                return report.Failures.Count == 0 && !musicFailed ? 0 : 1;
            }
            catch (Exception ex) when (ex is DatasetFormatException or ArgumentException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine("data fetch: " + ex.Message);
                return 2;
            }
        });
        return command;
    }
}
