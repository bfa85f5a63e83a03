using System.Buffers.Binary;
using System.Text;
using CaptionDaemon.Tests.Scheduling;

namespace CaptionDaemon.Tests.EndToEnd;

/// <summary>
/// <c>captiond caption</c> on WAV files that hold no audio: each gets a clear error (exit 1) that names the file once and
/// a byte offset inside it, instead of exit 0 in silence or a caption of NaNs read as silence.
/// </summary>
public sealed class BadWavEndToEndTests : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("captiond-badwav-");

    public void Dispose() => _temp.Delete(recursive: true);

    [Fact]
    public async Task Caption_WavWithNoFrames_ExitsOneSayingTheDataChunkHoldsNoAudio()
    {
        var path = Write("empty.wav", Wav(16000, []));

        var (exit, stdout, errors) = await CaptionAsync(path);

        Assert.Equal(1, exit);
        Assert.Empty(stdout);
        var line = Assert.Single(errors);
        Assert.Contains("holds no audio frame", line, StringComparison.Ordinal);
        Assert.Contains("byte offset 44", line, StringComparison.Ordinal);
        Assert.Equal(1, Occurrences(line, "empty.wav"));
    }

    [Fact]
    public async Task Caption_AllNanWav_ExitsOneAndIsNotCaptioned()
    {
        var path = Write("nan.wav", Wav(16000, Enumerable.Repeat(float.NaN, 16000 * 3).ToArray()));

        var (exit, stdout, errors) = await CaptionAsync(path);

        Assert.Equal(1, exit);
        Assert.Empty(stdout); // no caption of NaNs as if they were silence
        var line = Assert.Single(errors);
        Assert.Contains("every sample is NaN or infinite", line, StringComparison.Ordinal);
        Assert.Contains("byte offset 44", line, StringComparison.Ordinal);
        Assert.Equal(1, Occurrences(line, "nan.wav"));
    }

    [Fact]
    public async Task Caption_ChunkRunningPastTheEnd_OffsetWithinTheFileAndPathOnce()
    {
        // A fmt chunk, then a chunk that declares 1 MB in a file of 60 bytes, and no data chunk.
        var wav = Wav(16000, []).AsSpan(0, 36).ToArray();
        var junk = new byte[24];
        Encoding.ASCII.GetBytes("LIST").CopyTo(junk, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(junk.AsSpan(4), 1_000_000);
        var path = Write("cut.wav", [.. wav, .. junk]);

        var (exit, _, errors) = await CaptionAsync(path);

        Assert.Equal(1, exit);
        var line = Assert.Single(errors);
        Assert.Contains("no data chunk", line, StringComparison.Ordinal);
        Assert.Contains("byte offset 60:", line, StringComparison.Ordinal);
        Assert.Equal(1, Occurrences(line, "cut.wav"));
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_temp.FullName, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static int Occurrences(string text, string part) => (text.Length - text.Replace(part, string.Empty, StringComparison.Ordinal).Length) / part.Length;

    private static async Task<(int Exit, List<string> Stdout, List<string> Errors)> CaptionAsync(string path)
    {
        await using var run = DaemonProcess.Start(["caption", "--model", RepositoryFiles.LabelledBundle, path]);
        var exit = await run.WaitForExitAsync(TimeSpan.FromSeconds(90));
        var stdout = run.StandardOutputLines.ToList();
        var errors = run.Lines.Except(stdout).Where(l => l.StartsWith("captiond caption:", StringComparison.Ordinal)).ToList();
        return (exit, stdout, errors);
    }

    /// <summary>A mono IEEE-float WAV file of <paramref name="samples"/>.</summary>
    private static byte[] Wav(int sampleRate, float[] samples)
    {
        var data = samples.Length * 4;
        var bytes = new byte[44 + data];
        Encoding.ASCII.GetBytes("RIFF").CopyTo(bytes, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), (uint)(36 + data));
        Encoding.ASCII.GetBytes("WAVEfmt ").CopyTo(bytes, 8);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), 16);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(20), 3); // IEEE float
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(22), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(24), (uint)sampleRate);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(28), (uint)(sampleRate * 4));
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(32), 4);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(34), 32);
        Encoding.ASCII.GetBytes("data").CopyTo(bytes, 36);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(40), (uint)data);
        for (var i = 0; i < samples.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(44 + (i * 4)), samples[i]);
        return bytes;
    }
}
