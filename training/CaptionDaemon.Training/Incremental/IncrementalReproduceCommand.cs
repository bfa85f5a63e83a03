using System.CommandLine;
using System.Globalization;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Training;

namespace CaptionDaemon.Training.Incremental;

/// <summary><c>captiond-train reproduce incremental</c>: the class-incremental comparison (<see cref="IncrementalReproduction"/>).</summary>
internal static class IncrementalReproduceCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Folder for the per-task scene sets, runs, bundles, results.json, results.md, details.json and the plots.", Required = true };
        var quick = new Option<bool>("--quick") { Description = "4 s scenes, 16 clips per task, a tiny model, short training, one seed: the whole pipeline in minutes." };
        var sounds = new Option<string>("--sounds") { Description = "Sounds folder of 'data fetch', for generating the scenes.", DefaultValueFactory = _ => Data.Sounds.SoundFetcher.DefaultDirectory };
        var tasks = new Option<string>("--tasks") { Description = "Task counts to split the categories into, comma-separated.", DefaultValueFactory = _ => "3,6" };
        var methods = new Option<string?>("--methods") { Description = $"Methods to compare, comma-separated (default all: {string.Join(", ", IncrementalReproduction.AllMethods)})." };
        var clips = new Option<int?>("--clips-per-task") { Description = "Generated clips per task, all splits (default: 750 shared among the tasks, 250 each of 3 and 125 each of 6; 16 with --quick)." };
        var baseSteps = new Option<int?>("--base-steps") { Description = "Steps of the first task's model, its epochs following from the task's clips (default 300)." };
        var baseEpochs = new Option<int?>("--base-epochs") { Description = "Epochs of the first task's model instead of --base-steps (2 with --quick)." };
        var epochs = new Option<int?>("--epochs") { Description = "Epochs of every later task instead of --update-steps (1 with --quick)." };
        var updateSteps = new Option<int?>("--update-steps") { Description = "Steps of every later task, its epochs following from the task's clips (default 70)." };
        var memory = new Option<string?>("--memory") { Description = "Rehearsal memory: N clips or P% of the clips seen so far (default 5%; 25% with --quick)." };
        var selection = new Option<string>("--memory-selection") { Description = "random or herding.", DefaultValueFactory = _ => MemorySelection.Herding };
        selection.AcceptOnlyFromAmong(MemorySelection.Methods);
        var kdWeights = new Option<string?>("--kd-weights") { Description = "Weights of the KD terms, e.g. audio=10,token=1,seq=1 (default 1 each). Finished runs in --out are reused whatever their weights: use a new --out." };
        var seeds = new Option<int?>("--seeds") { Description = "Seeds 1..N per configuration (default 1)." };
        var batchSize = new Option<int?>("--batch-size") { Description = "Clips per step (default 16; 8 with --quick)." };
        var threads = new Option<int>("--threads") { Description = "Torch and ONNX Runtime threads, parallel ffmpeg decoders.", DefaultValueFactory = _ => Environment.ProcessorCount };

        var command = new Command("incremental", "Reproduce the class-incremental comparison: categories split into 3 and 6 tasks; finetune, rehearsal and rehearsal with audio/token/seq KD; results.json, results.md and plots.");
        foreach (var option in new Option[] { output, quick, sounds, tasks, methods, clips, baseSteps, baseEpochs, epochs, updateSteps, memory, selection, kdWeights, seeds, batchSize, threads })
        {
            command.Options.Add(option);
        }

        command.SetAction((parseResult, cancellationToken) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                var outputDirectory = parseResult.GetValue(output)!;
                var preset = parseResult.GetValue(quick) ? IncrementalReproductionOptions.QuickPreset(outputDirectory) : new IncrementalReproductionOptions { OutputDirectory = outputDirectory };
                if (parseResult.GetValue(baseSteps) is not null && parseResult.GetValue(baseEpochs) is not null)
                {
                    throw new ArgumentException("--base-steps and --base-epochs both set the first task's training; give one.");
                }

                if (parseResult.GetValue(updateSteps) is not null && parseResult.GetValue(epochs) is not null)
                {
                    throw new ArgumentException("--update-steps and --epochs both set the later tasks' training; give one.");
                }

                var options = preset with
                {
                    SoundsDirectory = parseResult.GetValue(sounds)!,
                    TaskCounts = [.. parseResult.GetValue(tasks)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(t => int.Parse(t, CultureInfo.InvariantCulture))],
                    Methods = parseResult.GetValue(methods) is { } list ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : preset.Methods,
                    ClipsPerTask = parseResult.GetValue(clips) ?? preset.ClipsPerTask,
                    BaseEpochs = parseResult.GetValue(baseEpochs) ?? preset.BaseEpochs,
                    BaseSteps = parseResult.GetValue(baseSteps) ?? (parseResult.GetValue(baseEpochs) is null ? preset.BaseSteps : null),
                    Epochs = parseResult.GetValue(epochs) ?? preset.Epochs,
                    UpdateSteps = parseResult.GetValue(updateSteps) ?? (parseResult.GetValue(epochs) is null ? preset.UpdateSteps : null),
                    Memory = parseResult.GetValue(memory) ?? preset.Memory,
                    MemorySelection = parseResult.GetValue(selection)!,
                    KdWeights = parseResult.GetValue(kdWeights),
                    Seeds = parseResult.GetValue(seeds) is { } n ? Enumerable.Range(1, n).ToArray() : preset.Seeds,
                    BatchSize = parseResult.GetValue(batchSize) ?? preset.BatchSize,
                    Threads = parseResult.GetValue(threads),
                };
                var isTerminal = ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected;
                var rows = new IncrementalReproduction(options, new TrainingProgress(error, isTerminal)).Run(cancellationToken);
                parseResult.InvocationConfiguration.Output.Write(IncrementalReproduction.Table(rows));
                return Task.FromResult(0);
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or TrainingException or DatasetFormatException or AudioDecodeException or InvalidDataException or IOException or BundleException or InvalidOperationException)
            {
                error.WriteLine("reproduce incremental: " + ex.Message);
                return Task.FromResult(2);
            }
        });
        return command;
    }
}
