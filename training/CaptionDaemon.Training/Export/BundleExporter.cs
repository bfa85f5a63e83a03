using CaptionDaemon.Training.Text;
using System.Text.Json.Nodes;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Reporting;
using Google.Protobuf;

namespace CaptionDaemon.Training.Export;

/// <summary>What the bundle says about itself beyond the model: name, window, caption length, training summary.</summary>
internal sealed record BundleExportOptions
{
    public required string Name { get; init; }

    public double WindowSeconds { get; init; } = 10.0;

    /// <summary>Decoding limit written to the manifest; null = min(20, MaxTokens - 1) as in the paper's decoding.</summary>
    public int? MaxCaptionTokens { get; init; }

    /// <summary>The manifest's open <c>training</c> object (method, data, command, metrics, ...).</summary>
    public JsonObject Training { get; init; } = [];

    /// <summary>Replace an existing output folder instead of refusing.</summary>
    public bool Overwrite { get; init; }

    /// <summary>
    /// Per-label thresholds for the manifest (chosen on the validation split, e.g. by calibration); a label not listed
    /// gets <see cref="BundleManifestFactory.DefaultLabelThreshold"/>.
    /// </summary>
    public IReadOnlyDictionary<string, double> LabelThresholds { get; init; } = new Dictionary<string, double>();

    /// <summary>The manifest's <c>label_fusion</c> weight (see <see cref="BundleManifest.LabelFusion"/>); null leaves it out (off).</summary>
    public double? LabelFusion { get; init; }
}

/// <summary>
/// Writes a caption bundle (docs/captioning-core.md, "Bundle"): the three ONNX graphs, <c>vocab.json</c>, <c>NOTICE</c>
/// when the training data asked for one, and <c>manifest.json</c> with checksums. Everything is written to a temporary
/// sibling folder first and moved into place at the end, so a daemon watching the model folder never sees half a bundle.
/// </summary>
internal static class BundleExporter
{
    /// <summary>Optional file of a checkpoint folder with the training summary, copied into the manifest's <c>training</c>.</summary>
    public const string TrainingSummaryFileName = "training.json";

    public const string NoticeFileName = "NOTICE";

    /// <summary>Sub-folder of a bundle holding the trainer's checkpoint of the same weights.</summary>
    public const string CheckpointDirectoryName = "checkpoint";

    /// <summary>Exports a checkpoint folder (<see cref="CaptionModel.SaveCheckpoint"/>) to <paramref name="outputDirectory"/>.</summary>
    public static BundleManifest ExportCheckpoint(
        string checkpointDirectory, string outputDirectory, string? name, double windowSeconds, int? maxCaptionTokens, bool overwrite, string command, double? labelFusion = null)
    {
        ArgumentNullException.ThrowIfNull(checkpointDirectory);
        using var model = CaptionModel.LoadCheckpoint(checkpointDirectory);
        var training = ReadTrainingSummary(checkpointDirectory);
        training["checkpoint"] = checkpointDirectory;
        training["export_command"] = command;
        var options = new BundleExportOptions
        {
            Name = name ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(checkpointDirectory))),
            WindowSeconds = windowSeconds,
            MaxCaptionTokens = maxCaptionTokens,
            Training = training,
            Overwrite = overwrite,
            LabelFusion = labelFusion,
        };
        var notice = Path.Combine(checkpointDirectory, NoticeFileName);
        return Export(model, Path.Combine(checkpointDirectory, CaptionModel.VocabFileName), File.Exists(notice) ? notice : null, outputDirectory, options);
    }

    /// <summary>Exports <paramref name="model"/> (put in evaluation mode) with its vocabulary file.</summary>
    public static BundleManifest Export(CaptionModel model, string vocabPath, string? noticePath, string outputDirectory, BundleExportOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(vocabPath);
        ArgumentNullException.ThrowIfNull(outputDirectory);
        ArgumentNullException.ThrowIfNull(options);
        var config = model.Config;
        var vocabulary = Vocabulary.Load(vocabPath).Tokens;
        if (vocabulary.Count != config.VocabSize)
        {
            throw new InvalidDataException($"{vocabPath} has {vocabulary.Count} tokens; the model's vocabulary size is {config.VocabSize}.");
        }

        var maxCaptionTokens = options.MaxCaptionTokens ?? Math.Min(20, config.MaxTokens - 1);
        if (maxCaptionTokens < 1 || maxCaptionTokens > config.MaxTokens - 1)
        {
            throw new ArgumentException($"max caption tokens {maxCaptionTokens} must be in [1, {config.MaxTokens - 1}] (the positional table holds {config.MaxTokens}).");
        }

        if (!double.IsFinite(options.WindowSeconds) || options.WindowSeconds * config.SampleRate < config.NFft || config.EncoderFrames((int)(options.WindowSeconds * config.SampleRate)) < 1)
        {
            throw new ArgumentException($"window of {options.WindowSeconds} s is too short for the encoder.");
        }

        var target = Path.GetFullPath(outputDirectory);
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any() && !options.Overwrite)
        {
            throw new IOException($"{target} already exists and is not empty (use --force to replace it).");
        }

        var staging = $"{Path.TrimEndingDirectorySeparator(target)}.partial-{Guid.NewGuid():N}";
        Directory.CreateDirectory(staging);
        try
        {
            model.eval();
            WriteGraph(staging, CaptionGraphs.EncoderFile, CaptionGraphs.Encoder(model));
            WriteGraph(staging, CaptionGraphs.CrossKvFile, CaptionGraphs.CrossKv(model));
            WriteGraph(staging, CaptionGraphs.DecoderStepFile, CaptionGraphs.DecoderStep(model));
            File.Copy(vocabPath, Path.Combine(staging, CaptionModel.VocabFileName));
            if (noticePath is not null)
            {
                File.Copy(noticePath, Path.Combine(staging, NoticeFileName));
            }

            // The TorchSharp weights travel with the bundle for whatever trains on it next (incremental updates,
            // distillation) and for the paper-style TorchSharp baseline; the daemon never reads them.
            model.SaveCheckpoint(Path.Combine(staging, CheckpointDirectoryName), vocabulary);
            // The training summary names this machine's data, runs and checkpoints: recorded relative to named roots.
            var training = RecordedPaths.Current.RecordAll(options.Training)!.AsObject();
            var manifest = BundleManifestFactory.Create(
                model, vocabulary, staging, options.Name, options.WindowSeconds, maxCaptionTokens, training, options.LabelThresholds, options.LabelFusion);
            manifest.Write(Path.Combine(staging, BundleManifest.FileName));
            if (Directory.Exists(target))
            {
                Directory.Delete(target, recursive: true);
            }

            Directory.Move(staging, target);
            return manifest;
        }
        catch
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }

            throw;
        }
    }

    private static void WriteGraph(string directory, string fileName, Onnx.ModelProto graph)
    {
        using var stream = File.Create(Path.Combine(directory, fileName));
        graph.WriteTo(stream);
    }

    private static JsonObject ReadTrainingSummary(string checkpointDirectory)
    {
        var path = Path.Combine(checkpointDirectory, TrainingSummaryFileName);
        if (!File.Exists(path))
        {
            return [];
        }

        return JsonNode.Parse(File.ReadAllText(path)) as JsonObject
            ?? throw new InvalidDataException($"{path} must hold a JSON object (the manifest's training summary).");
    }
}
