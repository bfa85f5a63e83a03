using CaptionDaemon.Training.Data;

namespace CaptionDaemon.Training.Tests.Data;

public sealed class AudioDecoderBatchTests : IDisposable
{
    private readonly TestFiles _files = new();

    [Fact]
    public void DecodeMany_MixedFormats_GivesExactlyWhatDecodeGivesPerFile()
    {
        string[] paths =
        [
            _files.Ffmpeg("a.ogg", "-f", "lavfi", "-i", "sine=frequency=300:sample_rate=44100:duration=1.3", "-ac", "2", "-c:a", "libvorbis"),
            _files.Ffmpeg("b.flac", "-f", "lavfi", "-i", "sine=frequency=900:sample_rate=22050:duration=0.4"),
            _files.Sine("c.wav", 2.0, sampleRate: 8000, channels: 2, frequency: 500),
        ];

        var batch = AudioDecoder.DecodeMany(paths, 16000, _files.Root);

        for (var i = 0; i < paths.Length; i++)
        {
            Assert.Null(batch[i].Error);
            Assert.Equal(AudioDecoder.Decode(paths[i], 16000), batch[i].Samples);
        }
    }

    [Fact]
    public void DecodeMany_OneCorruptFile_FailsAloneWithItsOwnMessage()
    {
        var good = _files.Sine("good.wav", 0.5, sampleRate: 44100);
        var corrupt = _files.PathOf("corrupt.ogg");
        File.WriteAllBytes(corrupt, [0x4f, 0x67, 0x67, 0x53, 1, 2, 3, 4, 5, 6, 7, 8]);

        var batch = AudioDecoder.DecodeMany([good, corrupt], 16000, _files.Root);

        Assert.Equal(8000, batch[0].Samples!.Length);
        Assert.Null(batch[1].Samples);
        Assert.Contains("corrupt.ogg", batch[1].Error!.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateDirectories(_files.Root, "decode-*"));
    }

    public void Dispose() => _files.Dispose();
}
