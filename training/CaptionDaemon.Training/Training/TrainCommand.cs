using System.CommandLine;
using CaptionDaemon.Training.Data;

namespace CaptionDaemon.Training.Training;

/// <summary><c>captiond-train train</c>: supervised training of a student or teacher on a Clotho-layout data set.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Data set in the Clotho layout (clotho_captions_<split>.csv and <split>/ audio for development, validation, evaluation).", Required = true };
        var output = new Option<string>("--out") { Description = "Output folder: best/ (highest validation CIDEr-D), last/ (for --resume), test captions.", Required = true };
        var size = new Option<string>("--size") { Description = "Model size: student or teacher.", DefaultValueFactory = _ => "student" };
        size.AcceptOnlyFromAmong("student", "teacher");
        var epochs = new Option<int>("--epochs") { Description = "Epochs to train (with --resume: the new total).", DefaultValueFactory = _ => 30 };
        var batchSize = new Option<int>("--batch-size") { Description = "Clips per step; every clip brings all its captions.", DefaultValueFactory = _ => 16 };
        var learningRate = new Option<double>("--lr") { Description = "Peak learning rate of AdamW (after warm-up; cosine decay to 1% of it).", DefaultValueFactory = _ => 5e-4 };
        var weightDecay = new Option<double>("--weight-decay") { Description = "AdamW weight decay.", DefaultValueFactory = _ => 0.01 };
        var warmup = new Option<int?>("--warmup-steps") { Description = "Linear warm-up steps (default: 5% of all steps)." };
        var labelSmoothing = new Option<double>("--label-smoothing") { Description = "Label smoothing of the cross-entropy (0 = none).", DefaultValueFactory = _ => 0.0 };
        var gradientClip = new Option<double>("--grad-clip") { Description = "Maximum global gradient norm.", DefaultValueFactory = _ => 1.0 };
        var seed = new Option<int>("--seed") { Description = "Seed of weights, dropout, clip order and crops.", DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--threads") { Description = "Torch threads and parallel ffmpeg decoders.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var (resume, checkpointMinutes) = ResumeOptions();
        var maxTrainClips = new Option<int?>("--max-train-clips") { Description = "Train on the first N development clips only." };
        var augment = new Option<string>("--augment") { Description = "Random gain, circular time shift and SpecAugment masks during training: auto (on for the teacher only), on or off.", DefaultValueFactory = _ => "auto" };
        augment.AcceptOnlyFromAmong("auto", "on", "off");
        var features = new Option<string>("--features") { Description = "Log-mel from the cache of 'data features' (<data>/features/<split>.logmel): auto (when present; a stale one is refused), off (decode the audio), require.", DefaultValueFactory = _ => "auto" };
        features.AcceptOnlyFromAmong("auto", "off", "require");
        var (encoder, freezeEncoderEpochs) = EncoderOptions();
        var labelLossWeight = new Option<double>("--label-loss-weight") { Description = "With --encoder: weight of the tagging loss (the tagger's labels against the categories in the data's scenes.jsonl) added while the encoder is fine-tuned, so the labels keep learning; 0 (the default): captions only.", DefaultValueFactory = _ => 0.0 };
        var minWordCount = new Option<int>("--min-word-count") { Description = "Words seen fewer times in the training captions become <unk>.", DefaultValueFactory = _ => 5 };

        var command = new Command("train", "Train a caption model (supervised cross-entropy); keep the best checkpoint by validation CIDEr-D and test it on the evaluation split.");
        foreach (var option in new Option[] { data, output, size, epochs, batchSize, learningRate, weightDecay, warmup, labelSmoothing, gradientClip, seed, threads, resume, checkpointMinutes, maxTrainClips, minWordCount, augment, features, encoder, freezeEncoderEpochs, labelLossWeight })
        {
            command.Options.Add(option);
        }

        command.SetAction((parseResult, cancellationToken) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                var options = new TrainOptions
                {
                    DataDirectory = parseResult.GetValue(data)!,
                    OutputDirectory = parseResult.GetValue(output)!,
                    Size = parseResult.GetValue(size)!,
                    Epochs = parseResult.GetValue(epochs),
                    BatchSize = parseResult.GetValue(batchSize),
                    LearningRate = parseResult.GetValue(learningRate),
                    WeightDecay = parseResult.GetValue(weightDecay),
                    WarmupSteps = parseResult.GetValue(warmup),
                    LabelSmoothing = parseResult.GetValue(labelSmoothing),
                    GradientClip = parseResult.GetValue(gradientClip),
                    Seed = parseResult.GetValue(seed),
                    Threads = parseResult.GetValue(threads),
                    Resume = parseResult.GetValue(resume),
                    CheckpointInterval = CheckpointInterval(parseResult.GetValue(checkpointMinutes)),
                    MaxTrainClips = parseResult.GetValue(maxTrainClips),
                    MinWordCount = parseResult.GetValue(minWordCount),
                    Augment = parseResult.GetValue(augment) switch { "on" => true, "off" => false, _ => null },
                    Features = parseResult.GetValue(features) switch { "off" => FeatureSource.Off, "require" => FeatureSource.Require, _ => FeatureSource.Auto },
                    EncoderDirectory = parseResult.GetValue(encoder),
                    FreezeEncoderEpochs = parseResult.GetValue(freezeEncoderEpochs),
                    LabelLossWeight = parseResult.GetValue(labelLossWeight),
                    CommandLine = CommandLine(parseResult),
                };
                // The \r progress line only makes sense on a terminal; the test harness and journald get plain lines.
                var isTerminal = ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected;
                var trainer = new CaptionTrainer(options, new TrainingProgress(error, isTerminal));
                trainer.Run(cancellationToken);
                return Task.FromResult(0);
            }
            catch (Exception ex) when (ex is ArgumentException or TrainingException or DatasetFormatException or AudioDecodeException or Features.FeatureCacheException or InvalidDataException or IOException)
            {
                error.WriteLine("train: " + ex.Message);
                return Task.FromResult(2);
            }
        });
        return command;
    }

    /// <summary><c>--resume</c> and <c>--checkpoint-minutes</c>, shared by <c>train</c> and <c>distill</c>.</summary>
    internal static (Option<bool> Resume, Option<double> CheckpointMinutes) ResumeOptions() =>
        (new Option<bool>("--resume") { Description = "Continue the run in --out from last/." },
         new Option<double>("--checkpoint-minutes") { Description = "Also save last/ inside an epoch every this many minutes, so an interrupted run resumes close to where it stopped (0: at epoch ends only).", DefaultValueFactory = _ => 15.0 });

    /// <summary><c>--encoder</c> and <c>--freeze-encoder-epochs</c>, shared by <c>train</c> and <c>distill</c>.</summary>
    internal static (Option<string?> Encoder, Option<int> FreezeEncoderEpochs) EncoderOptions() =>
        (new Option<string?>("--encoder") { Description = "A tagger checkpoint folder ('captiond-train tag' --out's best/) to start the encoder from; the model becomes the student's decoder on that tagging encoder." },
         new Option<int>("--freeze-encoder-epochs") { Description = "With --encoder: train the decoder alone on the frozen encoder for this many epochs, then fine-tune both.", DefaultValueFactory = _ => 0 });

    /// <exception cref="ArgumentException"><paramref name="minutes"/> is negative or not finite.</exception>
    internal static TimeSpan? CheckpointInterval(double minutes) => minutes switch
    {
        0 => null,
        _ when minutes < 0 || !double.IsFinite(minutes) => throw new ArgumentException($"--checkpoint-minutes must be 0 or a positive number of minutes, not {minutes}"),
        _ => TimeSpan.FromMinutes(minutes),
    };

    /// <summary>The command as typed, quoted for a shell, for the training record.</summary>
    internal static string CommandLine(ParseResult parseResult) => "captiond-train " + string.Join(' ', parseResult.Tokens.Select(t => Quote(t.Value)));

    private static string Quote(string value) =>
        value.Length > 0 && value.All(c => char.IsLetterOrDigit(c) || "-_./=:,+".Contains(c, StringComparison.Ordinal)) ? value : "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
