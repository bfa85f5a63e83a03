using System.Text.Json.Nodes;
using CaptionDaemon.Training.Export;
using CaptionDaemon.Training.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace CaptionDaemon.Inference.Tests.Fixtures;

[CollectionDefinition(Name)]
public sealed class ExportedBundleCollection : ICollectionFixture<ExportedBundleFixture>
{
    public const string Name = "exported bundle";
}

/// <summary>
/// A small random-initialised <see cref="CaptionModel"/> exported once per test run by the trainer's real exporter
/// into a temporary folder, loaded on the CPU, with a shared captioner (tests of the collection run one at a time).
/// </summary>
public sealed class ExportedBundleFixture : IDisposable
{
    private readonly ExportedBundle _exported;

    public ExportedBundleFixture()
    {
        var config = new CaptionModelConfig
        {
            VocabSize = 40,
            EncoderChannels = [8, 16],
            DModel = 64,
            Heads = 4,
            DecoderLayers = 2,
            FeedForward = 128,
            MaxTokens = 32,
        };
        _exported = Export(config, windowSeconds: 1.0, seed: 42);
        Bundle = CaptionBundle.Load(_exported.Directory, new CaptionerOptions { ExecutionProvider = ExecutionProviderPreference.Cpu, IntraOpThreads = 1 });
        Captioner = Bundle.CreateCaptioner();
    }

    public string Directory => _exported.Directory;

    internal CaptionModel Model => _exported.Model;

    public IReadOnlyList<string> Vocabulary => _exported.Vocabulary;

    public CaptionBundle Bundle { get; }

    public Captioner Captioner { get; }

    public int WindowSamples => Bundle.WindowSamples;

    public int SampleRate => Bundle.Manifest.SampleRate;

    /// <summary>A writable copy of the bundle for a test that corrupts it.</summary>
    public TemporaryDirectory Copy() => _exported.Copy();

    /// <summary>Held while a model is built here from a seed, and wherever else this assembly builds a model (which draws from the global generator).</summary>
    internal static readonly Lock SeedLock = new();

    /// <summary>Exports a random-initialised model of <paramref name="config"/> with a made-up vocabulary.</summary>
    internal static ExportedBundle Export(CaptionModelConfig config, double windowSeconds, int seed)
    {
        // The seed and the draws of the initialisation go through TorchSharp's one global generator, and xUnit builds the
        // collections' fixtures in parallel: unguarded, two fixtures interleave their draws and get other weights on
        // each run (once weights under which three windows decoded alike, failing CaptionerTests).
        CaptionModel model;
        lock (SeedLock)
        {
            random.manual_seed(seed);
            model = new CaptionModel(config);
        }

        model.eval();

        // At random initialisation the tied token embedding dominates the residual stream, so every window decodes to
        // the same words and a parity test would compare nothing. Amplifying cross-attention makes captions depend on
        // the audio (the graphs and the decoding are unchanged).
        using (no_grad())
        using (var gain = 30.ToScalar()) // held, not a temporary (see HeldScalars in the trainer)
        {
            foreach (var layer in model.Decoder.Layers)
            {
                layer.CrossAttention.Output.weight!.mul_(gain);
            }

            // Likewise a random tagger's logits are all within a few thousandths of 0 (every probability 0.50); amplified,
            // the probabilities spread over (0, 1) and differ between windows, so comparing them compares something.
            using var taggerGain = 300.ToScalar();
            model.Tagger?.Classifier.weight!.mul_(taggerGain);
        }
        string[] words = ["a", "dog", "barks", "while", "rain", "falls", "car", "passes", "by", "people", "talk", "bird", "sings", "door", "closes"];
        var vocabulary = new List<string> { "<pad>", "<start>", "<end>", "<unk>" };
        for (var i = 0; vocabulary.Count < config.VocabSize; i++)
        {
            vocabulary.Add(i < words.Length ? words[i] : $"word{i}");
        }

        var directory = new TemporaryDirectory();
        try
        {
            using var vocabFolder = new TemporaryDirectory();
            var vocabPath = Path.Combine(vocabFolder.Path, "vocab.json");
            File.WriteAllText(vocabPath, new JsonObject { ["tokens"] = new JsonArray([.. vocabulary.Select(t => (JsonNode)t)]) }.ToJsonString());
            BundleExporter.Export(model, vocabPath, noticePath: null, directory.Path, new BundleExportOptions
            {
                Name = $"test-random-{seed}",
                WindowSeconds = windowSeconds,
                Training = new JsonObject { ["method"] = "random initialisation (inference tests)" },
            });
            return new ExportedBundle(directory, model, vocabulary);
        }
        catch
        {
            directory.Dispose();
            model.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Captioner.Dispose();
        Bundle.Dispose();
        _exported.Dispose();
    }
}

/// <summary>An exported bundle folder with the model it came from; deleting the folder on dispose.</summary>
internal sealed class ExportedBundle(TemporaryDirectory directory, CaptionModel model, IReadOnlyList<string> vocabulary) : IDisposable
{
    public string Directory => directory.Path;

    public CaptionModel Model => model;

    public IReadOnlyList<string> Vocabulary => vocabulary;

    /// <summary>A writable copy of the bundle's files (not its checkpoint/) for a test that corrupts it.</summary>
    public TemporaryDirectory Copy()
    {
        var copy = new TemporaryDirectory();
        foreach (var file in System.IO.Directory.GetFiles(Directory))
        {
            File.Copy(file, System.IO.Path.Combine(copy.Path, System.IO.Path.GetFileName(file)));
        }

        return copy;
    }

    public void Dispose()
    {
        model.Dispose();
        directory.Dispose();
    }
}

public sealed class TemporaryDirectory : IDisposable
{
    public TemporaryDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "captiond-inference-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder must not fail a test; the OS cleans /tmp.
        }
    }
}
