using CaptionDaemon.Training.Evaluation;
using CaptionDaemon.Training.Tagging;

namespace CaptionDaemon.Training.Tests.Tagging;

public sealed class QuietWindowsTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "captiond-quiet-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public void Fill_ManyWindows_AreSilenceQuietOrASteadyToneAndUseTheBackgroundRecording()
    {
        // A loud background recording (a 300 Hz tone at about -9 dBFS): the windows that play it must bring it down to -70..-50 dBFS.
        Directory.CreateDirectory(_root);
        var path = Path.Combine(_root, "rain.wav");
        var tone = Enumerable.Range(0, 32000).Select(n => 0.5f * MathF.Sin(2 * MathF.PI * 300 * n / 16000)).ToArray();
        CaptionDaemon.Training.Data.WavFile.Write(path, tone, 16000, CancellationToken.None);
        var quiet = new QuietWindows([new TaggedRecording("r", path, "rain", 0)], 16000);
        var rng = new Random(5);
        var levels = new List<double>();
        var silent = 0;
        var backgrounds = 0;
        var window = new float[16000];
        for (var i = 0; i < 200; i++)
        {
            quiet.Fill(window, rng);
            var level = QuietClips.RmsDb(window);
            if (double.IsNegativeInfinity(level))
            {
                silent++;
            }
            else
            {
                levels.Add(level);
                if (ToneShare(window, 300) > 0.9)
                {
                    backgrounds++;
                    Assert.InRange(level, -70.01, -49.99);
                }
            }
        }

        Assert.InRange(silent, 20, 60);
        Assert.All(levels, l => Assert.InRange(l, -91, -14.99));
        Assert.InRange(levels.Count(l => l > -37), 10, 60);     // above the loudest hum: only the steady tones
        Assert.Contains(levels, l => l > -70 && l < -50);
        Assert.InRange(backgrounds, 55, 105);
        Assert.True(levels.Count(l => l < -70) > 10, "faint noise and hum below -70 dBFS occur too");
    }

    /// <summary>The share of the window's energy at <paramref name="frequency"/> (a 1-second window: one DFT bin).</summary>
    private static double ToneShare(float[] window, double frequency)
    {
        double re = 0, im = 0, total = 0;
        for (var n = 0; n < window.Length; n++)
        {
            var angle = 2 * Math.PI * frequency * n / 16000;
            re += window[n] * Math.Cos(angle);
            im += window[n] * Math.Sin(angle);
            total += (double)window[n] * window[n];
        }

        return 2 * ((re * re) + (im * im)) / window.Length / total;
    }
}
