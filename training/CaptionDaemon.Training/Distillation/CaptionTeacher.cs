using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using CaptionDaemon.Inference;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Training.Export;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Text;
using CaptionDaemon.Training.Training;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Distillation;

/// <summary>
/// A model whose outputs a student learns from: a trainer checkpoint (a <c>train</c> run folder with <c>best/</c>, or a
/// checkpoint folder itself; also a previous student) or an exported caption bundle. Beam-search captions and the
/// pooled audio embedding always come from the bundle through the inference library, the same search the daemon
/// runs; a checkpoint teacher is exported to a bundle once (next to the targets cache) for that. Per-step token
/// distributions (token-level KD) need the TorchSharp weights: the checkpoint, or the <c>checkpoint/</c> folder every
/// exported bundle carries.
/// </summary>
internal sealed class CaptionTeacher : IDisposable
{
    private readonly CaptionBundle _bundle;
    private readonly Captioner _captioner;
    private readonly InferenceSession _encoder;
    private readonly RunOptions _runOptions = new();
    private readonly string? _checkpointDirectory;
    private CaptionModel? _checkpoint;

    private CaptionTeacher(string source, string kind, string identity, CaptionBundle bundle, string? checkpointDirectory, JsonObject training, int threads)
    {
        Source = source;
        Kind = kind;
        Identity = identity;
        _bundle = bundle;
        _captioner = bundle.CreateCaptioner();
        _checkpointDirectory = checkpointDirectory;
        Training = training;
        using var sessionOptions = new SessionOptions { IntraOpNumThreads = threads, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        _encoder = new InferenceSession(Path.Combine(bundle.Directory, bundle.Manifest.Graphs.Encoder.File), sessionOptions);
        Vocabulary = Vocabulary.FromTokens(bundle.Vocabulary);
    }

    /// <summary>The folder the teacher was opened from.</summary>
    public string Source { get; }

    /// <summary><c>checkpoint</c> or <c>bundle</c>.</summary>
    public string Kind { get; }

    /// <summary>SHA-256 of the teacher's weights and vocabulary: a retrained teacher has another identity.</summary>
    public string Identity { get; }

    public Vocabulary Vocabulary { get; }

    public int EmbeddingDim => _bundle.Manifest.Architecture.EmbeddingDim;

    /// <summary>Samples of the window each clip is captioned from (its first window, zero-padded).</summary>
    public int WindowSamples => _bundle.WindowSamples;

    public int SampleRate => _bundle.Manifest.SampleRate;

    /// <summary>Whether <see cref="TokenDistributions"/> can run (TorchSharp weights available).</summary>
    public bool HasTokenDistributions => _checkpointDirectory is not null;

    /// <summary>The teacher's training record (method, size, metrics...); empty when it has none.</summary>
    public JsonObject Training { get; }

    /// <summary>Parameters of the teacher (encoder, decoder, total).</summary>
    public BundleParameters Parameters => _bundle.Manifest.Parameters;

    /// <summary>The bundle the teacher runs on (exported for a checkpoint teacher).</summary>
    public string BundleDirectory => _bundle.Directory;

    /// <summary>
    /// Opens <paramref name="directory"/>: a bundle (<c>manifest.json</c>), a checkpoint (<c>config.json</c>) or a
    /// <c>train</c> run folder (its <c>best/</c>). A checkpoint is exported with a window of
    /// <paramref name="windowSeconds"/> to <c>teacher-bundle-&lt;identity&gt;</c> under
    /// <paramref name="workDirectory"/> unless that export exists already.
    /// </summary>
    /// <exception cref="ArgumentException">The folder is none of these.</exception>
    public static CaptionTeacher Open(string directory, double windowSeconds, string workDirectory, int threads, Action<string>? progress = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentException.ThrowIfNullOrEmpty(workDirectory);
        var source = Path.GetFullPath(directory);
        var captionerOptions = new CaptionerOptions { IntraOpThreads = threads };
        if (File.Exists(Path.Combine(source, BundleManifest.FileName)))
        {
            var bundle = CaptionBundle.Load(source, captionerOptions);
            try
            {
                var manifest = bundle.Manifest;
                var identity = Hash(manifest.Graphs.Encoder.Sha256, manifest.Graphs.CrossKv.Sha256, manifest.Graphs.DecoderStep.Sha256, manifest.Vocab.Sha256);
                var checkpoint = Path.Combine(source, BundleExporter.CheckpointDirectoryName);
                return new CaptionTeacher(
                    source, "bundle", identity, bundle, File.Exists(Path.Combine(checkpoint, CaptionModel.ConfigFileName)) ? checkpoint : null, manifest.Training, threads);
            }
            catch
            {
                bundle.Dispose();
                throw;
            }
        }

        var checkpointDirectory = File.Exists(Path.Combine(source, CaptionModel.ConfigFileName))
            ? source
            : Path.Combine(source, CaptionTrainer.BestDirectoryName);
        if (!File.Exists(Path.Combine(checkpointDirectory, CaptionModel.ConfigFileName)))
        {
            throw new ArgumentException(
                $"--teacher {source} is neither a caption bundle ({BundleManifest.FileName}), a checkpoint ({CaptionModel.ConfigFileName}) nor a training run with {CaptionTrainer.BestDirectoryName}/.");
        }

        var checkpointIdentity = HashFiles(
            Path.Combine(checkpointDirectory, CaptionModel.WeightsFileName),
            Path.Combine(checkpointDirectory, CaptionModel.ConfigFileName),
            Path.Combine(checkpointDirectory, CaptionModel.VocabFileName));
        var training = File.Exists(Path.Combine(checkpointDirectory, TrainingRecord.FileName))
            ? JsonNode.Parse(File.ReadAllText(Path.Combine(checkpointDirectory, TrainingRecord.FileName)))?.AsObject() ?? []
            : [];
        var exported = Path.Combine(Path.GetFullPath(workDirectory), "teacher-bundle-" + checkpointIdentity[..16]);
        if (!File.Exists(Path.Combine(exported, BundleManifest.FileName)))
        {
            progress?.Invoke($"exporting the teacher checkpoint {checkpointDirectory} to {exported} for beam search through the inference library");
            using var model = CaptionModel.LoadCheckpoint(checkpointDirectory);
            BundleExporter.Export(
                model,
                Path.Combine(checkpointDirectory, CaptionModel.VocabFileName),
                noticePath: null,
                exported,
                new BundleExportOptions { Name = "teacher-" + checkpointIdentity[..16], WindowSeconds = windowSeconds, Training = (JsonObject)training.DeepClone(), Overwrite = true });
        }

        var exportedBundle = CaptionBundle.Load(exported, captionerOptions);
        try
        {
            return new CaptionTeacher(checkpointDirectory, "checkpoint", checkpointIdentity, exportedBundle, checkpointDirectory, training, threads);
        }
        catch
        {
            exportedBundle.Dispose();
            throw;
        }
    }

    /// <summary>Beam-search captions (word ids, no &lt;start&gt;/&lt;end&gt;) of <paramref name="count"/> windows of <see cref="WindowSamples"/>.</summary>
    public int[][] Caption(float[] windows, int count, int beam, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(windows);
        var results = _captioner.Caption(windows.AsSpan(0, count * WindowSamples), count, new DecodeOptions { Beam = beam }, cancellationToken);
        return results.Select(r => r.TokenIds.ToArray()).ToArray();
    }

    /// <summary>
    /// Pooled audio embeddings <c>[count, EmbeddingDim]</c> (row-major) from the bundle's encoder graph; with
    /// <paramref name="frames"/> its output sequence instead, <c>[count, frames x d_model]</c>.
    /// </summary>
    public float[] Embed(float[] windows, int count, bool frames = false)
    {
        ArgumentNullException.ThrowIfNull(windows);
        var samples = new float[count * WindowSamples];
        Array.Copy(windows, samples, samples.Length);
        using var input = OrtValue.CreateTensorValueFromMemory(samples, [count, WindowSamples]);
        using var outputs = _encoder.Run(_runOptions, ["audio"], [input], [frames ? "memory" : "embedding"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    /// <summary>
    /// The teacher's next-token distribution at every step of its own captions, teacher-forced on
    /// <c>&lt;start&gt; caption</c>: for window i, (caption length + 1) steps (the last predicts &lt;end&gt;), each the
    /// <paramref name="topK"/> most probable token ids and their probabilities (not renormalised). Row-major
    /// <c>[steps, topK]</c> per window.
    /// </summary>
    /// <exception cref="InvalidOperationException">The teacher has no TorchSharp weights (<see cref="HasTokenDistributions"/>).</exception>
    public (int[] Ids, float[] Probabilities)[] TokenDistributions(float[] windows, int count, int[][] captions, int topK)
    {
        ArgumentNullException.ThrowIfNull(windows);
        ArgumentNullException.ThrowIfNull(captions);
        if (_checkpointDirectory is null)
        {
            throw new InvalidOperationException($"Token-level distillation needs the teacher's TorchSharp weights; {Source} has no {BundleExporter.CheckpointDirectoryName}/ folder.");
        }

        _checkpoint ??= CaptionModel.LoadCheckpoint(_checkpointDirectory);
        _checkpoint.eval();
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var length = captions.Max(c => c.Length) + 1;
        var inputs = new long[count * length];
        for (var i = 0; i < count; i++)
        {
            inputs[i * length] = Text.Vocabulary.Start;
            for (var j = 0; j < captions[i].Length; j++)
            {
                inputs[(i * length) + j + 1] = captions[i][j];
            }
        }

        var audio = tensor(windows.AsSpan(0, count * WindowSamples).ToArray(), [count, WindowSamples]);
        var probabilities = nn.functional.softmax(_checkpoint.forward(audio, tensor(inputs, [count, length])), -1);
        var (values, indices) = probabilities.topk(topK, dim: -1);
        var topValues = values.data<float>().ToArray();
        var topIds = indices.data<long>().ToArray();
        var result = new (int[] Ids, float[] Probabilities)[count];
        for (var i = 0; i < count; i++)
        {
            var steps = captions[i].Length + 1;
            var ids = new int[steps * topK];
            var probs = new float[steps * topK];
            for (var s = 0; s < steps * topK; s++)
            {
                ids[s] = (int)topIds[(i * length * topK) + s];
                probs[s] = topValues[(i * length * topK) + s];
            }

            result[i] = (ids, probs);
        }

        return result;
    }

    /// <summary>What the training record says about the teacher: kind, folder, identity, name, size and test metrics.</summary>
    public JsonObject Describe()
    {
        var description = new JsonObject
        {
            ["kind"] = Kind,
            ["path"] = Source,
            ["identity"] = Identity,
            ["name"] = _bundle.Manifest.Name,
            ["params"] = Parameters.Total,
        };
        foreach (var key in new[] { "method", "size", "data" })
        {
            if (Training[key] is { } value)
            {
                description[key] = value.DeepClone();
            }
        }

        description["metrics"] = Training["metrics"]?.DeepClone();
        return description;
    }

    public void Dispose()
    {
        _checkpoint?.Dispose();
        _encoder.Dispose();
        _runOptions.Dispose();
        _captioner.Dispose();
        _bundle.Dispose();
    }

    private static string Hash(params string[] parts) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', parts))));

    private static string HashFiles(params string[] paths)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var path in paths)
        {
            using var stream = File.OpenRead(path);
            hash.AppendData(SHA256.HashData(stream));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
