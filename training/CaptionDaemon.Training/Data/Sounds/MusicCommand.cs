using System.CommandLine;
using System.Diagnostics;
using System.Globalization;

namespace CaptionDaemon.Training.Data.Sounds;

/// <summary><c>captiond-train data music</c>.</summary>
internal static class MusicCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out")
        {
            Description = "Sounds folder to fill (audio/<package>/, copyright/, index.jsonl), the one data fetch fills. Default: $XDG_CACHE_HOME/captiond/sounds or ~/.cache/captiond/sounds.",
            DefaultValueFactory = _ => SoundFetcher.DefaultDirectory,
        };
        var soundfonts = new Option<string[]>("--soundfont")
        {
            Description = $"Debian package of a General MIDI .sf2 soundfont; repeat for several. Default: {string.Join(", ", MusicRenderOptions.DefaultSoundfonts)}.",
            AllowMultipleArgumentsPerToken = false,
        };
        var phrases = new Option<int>("--phrases-per-instrument")
        {
            Description = "Phrases rendered per instrument and soundfont.",
            DefaultValueFactory = _ => 40,
        };
        var instruments = new Option<string?>("--instruments")
        {
            Description = "Comma-separated categories of the instrument table to render (default: all).",
        };
        var table = new Option<string>("--instrument-table")
        {
            Description = "The instrument table (TSV: category, program, style, low, high, caption).",
            DefaultValueFactory = _ => InstrumentTable.BundledPath,
        };
        var seed = new Option<int>("--seed")
        {
            Description = "Seed of the phrases; the same seed writes the same phrases.",
            DefaultValueFactory = _ => 1,
        };
        var keepDebs = new Option<bool>("--keep-debs")
        {
            Description = "Keep the downloaded .deb files in <out>/debs after rendering.",
        };

        var command = new Command("music", "Render short instrument phrases (piano, guitars, strings, winds, brass, drums...) from real-sample General MIDI soundfonts in Debian packages with fluidsynth, as 16 kHz mono WAV, and add them to index.jsonl (group MUS). GeneralUser's (minuet-data) renders are the validation split, TimGM6mb's the test split. Skips what is already there.");
        command.Options.Add(output);
        command.Options.Add(soundfonts);
        command.Options.Add(phrases);
        command.Options.Add(instruments);
        command.Options.Add(table);
        command.Options.Add(seed);
        command.Options.Add(keepDebs);
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var chosen = parseResult.GetValue(soundfonts);
            var options = new MusicRenderOptions
            {
                OutputDirectory = parseResult.GetValue(output)!,
                Soundfonts = chosen is { Length: > 0 } ? chosen : MusicRenderOptions.DefaultSoundfonts,
                InstrumentsPath = parseResult.GetValue(table)!,
                Categories = parseResult.GetValue(instruments)?
                    .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                PhrasesPerInstrument = parseResult.GetValue(phrases),
                Seed = parseResult.GetValue(seed),
                KeepDebs = parseResult.GetValue(keepDebs),
            };
            var stopwatch = Stopwatch.StartNew();
            try
            {
                var report = await new MusicRenderer(options, Console.Out).RenderAsync(cancellationToken);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"rendered {report.PackagesRendered.Count} soundfont(s), {report.PackagesUpToDate.Count} up to date; {report.PhrasesRendered} phrases rendered; {report.MusicRecordingsInIndex} music recordings of {report.RecordingsInIndex} in the index; {stopwatch.Elapsed.TotalSeconds:0} s"));
                foreach (var failure in report.Failures)
                {
                    Console.Error.WriteLine("failed: " + failure);
                }

                return report.Failures.Count == 0 ? 0 : 1;
            }
            catch (Exception ex) when (ex is DatasetFormatException or ArgumentException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine("data music: " + ex.Message);
                return 2;
            }
        });
        return command;
    }
}
