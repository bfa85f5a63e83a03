using System.CommandLine;
using System.Globalization;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Models;

namespace CaptionDaemon.Training.Training.Features;

/// <summary>
/// <c>captiond-train data features</c>: computes the log-mel of every clip of a Clotho-layout data set once, one cache
/// file per split (<see cref="LogMelCacheFile"/>), so that <c>train</c> neither decodes audio nor runs the STFT.
/// </summary>
internal static class FeaturesCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Data set in the Clotho layout; the caches go to <data>/features/<split>.logmel.", Required = true };
        var splits = new Option<string>("--split") { Description = "Comma-separated splits (those of them that exist).", DefaultValueFactory = _ => string.Join(',', ClothoDataset.Splits) };
        var threads = new Option<int>("--threads") { Description = "Parallel ffmpeg decoders and torch threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var modelConfig = new Option<string?>("--model-config") { Description = "config.json of the model to train (a checkpoint's); default: the student and teacher presets' front end." };
        var command = new Command("features", "Cache the front end's log-mel of every clip (float16), so training reads features instead of decoding audio.");
        foreach (var option in new Option[] { data, splits, threads, modelConfig })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                var root = Path.GetFullPath(parseResult.GetValue(data)!);
                var threadCount = parseResult.GetValue(threads);
                if (threadCount < 1)
                {
                    throw new ArgumentException("--threads must be at least 1");
                }

                var configPath = parseResult.GetValue(modelConfig);
                var frontend = FrontendParameters.Of(configPath is null ? CaptionModelConfig.Student(vocabSize: 5) : CaptionModelConfig.FromJson(File.ReadAllText(configPath)));
                TorchSharp.torch.set_num_threads(threadCount);
                var requested = parseResult.GetValue(splits)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                foreach (var split in requested.Where(s => !ClothoDataset.Splits.Contains(s)))
                {
                    throw new ArgumentException($"--split: '{split}' is not one of {string.Join(", ", ClothoDataset.Splits)}");
                }

                foreach (var split in requested)
                {
                    if (!File.Exists(ClothoDataset.CaptionsPath(root, split)))
                    {
                        output.WriteLine($"{split}: no {ClothoDataset.CaptionsPath(root, split)}, skipped");
                        continue;
                    }

                    var clips = ClothoDataset.Load(root, split, cancellationToken);
                    var path = LogMelCacheFile.PathOf(root, split);
                    output.WriteLine($"{split}: {clips.Count} clips, {frontend}");
                    var report = await LogMelCacheBuilder.BuildAsync(clips, frontend, path, threadCount, cancellationToken, (done, total) => output.WriteLine($"  {done}/{total}")).ConfigureAwait(false);
                    output.WriteLine(string.Create(
                        CultureInfo.InvariantCulture,
                        $"{split}: {report.Clips} clips in {report.Seconds:0.0} s ({report.ClipsPerSecond:0.0} clips/s), {report.Bytes / 1e6:0.0} MB -> {report.Path}"));
                }

                return 0;
            }
            catch (Exception ex) when (ex is ArgumentException or DatasetFormatException or AudioDecodeException or FeatureCacheException or IOException)
            {
                error.WriteLine("data features: " + ex.Message);
                return 2;
            }
        });
        return command;
    }
}
