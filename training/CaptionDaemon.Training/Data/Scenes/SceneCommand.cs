using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using CaptionDaemon.Training.Data.Sounds;

namespace CaptionDaemon.Training.Data.Scenes;

/// <summary><c>captiond-train data scenes</c>.</summary>
internal static class SceneCommand
{
    public static Command Create()
    {
        var sounds = new Option<string>("--sounds")
        {
            Description = "Sounds folder written by 'data fetch' (index.jsonl + audio/). Default: the fetch default.",
            DefaultValueFactory = _ => SoundFetcher.DefaultDirectory,
        };
        var output = new Option<string>("--out")
        {
            Description = "Where to write the scene set (Clotho layout, scenes.jsonl, NOTICE); must be new, empty or an earlier scene set.",
            Required = true,
        };
        var clips = new Option<int>("--clips") { Description = "Number of clips over all splits.", DefaultValueFactory = _ => 4000 };
        var seed = new Option<int>("--seed") { Description = "Seed: the same seed and sounds give the same set.", DefaultValueFactory = _ => 1 };
        var seconds = new Option<double>("--seconds") { Description = "Clip length in seconds.", DefaultValueFactory = _ => 10.0 };
        var validation = new Option<double>("--val-fraction")
        {
            Description = "Fraction of clips (and, separately, of recordings) for validation.",
            DefaultValueFactory = _ => 0.1,
        };
        var test = new Option<double>("--test-fraction")
        {
            Description = "Fraction of clips (and, separately, of recordings) for the test split (Clotho 'evaluation').",
            DefaultValueFactory = _ => 0.1,
        };

        var splitBy = new Option<string>("--split-by")
        {
            Description = "package: the index's split of every recording (data fetch holds out whole packages), the others by recording; recording: every recording in one split, chosen here, ignoring the index's; clip: every split mixes all recordings and only the scenes differ (tests memory rather than generalisation).",
            DefaultValueFactory = _ => "package",
        };
        splitBy.AcceptOnlyFromAmong("package", "recording", "clip");
        var categories = new Option<string?>("--categories")
        {
            Description = "Comma-separated recording categories to use (events and backgrounds), e.g. for the tasks of a class-incremental update. Default: all.",
        };

        var kinds = new Option<string>("--kinds")
        {
            Description = "Shares of the clip kinds, kind=share comma-separated (normalised; kinds left out are not made): single (one event), mixture (2-3 events), speech (one speaker or two talking over each other), music (an instrument plays), media_background (a radio or television under an event), ambience (a steady background alone, named), quiet (noise, maybe a hum: 'nothing happens'). A kind a split lacks recordings for becomes single. Default: "
                + SceneKindShares.Default + ".",
            DefaultValueFactory = _ => SceneKindShares.Default.ToString(),
        };

        var backgroundChance = new Option<double>("--background-chance")
        {
            Description = "Scales the chance of a steady named background (rain, wind, a harbour...) under single events (0.6), mixtures (0.75), speech (0.5) and music (0.4): 1 keeps those, 0.5 halves them, 0 gives every event a bare room. Captioners trained on fewer backgrounds invent fewer.",
            DefaultValueFactory = _ => 1.0,
        };

        var digitalSilence = new Option<double>("--digital-silence-chance")
        {
            Description = "Share of clips (0-1) with no noise floor: digital silence between the sounds, as in a sound file. A captioner that never heard an event in digital silence invents a background for it ('... over a radio playing in the background').",
            DefaultValueFactory = _ => 0.0,
        };

        var command = new Command("scenes", "Mix the fetched recordings into captioned 10 s scenes like a microphone's day (single events, mixtures, speech, music, a radio or TV in the room, steady backgrounds, quiet rooms; reverberation and distance; five captions each), split (by the index's package split, else by recording unless --split-by clip) into development/validation/evaluation in the Clotho layout.");
        foreach (var option in new Option[] { sounds, output, clips, seed, seconds, validation, test, splitBy, categories, kinds, backgroundChance, digitalSilence })
        {
            command.Options.Add(option);
        }

        command.SetAction((parseResult, cancellationToken) =>
        {
            SceneKindShares shares;
            try
            {
                shares = SceneKindShares.Parse(parseResult.GetValue(kinds)!);
            }
            catch (ArgumentException ex)
            {
                Console.Error.WriteLine("data scenes: " + ex.Message);
                return Task.FromResult(2);
            }

            if (parseResult.GetValue(backgroundChance) is var chance && !(chance >= 0 && double.IsFinite(chance)))
            {
                Console.Error.WriteLine($"data scenes: --background-chance must be a number of 0 or more, not {chance.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
                return Task.FromResult(2);
            }

            if (parseResult.GetValue(digitalSilence) is var silent && !(silent >= 0 && silent <= 1))
            {
                Console.Error.WriteLine($"data scenes: --digital-silence-chance must be a number from 0 to 1, not {silent.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
                return Task.FromResult(2);
            }

            var options = new SceneSetOptions
            {
                DigitalSilenceChance = parseResult.GetValue(digitalSilence),
                Kinds = shares,
                BackgroundChance = parseResult.GetValue(backgroundChance),
                SoundsDirectory = parseResult.GetValue(sounds)!,
                OutputDirectory = parseResult.GetValue(output)!,
                Clips = parseResult.GetValue(clips),
                Seed = parseResult.GetValue(seed),
                Seconds = parseResult.GetValue(seconds),
                ValidationFraction = parseResult.GetValue(validation),
                TestFraction = parseResult.GetValue(test),
                SplitByRecording = parseResult.GetValue(splitBy) != "clip",
                UsePackageSplits = parseResult.GetValue(splitBy) == "package",
                Categories = parseResult.GetValue(categories) is { } list
                    ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal)
                    : null,
            };
            var stopwatch = Stopwatch.StartNew();
            try
            {
                var report = new SceneSetBuilder(options, Console.Out).Build(cancellationToken);
                foreach (var split in report.Splits)
                {
                    Console.WriteLine($"{split.Split}: {split.Clips} clips, {split.RecordingsUsed} recordings used ({split.EventRecordings} event + {split.BackgroundRecordings} background available), {split.CategoriesUsed} categories");
                }

                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"loading {report.LoadTime.TotalSeconds:0.0} s, generating {report.GenerateTime.TotalSeconds:0.0} s, total {stopwatch.Elapsed.TotalSeconds:0.0} s -> {Path.GetFullPath(options.OutputDirectory)}"));
                return Task.FromResult(0);
            }
            catch (Exception ex) when (ex is DatasetFormatException or AudioDecodeException or ArgumentException or IOException or InvalidOperationException)
            {
                Console.Error.WriteLine("data scenes: " + ex.Message);
                return Task.FromResult(2);
            }
        });
        return command;
    }
}
