using System.CommandLine;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Training;

namespace CaptionDaemon.Training.Tagging;

/// <summary><c>captiond-train tag</c>: trains the tagging encoder on a sounds folder (<c>data fetch</c>'s index.jsonl).</summary>
internal static class TagCommand
{
    public static Command Create()
    {
        var sounds = new Option<string>("--sounds") { Description = "Sounds folder of 'data fetch' (index.jsonl with categories and train/val/test splits).", Required = true };
        var output = new Option<string>("--out") { Description = "Output folder: best/ (highest validation mAP), last/ (for --resume), metrics.json.", Required = true };
        var size = new Option<string>("--size") { Description = "Encoder size (Models/README.md, 'Tagging encoder').", DefaultValueFactory = _ => "small" };
        size.AcceptOnlyFromAmong([.. Models.TaggingEncoderConfig.Sizes]);
        var epochs = new Option<int>("--epochs") { Description = "Epochs to train (with --resume: the new total).", DefaultValueFactory = _ => 20 };
        var batchSize = new Option<int>("--batch-size") { Description = "Windows per step.", DefaultValueFactory = _ => 32 };
        var clipsPerEpoch = new Option<int?>("--clips-per-epoch") { Description = "Class-balanced draws per epoch (default: the train split's recordings)." };
        var balanceExponent = new Option<double>("--balance-exponent")
        {
            Description = "Class balance of the draws: a category of n train recordings gets n^(1-e) of them (0: as the split has them, 1: every category alike).",
            DefaultValueFactory = _ => TaggingSet.DefaultBalanceExponent,
        };
        var balancePackages = new Option<bool>("--balance-packages")
        {
            Description = "Spread each category's draws evenly over the packages its recordings come from, so that one game's many recordings of a sound do not outweigh another's few.",
        };
        var sceneWindows = new Option<double>("--scene-windows")
        {
            Description = "Share of the drawn recordings played as one event of a scene (a background, scene levels, a noise floor) instead of alone; validation then also reports the scene windows' mAP and best/ is chosen by the mean of both.",
            DefaultValueFactory = _ => 0.0,
        };
        var timbre = new Option<double>("--timbre")
        {
            Description = "Chance of each change of a drawn recording's timbre: a speed change within +-3 semitones and a random three-band equaliser within +-9 dB (with --augment on).",
            DefaultValueFactory = _ => 0.0,
        };
        var maxValClips = new Option<int?>("--max-val-clips") { Description = "Validate on an even spread of this many val recordings (default: all)." };
        var windowSeconds = new Option<double>("--window-seconds") { Description = "Window length; shorter recordings are padded at a random offset, longer ones cropped.", DefaultValueFactory = _ => 10.0 };
        var learningRate = new Option<double>("--lr") { Description = "Peak learning rate of AdamW (warm-up, then cosine decay to 1% of it).", DefaultValueFactory = _ => 2e-3 };
        var augment = new Option<string>("--augment") { Description = "Gain, shift, mixup and SpecAugment: on or off.", DefaultValueFactory = _ => "on" };
        augment.AcceptOnlyFromAmong("on", "off");
        var seed = new Option<int>("--seed") { Description = "Seed of weights, draws, crops and augmentation.", DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--threads") { Description = "Torch threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var (resume, checkpointMinutes) = TrainCommand.ResumeOptions();

        var command = new Command("tag", "Train the tagging encoder as a multi-label tagger over the catalog's categories (plus 'nothing'); validate mAP every epoch.");
        foreach (var option in new Option[] { sounds, output, size, epochs, batchSize, clipsPerEpoch, balanceExponent, balancePackages, sceneWindows, timbre, maxValClips, windowSeconds, learningRate, augment, seed, threads, resume, checkpointMinutes })
        {
            command.Options.Add(option);
        }

        command.SetAction((parseResult, cancellationToken) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                var options = new TaggerOptions
                {
                    SoundsDirectory = parseResult.GetValue(sounds)!,
                    OutputDirectory = parseResult.GetValue(output)!,
                    Size = parseResult.GetValue(size)!,
                    Epochs = parseResult.GetValue(epochs),
                    BatchSize = parseResult.GetValue(batchSize),
                    ClipsPerEpoch = parseResult.GetValue(clipsPerEpoch),
                    BalanceExponent = parseResult.GetValue(balanceExponent),
                    BalancePackages = parseResult.GetValue(balancePackages),
                    SceneProbability = parseResult.GetValue(sceneWindows),
                    TimbreProbability = parseResult.GetValue(timbre),
                    MaxValidationClips = parseResult.GetValue(maxValClips),
                    WindowSeconds = parseResult.GetValue(windowSeconds),
                    LearningRate = parseResult.GetValue(learningRate),
                    Augment = parseResult.GetValue(augment) == "on",
                    Seed = parseResult.GetValue(seed),
                    Threads = parseResult.GetValue(threads),
                    Resume = parseResult.GetValue(resume),
                    CheckpointInterval = TrainCommand.CheckpointInterval(parseResult.GetValue(checkpointMinutes)),
                    CommandLine = TrainCommand.CommandLine(parseResult),
                };
                var isTerminal = ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected;
                new TaggerTrainer(options, new TrainingProgress(error, isTerminal)).Run(cancellationToken);
                return Task.FromResult(0);
            }
            catch (Exception ex) when (ex is ArgumentException or TrainingException or DatasetFormatException or AudioDecodeException or InvalidDataException or IOException)
            {
                error.WriteLine("tag: " + ex.Message);
                return Task.FromResult(2);
            }
        });
        return command;
    }
}
