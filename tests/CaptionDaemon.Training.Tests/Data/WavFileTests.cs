using CaptionDaemon.Training.Data;

namespace CaptionDaemon.Training.Tests.Data;

public sealed class WavFileTests : IDisposable
{
    private readonly TestFiles _files = new();

    [Fact]
    public void Write_RampThroughFfmpeg_DecodesToSameSamples()
    {
        var samples = Enumerable.Range(0, 16000).Select(i => MathF.Sin(i * 0.01f) * 0.8f).ToArray();
        samples[10] = 1.7f; // clipped to full scale
        samples[11] = -3f;
        var path = _files.PathOf("ramp.wav");

        WavFile.Write(path, samples, 16000, CancellationToken.None);
        var decoded = AudioDecoder.Decode(path, 16000, CancellationToken.None);

        Assert.Equal(samples.Length, decoded.Length);
        Assert.Equal(1f, decoded[10], 3);
        Assert.Equal(-1f, decoded[11], 3);
        for (var i = 12; i < samples.Length; i++)
        {
            Assert.True(MathF.Abs(samples[i] - decoded[i]) < 1.5f / 32767, $"sample {i}: {samples[i]} vs {decoded[i]}");
        }
    }

    [Fact]
    public void ReadInfo_WrittenFile_ReportsMono16BitAndLength()
    {
        var path = _files.PathOf("info.wav");
        WavFile.Write(path, new float[12345], 16000, CancellationToken.None);

        var info = WavFile.ReadInfo(path);

        Assert.Equal(new WavInfo(16000, 1, 16, 12345), info);
        Assert.Equal(44 + (12345 * 2), new FileInfo(path).Length);
        Assert.False(File.Exists(path + ".partial"));
    }

    [Fact]
    public void ReadInfo_NotWav_ThrowsNamingFile()
    {
        var path = _files.PathOf("text.wav");
        File.WriteAllText(path, "this is not a RIFF file at all");

        var ex = Assert.Throws<InvalidDataException>(() => WavFile.ReadInfo(path));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _files.Dispose();
}
