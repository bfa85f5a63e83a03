using CaptionDaemon.Training.Data;

namespace CaptionDaemon.Training.Tests.Data;

public sealed class AudioDecoderTests : IDisposable
{
    private readonly TestFiles _files = new();

    [Fact]
    public void Decode_StereoAt44100WithOneSilentChannel_ReturnsMonoAverageAt16k()
    {
        // Left: a 1/8-amplitude sine; right: silence. A true downmix halves the amplitude; taking one channel would not.
        var path = _files.Ffmpeg(
            "stereo.flac",
            "-filter_complex", "sine=frequency=440:sample_rate=44100:duration=1.5[l];anullsrc=r=44100:cl=mono,atrim=duration=1.5[r];[l][r]amerge=inputs=2[out]",
            "-map", "[out]");

        var samples = AudioDecoder.Decode(path, 16000, CancellationToken.None);

        Assert.InRange(samples.Length, 24000 - 16, 24000 + 16);
        var peak = samples.Max(MathF.Abs);
        Assert.InRange(peak, 0.0625f * 0.9f, 0.0625f * 1.1f);
    }

    [Fact]
    public void Decode_HeaderlessAuAndSunAu_BothDecodeAsTheSameMuLawSignal()
    {
        // saytime's files: raw 8 kHz mono mu-law with a .au name and no ".snd" header, which ffmpeg cannot probe.
        var raw = _files.Ffmpeg("raw.ulaw", "-f", "lavfi", "-i", "sine=frequency=500:sample_rate=8000:duration=1", "-f", "mulaw");
        var headerless = _files.PathOf("word.au");
        File.Move(raw, headerless);
        var sun = _files.Ffmpeg("sun.au", "-f", "lavfi", "-i", "sine=frequency=500:sample_rate=8000:duration=1", "-c:a", "pcm_mulaw");

        var fromHeaderless = AudioDecoder.Decode(headerless, 16000, CancellationToken.None);
        var fromSun = AudioDecoder.Decode(sun, 16000, CancellationToken.None);
        var many = AudioDecoder.DecodeMany([headerless, sun], 16000, _files.Root, CancellationToken.None);

        Assert.Equal(["-f", "mulaw", "-ar", "8000", "-ac", "1"], AudioDecoder.InputOptions(headerless));
        Assert.Empty(AudioDecoder.InputOptions(sun));
        Assert.InRange(fromHeaderless.Length, 16000 - 16, 16000 + 16);
        Assert.InRange(fromHeaderless.Max(MathF.Abs), 0.125f * 0.9f, 0.125f * 1.1f);
        Assert.Equal(fromSun.Length, fromHeaderless.Length);
        Assert.Equal(fromHeaderless, many[0].Samples);
        Assert.Equal(fromSun, many[1].Samples);
    }

    [Fact]
    public void Decode_SixChannelsWithSignalInOne_ReturnsMeanOfChannels()
    {
        var path = _files.Ffmpeg(
            "surround.wav",
            "-filter_complex",
            "sine=frequency=300:sample_rate=48000:duration=1[s];anullsrc=r=48000:cl=5.0,atrim=duration=1[z];[s][z]amerge=inputs=2[out]",
            "-map", "[out]");

        var samples = AudioDecoder.Decode(path, 16000, CancellationToken.None);

        Assert.InRange(samples.Length, 16000 - 16, 16000 + 16);
        Assert.InRange(samples.Max(MathF.Abs), 0.125f / 6 * 0.9f, 0.125f / 6 * 1.1f);
    }

    [Fact]
    public void Decode_At8kTo22050_ReturnsLengthAtRequestedRate()
    {
        var path = _files.Sine("tone.ogg", 2.0, sampleRate: 8000);

        var samples = AudioDecoder.Decode(path, 22050, CancellationToken.None);

        // Vorbis may pad the last packet by a few milliseconds.
        Assert.InRange(samples.Length, 44100 - 50, 44100 + 400);
        Assert.All(samples, s => Assert.InRange(s, -1f, 1f));
    }

    [Fact]
    public void Decode_LongFile_ReadsPastTheFirstBuffer()
    {
        var path = _files.Sine("long.wav", 9.0, sampleRate: 48000);

        var samples = AudioDecoder.Decode(path, 16000, CancellationToken.None);

        Assert.Equal(144000, samples.Length);
        Assert.InRange(samples[^100..].Max(MathF.Abs), 0.1f, 0.13f);
    }

    [Fact]
    public void Decode_TruncatedFlac_ThrowsAudioDecodeExceptionNamingFile()
    {
        var whole = _files.Sine("whole.flac", 3.0, sampleRate: 44100, frequency: 1000);
        var bytes = File.ReadAllBytes(whole);
        var truncated = _files.PathOf("truncated.flac");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);

        var ex = Assert.Throws<AudioDecodeException>(() => AudioDecoder.Decode(truncated, 16000, CancellationToken.None));

        Assert.Contains(truncated, ex.Message, StringComparison.Ordinal);
        Assert.Equal(truncated, ex.FilePath);
        Assert.False(string.IsNullOrWhiteSpace(ex.Reason));
    }

    [Fact]
    public void Decode_GarbageBytes_ThrowsWithFfmpegMessage()
    {
        var path = _files.PathOf("garbage.wav");
        File.WriteAllBytes(path, Enumerable.Range(0, 4096).Select(i => (byte)(i * 7919 % 251)).ToArray());

        var ex = Assert.Throws<AudioDecodeException>(() => AudioDecoder.Decode(path, 16000, CancellationToken.None));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("Invalid data", ex.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_MissingFile_ThrowsNamingFile()
    {
        var path = _files.PathOf("absent.wav");

        var ex = Assert.Throws<AudioDecodeException>(() => AudioDecoder.Decode(path, 16000, CancellationToken.None));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decode_CancelledToken_ThrowsOperationCanceled()
    {
        var path = _files.Sine("tone.wav", 1.0);
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => AudioDecoder.Decode(path, 16000, cancellation.Token));
    }

    public void Dispose() => _files.Dispose();
}
