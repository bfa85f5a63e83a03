using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Data.Scenes;
using CaptionDaemon.Training.Tagging;

namespace CaptionDaemon.Training.Tests.Tagging;

public sealed class SceneWindowsTests : IDisposable
{
    private const int Rate = 16000;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "captiond-scenewin-" + Guid.NewGuid().ToString("N"));

    public SceneWindowsTests() => Directory.CreateDirectory(_root);

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public void Fill_ManyWindows_PutTheEventAtSceneLevelsOverABackgroundOfAnotherCategory()
    {
        // Steady tones, so that a 10 ms frame's level is the sound's active level: a loud 3-second "dog" event (1 kHz at
        // about -3 dBFS RMS), a loud "rain" background (300 Hz) and a "dog" background that must never go under a dog.
        var dog = new TaggedRecording("dog", Tone("dog.wav", 1000, 3.0, 0.99f), "dog", 0);
        var rain = new TaggedRecording("rain", Tone("rain.wav", 300, 2.5, 0.9f), "rain", 1);
        var dogAmbience = new TaggedRecording("kennel", Tone("kennel.wav", 500, 2.5, 0.9f), "dog", 0);
        var scenes = new SceneWindows([rain, dogAmbience], Rate);
        var samples = WavFile.TryReadMono16(dog.Path, Rate)!;
        var rng = new Random(11);
        var window = new float[2 * Rate];
        var (withBackground, eventLengths) = (0, new List<int>());
        for (var i = 0; i < 300; i++)
        {
            var background = scenes.Fill(window, samples, dog, rng);

            Assert.True(window.All(s => Math.Abs(s) <= 1f), "no sample beyond full scale");
            var frames = SoundLibrary.FrameLevels(window, Rate / 100);
            var (loudest, quietest) = (frames.Max(), frames.Min());
            eventLengths.Add(frames.Count(f => f > loudest - 3));
            if (background is null)
            {
                // The event alone over at most a faint noise floor (-54 dBFS at most): -45..-12 dBFS.
                Assert.InRange(loudest, -45.5, -11.5);
                continue;
            }

            withBackground++;
            Assert.Equal(1, background);
            // The background fills the window at -45..-22 dBFS; the event sits -5..+25 dB over it (their sum is louder).
            Assert.InRange(quietest, -46, -21.5);
            Assert.InRange(loudest - quietest, 1.0, 25.2);
        }

        // Half the windows want a background; the dog one is never drawn under a dog (eight tries find the rain).
        Assert.InRange(withBackground, 120, 180);
        // The event: a crop of 1 s to the whole 2 s window.
        Assert.All(eventLengths, n => Assert.InRange(n, 98, 200));
        Assert.True(eventLengths.Count(n => n < 150) > 60 && eventLengths.Count(n => n > 150) > 60, "crop lengths spread over 1-2 s");
    }

    [Fact]
    public void Fill_ARecordingShorterThanASecond_IsPlacedWhole()
    {
        var click = new TaggedRecording("click", Tone("click.wav", 2000, 0.3, 0.5f), "click", 0);
        var scenes = new SceneWindows([], Rate);
        var window = new float[2 * Rate];

        var background = scenes.Fill(window, WavFile.TryReadMono16(click.Path, Rate)!, click, new Random(3));

        Assert.Null(background);
        var frames = SoundLibrary.FrameLevels(window, Rate / 100);
        Assert.InRange(frames.Count(f => f > frames.Max() - 3), 29, 31);
    }

    private string Tone(string name, double frequency, double seconds, float amplitude)
    {
        var path = Path.Combine(_root, name);
        var samples = Enumerable.Range(0, (int)(seconds * Rate)).Select(n => amplitude * MathF.Sin((float)(2 * Math.PI * frequency * n / Rate))).ToArray();
        WavFile.Write(path, samples, Rate, CancellationToken.None);
        return path;
    }
}
