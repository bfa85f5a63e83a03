using System.CommandLine;
using System.Text.Json;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Evaluation;
using CaptionDaemon.Training.Reporting;

namespace CaptionDaemon.Training.Calibration;

/// <summary>
/// <c>captiond-train calibrate --bundle DIR --recordings VAL.tsv [--sounds DIR] [--json FILE]</c>: fits the bundle's
/// confidence, label thresholds and recommended minimum confidence on validation recordings and quiet windows
/// (<see cref="ConfidenceCalibrator"/>) and writes them into its manifest.
/// </summary>
internal static class CalibrateCommand
{
    public static Command Create()
    {
        var bundleOption = new Option<DirectoryInfo>("--bundle") { Description = "Bundle folder; its manifest.json receives the calibration.", Required = true };
        var recordingsOption = new Option<FileInfo>("--recordings")
        {
            Description = "Validation recordings (path<TAB>category per line, as 'data catalog --list FILE --split val' writes); never the test split.",
            Required = true,
        };
        var soundsOption = new Option<DirectoryInfo?>("--sounds")
        {
            Description = "The sounds folder (index.jsonl): its val-split background recordings, played at -70..-50 dBFS, are some of the quiet windows, and a listed recording of its test split is refused.",
        };
        var quietOption = new Option<int>("--quiet-windows") { Description = "Quiet windows besides one of digital silence.", DefaultValueFactory = _ => 200 };
        var seedOption = new Option<int>("--seed") { Description = "Seed of the quiet windows.", DefaultValueFactory = _ => 1 };
        var featuresOption = new Option<string?>("--features")
        {
            Description = $"Comma-separated features to fit (default: all the bundle's labels allow, of {string.Join(", ", ConfidenceFeatures.All)}).",
        };
        var minConfidenceOption = new Option<double?>("--min-confidence")
        {
            Description = "Recommend this min_confidence instead of the smallest one with at most 5% quiet false alarms on the quiet windows (e.g. one chosen on the test split with 'eval --recordings --min-confidence').",
        };
        var fromOption = new Option<FileInfo?>("--min-confidence-from")
        {
            Description = "Recommend the largest min_confidence that leaves at most --max-uncaptioned of these recordings uncaptioned: the JSON of 'eval --recordings TEST.tsv --json FILE' on this bundle as calibrated by the same command (the fit is deterministic, so the confidences match).",
        };
        var maxUncaptionedOption = new Option<double>("--max-uncaptioned")
        {
            Description = "With --min-confidence-from: the largest share of its recordings left uncaptioned.",
            DefaultValueFactory = _ => 0.10,
        };
        var jsonOption = new Option<FileInfo?>("--json") { Description = "Also write the printed report (JSON) to this file." };
        var dryRunOption = new Option<bool>("--dry-run") { Description = "Fit and report, but leave the manifest as it is." };
        var beamOption = new Option<int>("--beam") { Description = "Beam size (1 = greedy); use the daemon's.", DefaultValueFactory = _ => 3 };
        var batchOption = new Option<int>("--batch-size") { Description = "Windows per inference batch.", DefaultValueFactory = _ => 16 };
        var threadsOption = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads (0 = all cores).", DefaultValueFactory = _ => 0 };

        var command = new Command(
            "calibrate",
            "Fit a bundle's confidence (logistic on its label probabilities and sequence score) to whether captions name what was heard, choose label thresholds and the recommended min_confidence on validation recordings and quiet windows, and write them into manifest.json.");
        foreach (var option in new Option[] { bundleOption, recordingsOption, soundsOption, quietOption, seedOption, featuresOption, minConfidenceOption, fromOption, maxUncaptionedOption, jsonOption, dryRunOption, beamOption, batchOption, threadsOption })
        {
            command.Options.Add(option);
        }

        command.SetAction((parse, cancellationToken) =>
        {
            var bundle = parse.GetValue(bundleOption)!.FullName;
            var list = parse.GetValue(recordingsOption)!.FullName;
            var features = parse.GetValue(featuresOption)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            double? minConfidence = parse.GetValue(minConfidenceOption);
            if (parse.GetValue(fromOption) is { } from)
            {
                if (minConfidence is not null)
                {
                    Console.Error.WriteLine("calibrate: give --min-confidence or --min-confidence-from, not both.");
                    return Task.FromResult(2);
                }

                var maxUncaptioned = parse.GetValue(maxUncaptionedOption);
                if (!(maxUncaptioned >= 0 && maxUncaptioned < 1))
                {
                    Console.Error.WriteLine($"calibrate: --max-uncaptioned must be at least 0 and under 1, not {maxUncaptioned.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
                    return Task.FromResult(2);
                }

                try
                {
                    minConfidence = MinConfidenceChoice.ForUncaptionedShare(HearingReport.ReadConfidences(from.FullName), maxUncaptioned);
                    Console.Error.WriteLine($"min_confidence {minConfidence.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)}: at most {maxUncaptioned * 100:0.##}% of the recordings of {from.Name} under it");
                }
                catch (InvalidDataException e)
                {
                    Console.Error.WriteLine("calibrate: " + e.Message);
                    return Task.FromResult(2);
                }
            }

            var request = new CalibrationRequest(
                bundle,
                list,
                parse.GetValue(soundsOption)?.FullName,
                parse.GetValue(quietOption),
                parse.GetValue(seedOption),
                new EvalCommand.EvalSettings(parse.GetValue(beamOption), parse.GetValue(batchOption), parse.GetValue(threadsOption), null),
                features,
                MinConfidence: minConfidence);
            if (request.MinConfidence is { } given && !(given >= 0 && given <= 1))
            {
                Console.Error.WriteLine($"calibrate: --min-confidence must be a number from 0 to 1, not {given.ToString(System.Globalization.CultureInfo.InvariantCulture)}.");
                return Task.FromResult(2);
            }

            try
            {
                var result = ConfidenceCalibrator.Fit(request, cancellationToken);
                var report = result.ToJson(list, request.Seed);
                report["command"] = RecordedPaths.Current.RecordCommand("captiond-train " + string.Join(' ', parse.Tokens.Select(t => t.Value)));
                result.WriteSummary(Console.Error);
                var json = report.ToJsonString(s_indented);
                Console.WriteLine(json);
                if (parse.GetValue(jsonOption) is { } file)
                {
                    File.WriteAllText(file.FullName, json);
                }

                if (!parse.GetValue(dryRunOption))
                {
                    ConfidenceCalibrator.Record(bundle, result, report);
                    Console.Error.WriteLine($"recorded the calibration in {Path.Combine(bundle, BundleManifest.FileName)}");
                }

                return Task.FromResult(0);
            }
            catch (Exception e) when (e is BundleException or DatasetFormatException or AudioDecodeException or InvalidDataException)
            {
                // Bad input, named by the message: say it and fail without a stack trace.
                Console.Error.WriteLine("calibrate: " + e.Message);
                return Task.FromResult(2);
            }
        });
        return command;
    }

    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true };
}
