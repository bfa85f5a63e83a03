using System.CommandLine;
using System.Globalization;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Training;

namespace CaptionDaemon.Training.Incremental;

/// <summary><c>captiond-train incremental</c>: learn a new task with rehearsal and KD (<see cref="IncrementalTrainer"/>).</summary>
internal static class IncrementalCommand
{
    public static Command Create()
    {
        var baseModel = new Option<string>("--base") { Description = "The current model: a caption bundle (with checkpoint/), a checkpoint folder, a 'train' run folder or the model/ folder of an earlier update.", Required = true };
        var newData = new Option<string>("--new") { Description = "The new task's data in the Clotho layout (development split; scenes.jsonl gives each clip's categories).", Required = true };
        var output = new Option<string>("--out") { Description = "Output folder: model/ (checkpoint with its rehearsal memory) and work/.", Required = true };
        var export = new Option<string?>("--export") { Description = "Also write the updated caption bundle (with checkpoint/ and memory/) to this folder." };
        var name = new Option<string?>("--name") { Description = "Model name in the bundle manifest (default: the base's name + '+' + the task)." };
        var task = new Option<string?>("--task") { Description = "Name of the new task (default: the --new folder's name)." };
        var category = new Option<string?>("--category") { Description = "Category of new clips without scene metadata (default: the task name)." };
        var baseData = new Option<string?>("--base-data") { Description = "Data to choose the first memory from when the base has none (default: the data in the base's training record)." };
        var memory = new Option<string>("--memory") { Description = "Rehearsal memory size: N clips or P% of all training clips seen so far; 0 fine-tunes without rehearsal.", DefaultValueFactory = _ => "1%" };
        var selection = new Option<string>("--memory-selection") { Description = "How memory clips are chosen per category: random or herding (iCaRL, on pooled encoder embeddings).", DefaultValueFactory = _ => MemorySelection.Herding };
        selection.AcceptOnlyFromAmong(MemorySelection.Methods);
        // The default is rehearsal alone: on the shipped model and in the full reproduction, the KD terms kept the old
        // model's captions so well that the new events were hardly learnt (Incremental/README.md, "Which KD by default").
        var kd = new Option<string>("--kd") { Description = "KD terms on the rehearsal clips: a comma-separated subset of audio,token,seq, or none (rehearsal alone). Default token: on a tagging encoder the new labels carry the new sounds and token-KD keeps the old ones best (Incremental/README.md).", DefaultValueFactory = _ => IncrementalOptions.TokenKd };
        var kdWeights = new Option<string?>("--kd-weights") { Description = "Weights of the KD terms, e.g. audio=1,token=0.5,seq=1 (default 1 each)." };
        var teacherBeam = new Option<int>("--teacher-beam") { Description = "Beam of the old model's captions for sequence-level KD.", DefaultValueFactory = _ => 3 };
        var topK = new Option<int>("--tok-kd-top-k") { Description = "Old-model probabilities kept per step for token-level KD.", DefaultValueFactory = _ => 10 };
        var epochs = new Option<int>("--epochs") { Description = "Epochs over the new clips and the memory.", DefaultValueFactory = _ => 5 };
        var batchSize = new Option<int>("--batch-size") { Description = "Clips per step (new and rehearsal mixed).", DefaultValueFactory = _ => 16 };
        var learningRate = new Option<double>("--lr") { Description = "Peak learning rate of AdamW (warm-up, cosine decay).", DefaultValueFactory = _ => 5e-4 };
        var weightDecay = new Option<double>("--weight-decay") { Description = "AdamW weight decay.", DefaultValueFactory = _ => 0.01 };
        var gradientClip = new Option<double>("--grad-clip") { Description = "Maximum global gradient norm.", DefaultValueFactory = _ => 1.0 };
        var seed = new Option<int>("--seed") { Description = "Seed of new-word rows, clip order and random memory selection.", DefaultValueFactory = _ => 1 };
        var threads = new Option<int>("--threads") { Description = "Torch and ONNX Runtime threads, parallel ffmpeg decoders.", DefaultValueFactory = _ => Environment.ProcessorCount };
        var minWordCount = new Option<int>("--min-word-count") { Description = "New words seen fewer times in the new captions become <unk>.", DefaultValueFactory = _ => 2 };
        var window = new Option<double?>("--window-seconds") { Description = "Training window (default: the base's)." };
        var maxNewClips = new Option<int?>("--max-new-clips") { Description = "Use the first N new development clips only." };
        var labelNegatives = new Option<int>("--label-negatives")
        {
            Description = "Clips of the base's data (--base-data or its recorded data), evenly spread, that each new tagger label is fitted against besides the update's own clips (0: the update's clips only).",
            DefaultValueFactory = _ => 400,
        };
        var force = new Option<bool>("--force") { Description = "Replace an existing model/ in --out and an existing --export folder." };

        var command = new Command("incremental", "Teach the model a new task (new sound events) without forgetting: fine-tune on the new data plus a rehearsal memory, with audio-, token- and sequence-level KD from the previous model on the rehearsal clips.");
        foreach (var option in new Option[]
        {
            baseModel, newData, output, export, name, task, category, baseData, memory, selection, kd, kdWeights, teacherBeam, topK,
            epochs, batchSize, learningRate, weightDecay, gradientClip, seed, threads, minWordCount, window, maxNewClips, labelNegatives, force,
        })
        {
            command.Options.Add(option);
        }

        command.SetAction((parseResult, cancellationToken) =>
        {
            var error = parseResult.InvocationConfiguration.Error;
            try
            {
                var options = new IncrementalOptions
                {
                    BaseDirectory = parseResult.GetValue(baseModel)!,
                    NewDataDirectory = parseResult.GetValue(newData)!,
                    OutputDirectory = parseResult.GetValue(output)!,
                    ExportDirectory = parseResult.GetValue(export),
                    Name = parseResult.GetValue(name),
                    Task = parseResult.GetValue(task),
                    Category = parseResult.GetValue(category),
                    BaseDataDirectory = parseResult.GetValue(baseData),
                    Memory = MemoryBudget.Parse(parseResult.GetValue(memory)!),
                    MemorySelection = parseResult.GetValue(selection)!,
                    Kd = IncrementalOptions.ParseKd(parseResult.GetValue(kd)!),
                    TeacherBeam = parseResult.GetValue(teacherBeam),
                    TokenTopK = parseResult.GetValue(topK),
                    Epochs = parseResult.GetValue(epochs),
                    BatchSize = parseResult.GetValue(batchSize),
                    LearningRate = parseResult.GetValue(learningRate),
                    WeightDecay = parseResult.GetValue(weightDecay),
                    GradientClip = parseResult.GetValue(gradientClip),
                    Seed = parseResult.GetValue(seed),
                    Threads = parseResult.GetValue(threads),
                    MinWordCount = parseResult.GetValue(minWordCount),
                    WindowSeconds = parseResult.GetValue(window),
                    MaxNewClips = parseResult.GetValue(maxNewClips),
                    LabelNegatives = parseResult.GetValue(labelNegatives),
                    Force = parseResult.GetValue(force),
                    CommandLine = "captiond-train " + string.Join(' ', parseResult.Tokens.Select(t => t.Value)),
                };
                if (parseResult.GetValue(kdWeights) is { } weights)
                {
                    options = options.WithKdWeights(weights);
                }

                var isTerminal = ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected;
                var result = new IncrementalTrainer(options, new TrainingProgress(error, isTerminal)).Run(cancellationToken);
                parseResult.InvocationConfiguration.Output.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"updated model in {result.ModelDirectory}{(result.BundleDirectory is null ? string.Empty : ", bundle " + result.BundleDirectory)}: {result.NewWords.Count} new words, memory of {result.Memory.Clips.Count} clips"));
                return Task.FromResult(0);
            }
            catch (Exception ex) when (ex is ArgumentException or TrainingException or DatasetFormatException or AudioDecodeException or InvalidDataException or IOException or BundleException or InvalidOperationException)
            {
                error.WriteLine("incremental: " + ex.Message);
                return Task.FromResult(2);
            }
        });
        return command;
    }
}
