using CaptionDaemon.Training.Data;

namespace CaptionDaemon.Training.Tests.Data;

public sealed class DatasetReaderTests : IDisposable
{
    private readonly TestFiles _files = new();

    [Fact]
    public void ClothoLoad_QuotedFieldsWithCommasQuotesAndNewlines_ParsesEveryCaption()
    {
        var root = _files.PathOf("clotho");
        Directory.CreateDirectory(Path.Combine(root, "development"));
        foreach (var name in new[] { "Santa Motor, Car.wav", "rain.wav" })
        {
            WavFile.Write(Path.Combine(root, "development", name), new float[160], 16000, CancellationToken.None);
        }

        File.WriteAllText(
            ClothoDataset.CaptionsPath(root, "development"),
            "\uFEFFfile_name,caption_1,caption_2,caption_3,caption_4,caption_5\r\n"
            + "\"Santa Motor, Car.wav\",\"A car, old and loud, drives by.\",A motor hums,\"He said \"\"go\"\" twice\",\"a car\r\npasses\",an engine idles\r\n"
            + "rain.wav,rain falls,it rains,\"rain, heavy\",a storm,water drips\r\n");

        var clips = ClothoDataset.Load(root, "development");

        Assert.Equal(2, clips.Count);
        Assert.Equal("Santa Motor, Car.wav", clips[0].Id);
        Assert.Equal(Path.Combine(root, "development", "Santa Motor, Car.wav"), clips[0].AudioPath);
        Assert.Equal(
            new[] { "A car, old and loud, drives by.", "A motor hums", "He said \"go\" twice", "a car\r\npasses", "an engine idles" },
            clips[0].Captions);
        Assert.Equal(new[] { "rain falls", "it rains", "rain, heavy", "a storm", "water drips" }, clips[1].Captions);
    }

    [Fact]
    public void ClothoLoad_UnquotedCommaInFileName_ThrowsNamingLine()
    {
        var root = _files.PathOf("clotho-bad");
        Directory.CreateDirectory(Path.Combine(root, "validation"));
        File.WriteAllText(
            ClothoDataset.CaptionsPath(root, "validation"),
            "file_name,caption_1,caption_2,caption_3,caption_4,caption_5\na.wav,1,2,3,4,5\nSanta Motor, Car.wav,1,2,3,4,5\n");

        var ex = Assert.Throws<DatasetFormatException>(() => ClothoDataset.Load(root, "validation"));

        Assert.Contains("line 3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ClothoLoad_MissingAudio_ThrowsNamingTheFile()
    {
        var root = _files.PathOf("clotho-missing");
        Directory.CreateDirectory(root);
        File.WriteAllText(
            ClothoDataset.CaptionsPath(root, "evaluation"),
            "file_name,caption_1,caption_2,caption_3,caption_4,caption_5\nnothere.wav,1,2,3,4,5\n");

        var ex = Assert.Throws<DatasetFormatException>(() => ClothoDataset.Load(root, "evaluation"));

        Assert.Contains("nothere.wav", ex.Message, StringComparison.Ordinal);
        Assert.Contains("line 2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AudioCapsScan_RowsOfSameVideoAndStart_GroupedIntoOneClip()
    {
        var audio = _files.PathOf("audiocaps/audio/x");
        audio = Path.GetDirectoryName(audio)!;
        // Clip 1 is stored under one of its audiocap ids, clip 2 as <youtube_id>_<start>, clip 3 AudioSet style, clip 4 not at all.
        WavFile.Write(Path.Combine(audio, "102.wav"), new float[16], 16000, CancellationToken.None);
        WavFile.Write(Path.Combine(audio, "-a_b-c_30.wav"), new float[16], 16000, CancellationToken.None);
        WavFile.Write(Path.Combine(audio, "Yzzz_7.000_17.000.wav"), new float[16], 16000, CancellationToken.None);
        var csv = _files.PathOf("audiocaps/val.csv");
        File.WriteAllText(
            csv,
            "audiocap_id,youtube_id,start_time,caption\n"
            + "101,vid1,10,A dog barks\n"
            + "200,-a_b-c,30,\"Rain falls, heavily\"\n"
            + "102,vid1,10,A dog is barking\n"
            + "103,vid1,10,Barking\n"
            + "104,vid1,20,Later part of the same video\n"
            + "300,zzz,7,A bell rings\n");

        var scan = AudioCapsDataset.Scan(csv, audio);

        Assert.Equal(3, scan.Clips.Count);
        Assert.Equal("vid1_10", scan.Clips[0].Id);
        Assert.Equal(new[] { "A dog barks", "A dog is barking", "Barking" }, scan.Clips[0].Captions);
        Assert.EndsWith("102.wav", scan.Clips[0].AudioPath, StringComparison.Ordinal);
        Assert.Equal("-a_b-c_30", scan.Clips[1].Id);
        Assert.Equal(new[] { "Rain falls, heavily" }, scan.Clips[1].Captions);
        Assert.Equal("zzz_7", scan.Clips[2].Id);
        Assert.Equal(new[] { "vid1_20" }, scan.MissingAudio);
        Assert.Equal(3, AudioCapsDataset.Load(csv, audio).Count);
    }

    [Fact]
    public void AudioCapsLoad_NoAudioAtAll_ThrowsWithExpectedNames()
    {
        var audio = _files.PathOf("empty/x");
        audio = Path.GetDirectoryName(audio)!;
        var csv = _files.PathOf("empty.csv");
        File.WriteAllText(csv, "audiocap_id,youtube_id,start_time,caption\n5,abc,40,a cat meows\n");

        var ex = Assert.Throws<DatasetFormatException>(() => AudioCapsDataset.Load(csv, audio));

        Assert.Contains("5.wav", ex.Message, StringComparison.Ordinal);
        Assert.Contains("abc_40.wav", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnlabelledLoad_NestedFolders_FindsAudioOnlySortedWithoutCaptions()
    {
        var root = _files.PathOf("unlabelled");
        _files.Sine("unlabelled/b/deep/x.ogg", 0.2);
        _files.Sine("unlabelled/a.wav", 0.2);
        _files.Sine("unlabelled/b/y.FLAC", 0.2);
        File.WriteAllText(_files.PathOf("unlabelled/b/readme.txt"), "not audio");

        var clips = UnlabelledAudio.Load(root);

        Assert.Equal(new[] { "a.wav", "b/deep/x.ogg", "b/y.FLAC" }, clips.Select(c => c.Id));
        Assert.All(clips, c => Assert.Empty(c.Captions));
        Assert.All(clips, c => Assert.True(File.Exists(c.AudioPath)));
    }

    public void Dispose() => _files.Dispose();
}
