using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Inference.Decoding;
using CaptionDaemon.Inference.Labels;
using CaptionDaemon.Inference.Tests.Fixtures;
using CaptionDaemon.Training.Data;

namespace CaptionDaemon.Inference.Tests.Labels;

/// <summary>The gate of taught labels' words: on hand-written probabilities, and on the incremental demo bundle.</summary>
public sealed class LabelGateTests
{
    private const int Vocab = 8; // 0 pad, 1 start, 2 end, 3 unk, 4..7 words

    private static BundleLabel Label(string name, bool gated) => new() { Name = name, Display = name, Threshold = 0.5, Gated = gated };

    [Fact]
    public void Apply_TwoWindows_ClosesAGatedWordWhereItsLabelIsNotReportedAndNeverAWordAnUngatedLabelLists()
    {
        // dog (ungated) lists 4 and 5; vacuum (gated) lists 5 and 6; kettle (gated) lists 7.
        var labels = new[] { Label("dog", gated: false), Label("vacuum", gated: true), Label("kettle", gated: true) };
        var gate = new LabelGate(labels, [[4, 5], [5, 6], [7]], new LabelSelector(labels));
        Assert.Equal([6, 7], gate.Tokens);

        // Window 0 reports vacuum; window 1 reports only kettle.
        gate.Prepare([0.1f, 0.9f, 0.2f, 0.1f, 0.3f, 0.8f], count: 2);
        var search = new BeamSearch(capacity: 4, maxLength: 6);
        search.Begin(2, 2, Vocab, startToken: 1, endToken: 2, 6, alpha: 1.0, new long[4], new long[4]);
        var logprobs = new float[4 * Vocab];

        gate.Apply(logprobs, Vocab, search);

        for (var row = 0; row < 4; row++)
        {
            var lp = logprobs.AsSpan(row * Vocab, Vocab).ToArray();
            var closed = row < 2 ? new[] { 7 } : [6];
            Assert.All(Enumerable.Range(0, Vocab), t => Assert.Equal(closed.Contains(t) ? float.NegativeInfinity : 0f, lp[t]));
        }
    }

    [Fact]
    public void Caption_DemoUpdate_NamesTheTaughtSoundOnlyWhereItsGatedLabelIsReported()
    {
        var scene = Path.Combine(RepositoryRoot(), "tests", "data", "incremental-demo", "vacuum-scene.wav");
        var copy = Directory.CreateTempSubdirectory("captiond-gate-").FullName;
        try
        {
            foreach (var file in Directory.GetFiles(Path.Combine(RepositoryRoot(), "tests", "data", "incremental-demo", "bundle")))
            {
                File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
            }

            string Caption()
            {
                using var bundle = CaptionBundle.Load(copy, new CaptionerOptions { ExecutionProvider = ExecutionProviderPreference.Cpu, IntraOpThreads = 1 });
                using var captioner = bundle.CreateCaptioner();
                var window = new float[bundle.WindowSamples];
                var audio = AudioDecoder.Decode(scene, bundle.Manifest.SampleRate);
                audio.AsSpan(0, Math.Min(audio.Length, window.Length)).CopyTo(window);
                return captioner.Caption(window, 1, null, CancellationToken.None)[0].Text;
            }

            static bool NamesTheTaughtSounds(string caption) => caption.Split(' ').Intersect(["vacuum", "cleaner", "kettle"]).Any();
            var gated = Caption();
            Assert.True(NamesTheTaughtSounds(gated), gated);

            // Out of reach of their labels (threshold near 1), the taught words are closed: the decoder says something else.
            void Thresholds(double threshold, bool gate) => ManifestEdits.Edit(copy, json =>
            {
                foreach (var label in json["labels"]!.AsArray().Where(l => l!["name"]!.GetValue<string>() is "vacuum" or "kettle"))
                {
                    label!["threshold"] = threshold;
                    label["gated"] = gate;
                }
            });
            Thresholds(0.99999, gate: true);
            var closed = Caption();
            Assert.False(NamesTheTaughtSounds(closed), closed);

            // The same labels ungated: the decoder names the sound again, so the gate did it.
            Thresholds(0.99999, gate: false);
            var open = Caption();
            Assert.True(NamesTheTaughtSounds(open), open);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
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
