using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Tests.Data;
using CaptionDaemon.Training.Text;
using CaptionDaemon.Training.Training;

namespace CaptionDaemon.Training.Tests.Training;

public sealed class ClipSetTests
{
    [Fact]
    public void CopyWindow_LongerAndShorterClips_CropsAtStartOrRandomlyAndZeroPads()
    {
        using var files = new TestFiles();
        // Noise rather than a tone, so that a window's position in the clip is unique.
        var longer = files.Ffmpeg("long.wav", "-f", "lavfi", "-i", "anoisesrc=color=white:amplitude=0.5:sample_rate=16000:duration=3:seed=5");
        var shorter = files.Sine("short.wav", 1, frequency: 660);
        var vocabulary = Vocabulary.Build(["a tone"], minCount: 1);
        var set = ClipSet.Load(
            [new CaptionedClip("long", longer, ["a tone"]), new CaptionedClip("short", shorter, ["a tone a tone a tone"])],
            vocabulary, maxWords: 4, threads: 2, CancellationToken.None);
        var decoded = AudioDecoder.Decode(longer);
        var window = new float[32000];

        set.CopyWindow(0, window, random: null);
        Assert.Equal(decoded[..32000], window, (a, b) => Math.Abs(a - b) <= 1f / 32768);

        // A random crop is a contiguous stretch of the clip starting somewhere after its start.
        var random = new Random(3);
        var starts = new HashSet<int>();
        for (var trial = 0; trial < 5; trial++)
        {
            set.CopyWindow(0, window, random);
            var start = Enumerable.Range(0, decoded.Length - window.Length + 1)
                .First(s => Enumerable.Range(0, 8).All(k => Math.Abs(decoded[s + k] - window[k]) <= 1f / 32768));
            Assert.Equal(decoded.AsSpan(start, window.Length).ToArray(), window, (a, b) => Math.Abs(a - b) <= 1f / 32768);
            starts.Add(start);
        }

        Assert.True(starts.Count > 1, "random crops start at different places");
        window.AsSpan().Fill(1f);
        set.CopyWindow(1, window, random);
        Assert.True(window.AsSpan(0, 16000).ContainsAnyExcept(0f));
        Assert.False(window.AsSpan(16000).ContainsAnyExcept(0f));
        Assert.Equal([4, 5, 4, 5], set.CaptionIds[1][0]);
    }

    [Fact]
    public void Load_UndecodableFile_ThrowsAudioDecodeExceptionNamingIt()
    {
        using var files = new TestFiles();
        var good = files.Sine("good.wav", 1);
        var bad = files.PathOf("bad.wav");
        File.WriteAllText(bad, "not audio");

        var error = Assert.Throws<AudioDecodeException>(() => ClipSet.Load(
            [new CaptionedClip("good", good, ["a"]), new CaptionedClip("bad", bad, ["a"])],
            Vocabulary.Build(["a"], minCount: 1), maxWords: 4, threads: 2, CancellationToken.None));

        Assert.Contains(bad, error.Message, StringComparison.Ordinal);
    }
}
