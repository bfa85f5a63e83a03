using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Training.Models;
using static TorchSharp.torch;

namespace CaptionDaemon.Inference.Tests.Fixtures;

[CollectionDefinition(Name)]
public sealed class LabelledBundleCollection : ICollectionFixture<LabelledBundleFixture>
{
    public const string Name = "labelled bundle";
}

/// <summary>
/// A small random-initialised <see cref="CaptionModel"/> on a tagging encoder (labels, <c>label_probs</c>), exported
/// once per test run by the trainer's real exporter and loaded on the CPU, with a shared captioner.
/// </summary>
/// <remarks>
/// The thresholds are set from the model's own probabilities on <see cref="Audio"/>: each label's median over the
/// windows, so that every label is reported in some windows and not in others, and <c>nothing</c> far below all of
/// them, so that it would be reported in every window if it were not excluded. Tests that check which labels are
/// reported can then fail either way.
/// </remarks>
public sealed class LabelledBundleFixture : IDisposable
{
    /// <summary>The labels, <c>nothing</c> in the middle so that its exclusion is not an accident of position.</summary>
    public static readonly IReadOnlyList<string> LabelNames = ["dog", "speech", "nothing", "rain", "music"];

    /// <summary>Windows of <see cref="Audio"/>.</summary>
    public const int Windows = 8;

    private readonly ExportedBundle _exported;

    public LabelledBundleFixture()
    {
        var tagger = TaggingEncoderConfig.Named("small", LabelNames) with
        {
            StemChannels = 4,
            Stages = [new(8, 1, 2, true), new(12, 2, 2, true), new(12, 1, 3, false)],
            HeadChannels = 24,
            DModel = 32,
        };
        var config = CaptionModelConfig.OnTagger(tagger, vocabSize: 40) with { DecoderLayers = 1, Heads = 2, FeedForward = 64, MaxTokens = 16 };
        _exported = ExportedBundleFixture.Export(config, windowSeconds: 1.0, seed: 17);
        try
        {
            var manifestPath = Path.Combine(_exported.Directory, BundleManifest.FileName);
            var manifest = BundleManifest.Read(manifestPath);
            var samples = manifest.WindowSamples;
            Audio = TestAudio.Windows(Windows, samples, manifest.SampleRate, seed: 31);
            TorchProbabilities = EncodeWithLabels(_exported.Model, Audio, Windows, samples);
            manifest = manifest with { Labels = Labels(manifest, TorchProbabilities) };
            manifest.Write(manifestPath);
            Bundle = CaptionBundle.Load(_exported.Directory, new CaptionerOptions { ExecutionProvider = ExecutionProviderPreference.Cpu, IntraOpThreads = 1 });
            Captioner = Bundle.CreateCaptioner();
        }
        catch
        {
            Bundle?.Dispose();
            _exported.Dispose();
            throw;
        }
    }

    public string Directory => _exported.Directory;

    internal CaptionModel Model => _exported.Model;

    public CaptionBundle Bundle { get; }

    public Captioner Captioner { get; }

    public int WindowSamples => Bundle.WindowSamples;

    /// <summary><see cref="Windows"/> windows of test audio (tone, noise, clicks, chirp).</summary>
    public float[] Audio { get; }

    /// <summary>The TorchSharp model's <c>EncodeWithLabels</c> probabilities of <see cref="Audio"/>, [window][label].</summary>
    public float[][] TorchProbabilities { get; }

    /// <summary>A writable copy of the bundle for a test that corrupts it.</summary>
    public TemporaryDirectory Copy() => _exported.Copy();

    /// <summary>The label probabilities of <paramref name="count"/> windows by the TorchSharp model, [window][label].</summary>
    internal static float[][] EncodeWithLabels(CaptionModel model, float[] audio, int count, int samples)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (_, _, probabilities) = model.EncodeWithLabels(tensor(audio, [count, samples]));
        var labels = (int)probabilities.shape[1];
        var flat = probabilities.data<float>().ToArray();
        return [.. Enumerable.Range(0, count).Select(w => flat.AsSpan(w * labels, labels).ToArray())];
    }

    public void Dispose()
    {
        Captioner.Dispose();
        Bundle.Dispose();
        _exported.Dispose();
    }

    private static List<BundleLabel> Labels(BundleManifest exported, float[][] probabilities)
    {
        // The exporter's labels when it writes them (names in the model's order), else the names of the model.
        var names = exported.Labels.Count > 0 ? [.. exported.Labels.Select(l => l.Name)] : LabelNames.ToList();
        Assert.Equal(LabelNames, names);
        var labels = new List<BundleLabel>();
        for (var i = 0; i < names.Count; i++)
        {
            var column = probabilities.Select(p => (double)p[i]).Order().ToArray();
            var threshold = names[i] == BundleLabel.Nothing
                ? column[0] / 2
                : (column[(column.Length / 2) - 1] + column[column.Length / 2]) / 2;
            labels.Add(new BundleLabel
            {
                Name = names[i],
                Display = char.ToUpperInvariant(names[i][0]) + names[i][1..],
                Threshold = Math.Clamp(threshold, 1e-6, 1 - 1e-6),
            });
        }

        return labels;
    }
}
