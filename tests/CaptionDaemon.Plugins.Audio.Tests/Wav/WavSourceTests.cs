using System.Buffers.Binary;
using System.Diagnostics;
using CaptionDaemon.Contracts;
using CaptionDaemon.Plugins.Audio.Tests.TestSupport;

namespace CaptionDaemon.Plugins.Audio.Tests.Wav;

public sealed class WavSourceTests : IDisposable
{
    private static readonly TimeSpan _timeout = TimeSpan.FromSeconds(10);
    private readonly TestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Theory]
    [InlineData("pcm_u8", 44100, 2)]
    [InlineData("pcm_s16le", 48000, 2)]
    [InlineData("pcm_s24le", 44100, 2)]
    [InlineData("pcm_s32le", 48000, 2)]
    [InlineData("pcm_f32le", 44100, 2)]
    [InlineData("pcm_f64le", 48000, 2)]
    [InlineData("pcm_s16le", 16000, 3)]
    public async Task ReadAsync_FfmpegWrittenEncoding_MatchesFfmpegDecode(string codec, int rate, int channels)
    {
        // Two different scenes on the channels, so that a channel mix-up shows.
        var path = _files.PathOf($"{codec}.wav");
        await TestFiles.FfmpegAsync(
            "-i", TestFiles.Sample(1), "-i", TestFiles.Sample(2), "-filter_complex", "amerge=inputs=2",
            "-t", "1.5", "-ar", rate.ToString(), "-ac", channels.ToString(), "-c:a", codec, path);
        var expected = await TestFiles.FfmpegDecodeAsync(path);
        var status = new RecordingStatus();

        var source = Sources.Create("wav", Settings(path, ("ChunkMilliseconds", "37")), status: status);
        await using var reader = new ChunkReader(source);
        var samples = await reader.ReadToEndAsync(_timeout);

        Assert.Equal(new AudioFormat(rate, channels), source.Format);
        AssertSameSamples(expected, samples);
        Assert.Equal([SourceState.Online, SourceState.Offline], status.States);
    }

    [Theory]
    [InlineData(WavWriter.IeeeFloat, 32, "f32le", false)]
    [InlineData(WavWriter.IeeeFloat, 64, "f64le", false)]
    [InlineData(WavWriter.Pcm, 8, "u8", true)]
    [InlineData(WavWriter.Pcm, 16, "s16le", true)]
    [InlineData(WavWriter.Pcm, 24, "s24le", false)]
    [InlineData(WavWriter.Pcm, 32, "s32le", false)]
    public async Task ReadAsync_HeaderLayoutsFfmpegDoesNotWrite_MatchFfmpegDecode(ushort tag, int bits, string rawFormat, bool extensible)
    {
        var raw = await TestFiles.FfmpegAsync("-i", TestFiles.Sample(3), "-t", "1", "-ac", "2", "-ar", "22050", "-f", rawFormat, "pipe:1");
        var path = _files.PathOf("hand.wav");
        WavWriter.Write(path, tag, 2, 22050, bits, raw, extensible, oddChunks: true);
        var expected = await TestFiles.FfmpegDecodeAsync(path);

        var source = Sources.Create("wav", Settings(path));
        await using var reader = new ChunkReader(source);

        Assert.Equal(new AudioFormat(22050, 2), source.Format);
        AssertSameSamples(expected, await reader.ReadToEndAsync(_timeout));
    }

    [Fact]
    public async Task ReadAsync_StreamedWavWithUnknownSize_ReadsToEndOfFile()
    {
        // ffmpeg writing to a pipe cannot seek back, so it leaves the sizes at 0xFFFFFFFF.
        var bytes = await TestFiles.FfmpegAsync("-i", TestFiles.Sample(4), "-t", "2", "-f", "wav", "pipe:1");
        var sizeOffset = bytes.AsSpan().IndexOf("data"u8) + 4;
        Assert.Equal(uint.MaxValue, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(sizeOffset)));
        var expected = (await TestFiles.FfmpegDecodeAsync(TestFiles.Sample(4)))[..32000];

        foreach (var size in (uint[])[uint.MaxValue, 0])
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(sizeOffset), size);
            var path = _files.PathOf($"streamed-{size}.wav");
            await File.WriteAllBytesAsync(path, bytes);

            var source = Sources.Create("wav", Settings(path));
            await using var reader = new ChunkReader(source);
            AssertSameSamples(expected, await reader.ReadToEndAsync(_timeout));
        }
    }

    [Fact]
    public async Task ReadAsync_DataChunkBeforeFmtChunk_MatchesFfmpegDecode()
    {
        var raw = await TestFiles.FfmpegAsync("-i", TestFiles.Sample(2), "-t", "0.5", "-f", "s16le", "pipe:1");
        var path = _files.PathOf("data-first.wav");
        WavWriter.Write(path, WavWriter.Pcm, 1, 16000, 16, raw, dataBeforeFmt: true, oddChunks: true);
        var expected = await TestFiles.FfmpegDecodeAsync(TestFiles.Sample(2));

        var source = Sources.Create("wav", Settings(path));
        await using var reader = new ChunkReader(source);
        AssertSameSamples(expected[..8000], await reader.ReadToEndAsync(_timeout));
    }

    [Fact]
    public void Create_StreamedDataChunkBeforeFmtChunk_ThrowsInvalidData()
    {
        var path = _files.PathOf("streamed-data-first.wav");
        WavWriter.Write(path, WavWriter.Pcm, 1, 16000, 16, new byte[320], dataBeforeFmt: true, declaredDataSize: uint.MaxValue);

        var ex = Assert.Throws<InvalidDataException>(() => Sources.Create("wav", Settings(path)));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("byte offset 12", ex.Message, StringComparison.Ordinal);
        Assert.Contains("before any fmt chunk", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_Rf64File_MatchesFfmpegDecode()
    {
        var path = _files.PathOf("rf64.wav");
        await TestFiles.FfmpegAsync("-i", TestFiles.Sample(5), "-t", "1", "-c:a", "pcm_s24le", "-rf64", "always", path);
        Assert.Equal("RF64"u8.ToArray(), File.ReadAllBytes(path)[..4]);
        var expected = await TestFiles.FfmpegDecodeAsync(path);

        var source = Sources.Create("wav", Settings(path));
        await using var reader = new ChunkReader(source);
        AssertSameSamples(expected, await reader.ReadToEndAsync(_timeout));
    }

    [Fact]
    public async Task ReadAsync_TruncatedFile_DeliversEveryWholeFrameWarnsOnceAndEnds()
    {
        var whole = _files.PathOf("whole.wav");
        await TestFiles.FfmpegAsync("-i", TestFiles.Sample(1), "-i", TestFiles.Sample(2), "-filter_complex", "amerge=inputs=2", "-t", "1", "-c:a", "pcm_s16le", whole);
        var expected = await TestFiles.FfmpegDecodeAsync(whole);
        var bytes = await File.ReadAllBytesAsync(whole);
        var dataOffset = bytes.AsSpan().IndexOf("data"u8) + 8;
        // 1234 whole stereo frames and 3 bytes of the next one; the data chunk still declares 16000 frames.
        var truncated = _files.PathOf("truncated.wav");
        await File.WriteAllBytesAsync(truncated, bytes[..(dataOffset + (1234 * 4) + 3)]);
        var logger = new RecordingLogger();
        var status = new RecordingStatus();

        var source = Sources.Create("wav", Settings(truncated, ("Realtime", "false")), logger, status);
        await using var reader = new ChunkReader(source);
        var samples = await reader.ReadToEndAsync(_timeout);

        AssertSameSamples(expected[..(1234 * 2)], samples);
        var warning = Assert.Single(logger.Warnings);
        Assert.Contains(truncated, warning, StringComparison.Ordinal);
        Assert.Contains("64000", warning, StringComparison.Ordinal);
        Assert.Contains(((1234 * 4) + 3).ToString(), warning, StringComparison.Ordinal);
        Assert.Equal(SourceState.Offline, status.States[^1]);
    }

    [Fact]
    public async Task ReadAsync_TruncatedLoopingFile_LoopsTheFramesThatAreThereAndWarnsOnce()
    {
        var whole = _files.PathOf("whole.wav");
        await TestFiles.FfmpegAsync("-i", TestFiles.Sample(6), "-t", "1", "-c:a", "pcm_s16le", whole);
        var expected = await TestFiles.FfmpegDecodeAsync(whole);
        var bytes = await File.ReadAllBytesAsync(whole);
        var dataOffset = bytes.AsSpan().IndexOf("data"u8) + 8;
        var truncated = _files.PathOf("truncated.wav");
        await File.WriteAllBytesAsync(truncated, bytes[..(dataOffset + 2001)]);
        var logger = new RecordingLogger();

        var source = Sources.Create("wav", Settings(truncated, ("Loop", "true"), ("Realtime", "false")), logger);
        await using var reader = new ChunkReader(source);
        var samples = await reader.ReadSamplesAsync(3000, _timeout);

        AssertSameSamples([.. expected[..1000], .. expected[..1000], .. expected[..1000]], samples);
        Assert.Single(logger.Warnings);
    }

    [Fact]
    public async Task ReadAsync_Loop_StartsAgainFromTheFirstSample()
    {
        var path = _files.PathOf("short.wav");
        await TestFiles.FfmpegAsync("-i", TestFiles.Sample(7), "-t", "0.25", "-c:a", "pcm_s16le", path);
        var expected = await TestFiles.FfmpegDecodeAsync(path);
        Assert.Equal(4000, expected.Length);
        var status = new RecordingStatus();

        var source = Sources.Create("wav", Settings(path, ("Loop", "true"), ("Realtime", "false")), status: status);
        await using var reader = new ChunkReader(source);
        var samples = await reader.ReadSamplesAsync(10_000, _timeout);

        AssertSameSamples([.. expected, .. expected, .. expected[..2000]], samples);
        Assert.False(reader.Completion.IsCompleted);
        Assert.Equal([SourceState.Online], status.States);
    }

    [Fact]
    public async Task ReadAsync_Realtime_PacesAtTheSpeedOfTheAudio()
    {
        var path = _files.PathOf("one-second.wav");
        await TestFiles.FfmpegAsync("-i", TestFiles.Sample(8), "-t", "1", "-c:a", "pcm_s16le", path);

        var source = Sources.Create("wav", Settings(path, ("Realtime", "true")));
        var clock = Stopwatch.StartNew();
        await using var reader = new ChunkReader(source);
        var samples = await reader.ReadToEndAsync(_timeout);

        Assert.Equal(16000, samples.Length);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.8), $"1 s of audio took {clock.Elapsed}");
    }

    [Fact]
    public async Task ReadAsync_Cancelled_EndsWithCancellation()
    {
        var source = Sources.Create("wav", Settings(TestFiles.Sample(1), ("Loop", "true"), ("Realtime", "true")));
        var reader = new ChunkReader(source);
        await reader.NextChunkAsync(_timeout);

        var ended = await reader.StopAsync();

        Assert.IsAssignableFrom<OperationCanceledException>(ended);
    }

    [Fact]
    public void Create_NotAWaveFile_ThrowsInvalidDataNamingFileAndOffset()
    {
        var path = _files.PathOf("notes.wav");
        File.WriteAllText(path, "these are not the samples you are looking for");

        var ex = Assert.Throws<InvalidDataException>(() => Sources.Create("wav", Settings(path)));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("byte offset 0", ex.Message, StringComparison.Ordinal);
        Assert.Contains("not a RIFF/WAVE file", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_UnsupportedEncoding_ThrowsInvalidDataNamingTheEncoding()
    {
        var path = _files.PathOf("alaw.wav");
        await TestFiles.FfmpegAsync("-i", TestFiles.Sample(1), "-t", "0.1", "-c:a", "pcm_alaw", path);

        var ex = Assert.Throws<InvalidDataException>(() => Sources.Create("wav", Settings(path)));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("byte offset 20", ex.Message, StringComparison.Ordinal);
        Assert.Contains("A-law", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, false, 320u, "no fmt chunk")]
    [InlineData(false, true, 320u, "no data chunk")]
    public void Create_MissingChunk_ThrowsInvalidDataSayingWhich(bool omitFmt, bool omitData, uint declaredDataSize, string problem)
    {
        var path = _files.PathOf("broken.wav");
        WavWriter.Write(path, WavWriter.Pcm, 1, 16000, 16, new byte[320], omitFmt: omitFmt, omitData: omitData, declaredDataSize: declaredDataSize);

        var ex = Assert.Throws<InvalidDataException>(() => Sources.Create("wav", Settings(path)));

        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("byte offset", ex.Message, StringComparison.Ordinal);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_MissingFile_ThrowsConfigurationErrorNamingKeyAndPath()
    {
        var path = _files.PathOf("nowhere.wav");

        var ex = Assert.Throws<PluginConfigurationException>(() => Sources.Create("wav", Settings(path)));

        Assert.StartsWith("Sources:test:Path: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Path", null, "Sources:test:Path: required")]
    [InlineData("Loop", "sometimes", "Sources:test:Loop: must be true or false, was 'sometimes'")]
    [InlineData("Realtime", "1", "Sources:test:Realtime: must be true or false, was '1'")]
    [InlineData("ChunkMilliseconds", "0", "Sources:test:ChunkMilliseconds: must be 1-10000, was 0")]
    [InlineData("ChunkMilliseconds", "fast", "Sources:test:ChunkMilliseconds: must be a whole number, was 'fast'")]
    public void Create_BadSetting_ThrowsNamingFullKeyAndValue(string key, string? value, string message)
    {
        var settings = Settings(TestFiles.Sample(1));
        settings[key] = value;

        var ex = Assert.Throws<PluginConfigurationException>(() => Sources.Create("wav", settings));

        Assert.StartsWith(message, ex.Message, StringComparison.Ordinal);
    }

    /// <summary>A wav source's settings; Realtime is off unless a test turns it on, to keep the tests fast.</summary>
    private static Dictionary<string, string?> Settings(string path, params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?> { ["Type"] = "wav", ["Path"] = path, ["Realtime"] = "false" };
        foreach (var (key, value) in more)
            settings[key] = value;
        return settings;
    }

    private static void AssertSameSamples(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            if (Math.Abs(expected[i] - actual[i]) > 1e-6f)
                Assert.Fail($"sample {i}: expected {expected[i]}, was {actual[i]}");
        }
    }
}
