using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Inference.Tests.Fixtures;
using CaptionDaemon.Training.Export;
using CaptionDaemon.Training.Models;

namespace CaptionDaemon.Inference.Tests.Labels;

/// <summary>
/// <c>tests/data/labelled-bundle</c>: <see cref="LabelledBundleFixture"/>'s bundle (with its <c>checkpoint/</c>),
/// committed for the daemon's tests, which run the <c>captiond</c> binary and do not reference the trainer.
/// </summary>
[Collection(LabelledBundleCollection.Name)]
public sealed class LabelledTestDataTests(LabelledBundleFixture fixture)
{
    /// <summary>Set to 1 to rewrite tests/data/labelled-bundle from the fixture (after a change of the exporter or the format).</summary>
    private const string UpdateVariable = "CAPTIOND_UPDATE_TEST_DATA";

    [Fact]
    public void CommittedLabelledBundle_IsWhatTheExporterWritesFromItsCheckpoint()
    {
        var committed = Path.Combine(RepositoryRoot(), "tests", "data", "labelled-bundle");
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            Rewrite(fixture.Directory, committed);
        }

        var manifest = LoadAndCheck(committed);

        // The committed graphs are what today's exporter writes from the committed weights.
        // Building the model draws its (then overwritten) initial weights from the global generator: not while a fixture seeds it.
        CaptionModel loaded;
        lock (ExportedBundleFixture.SeedLock)
        {
            loaded = CaptionModel.LoadCheckpoint(Path.Combine(committed, BundleExporter.CheckpointDirectoryName));
        }

        using var model = loaded;
        using var fresh = new TemporaryDirectory();
        var exported = BundleExporter.Export(model, Path.Combine(committed, manifest.Vocab.File), noticePath: null, Path.Combine(fresh.Path, "bundle"), new BundleExportOptions
        {
            Name = manifest.Name,
            WindowSeconds = manifest.WindowSeconds,
            MaxCaptionTokens = manifest.MaxCaptionTokens,
        });
        var stale = $"tests/data/labelled-bundle is stale: the exporter now writes other graphs from its checkpoint. Rewrite it: {UpdateVariable}=1 dotnet test tests/CaptionDaemon.Inference.Tests --filter {nameof(LabelledTestDataTests)}";
        Assert.True(manifest.Graphs.Encoder.Sha256 == exported.Graphs.Encoder.Sha256, stale);
        Assert.True(manifest.Graphs.CrossKv.Sha256 == exported.Graphs.CrossKv.Sha256, stale);
        Assert.True(manifest.Graphs.DecoderStep.Sha256 == exported.Graphs.DecoderStep.Sha256, stale);
        Assert.True(manifest.Graphs.Encoder.Outputs.SequenceEqual(exported.Graphs.Encoder.Outputs), stale);
        Assert.Equal(LabelledBundleFixture.LabelNames, model.Config.Labels);
    }

    private static BundleManifest LoadAndCheck(string directory)
    {
        using var bundle = CaptionBundle.Load(directory, new CaptionerOptions { ExecutionProvider = ExecutionProviderPreference.Cpu, IntraOpThreads = 1 });
        Assert.Equal(LabelledBundleFixture.LabelNames, bundle.Manifest.Labels.Select(l => l.Name));
        return bundle.Manifest;
    }

    private static void Rewrite(string source, string target)
    {
        if (Directory.Exists(target))
        {
            Directory.Delete(target, recursive: true);
        }

        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination);
        }

        File.WriteAllText(Path.Combine(target, "README.md"), $"""
            # A small bundle with labels, for tests

            A random-initialised caption model on a tiny tagging encoder with the labels {string.Join(", ", LabelledBundleFixture.LabelNames)},
            exported by the trainer's exporter (`tests/CaptionDaemon.Inference.Tests/Fixtures/LabelledBundleFixture.cs`); its
            thresholds are each label's median probability on the fixture's test audio, `nothing`'s far below. Its captions
            and labels mean nothing: the daemon's tests use it to check that labels travel from the encoder to every output.
            `checkpoint/` holds the same weights for the trainer.

            `{nameof(LabelledTestDataTests)}` fails when today's exporter would write other graphs from `checkpoint/`; rewrite
            the folder with `{UpdateVariable}=1 dotnet test tests/CaptionDaemon.Inference.Tests --filter {nameof(LabelledTestDataTests)}`.

            """);
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "CaptionDaemon.sln")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No CaptionDaemon.sln above {AppContext.BaseDirectory}.");
    }
}
