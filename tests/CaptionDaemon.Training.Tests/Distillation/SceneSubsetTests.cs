using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Distillation;
using CaptionDaemon.Training.Tests.Data;

namespace CaptionDaemon.Training.Tests.Distillation;

public sealed class SceneSubsetTests : IDisposable
{
    private readonly TestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Create_FirstClipsOfEachSplit_KeepsTheirCaptionsAndLinksTheirAudio()
    {
        var source = Source();

        var subset = SceneSubset.Create(source, _files.PathOf("subset"), new SplitSizes(2, null, 1), CancellationToken.None);

        var development = ClothoDataset.Load(subset, ClothoDataset.Development);
        var original = ClothoDataset.Load(source, ClothoDataset.Development);
        Assert.Equal(original.Take(2).Select(c => (c.Id, string.Join("|", c.Captions))), development.Select(c => (c.Id, string.Join("|", c.Captions))));
        Assert.Contains("A dog barks, then \"woof\" again", development[0].Captions);
        Assert.All(development, clip => Assert.Equal(Path.Combine(source, ClothoDataset.Development, clip.Id), new FileInfo(clip.AudioPath).LinkTarget));
        Assert.Equal(3, ClothoDataset.Load(subset, ClothoDataset.Validation).Count);
        Assert.Single(ClothoDataset.Load(subset, ClothoDataset.Evaluation));
        Assert.Equal(AudioDecoder.Decode(original[1].AudioPath, 16000), AudioDecoder.Decode(development[1].AudioPath, 16000));
    }

    [Fact]
    public void Create_AgainWithOtherSizes_RebuildsTheSubset()
    {
        var source = Source();
        var target = _files.PathOf("subset");
        SceneSubset.Create(source, target, new SplitSizes(3, 1, 1), CancellationToken.None);

        SceneSubset.Create(source, target, new SplitSizes(1, 2, null), CancellationToken.None);

        Assert.Single(ClothoDataset.Load(target, ClothoDataset.Development));
        Assert.Equal(2, ClothoDataset.Load(target, ClothoDataset.Validation).Count);
        Assert.Equal(3, ClothoDataset.Load(target, ClothoDataset.Evaluation).Count);
        Assert.Single(Directory.GetFiles(Path.Combine(target, ClothoDataset.Development)));
    }

    /// <summary>Three clips per split, real WAV files; the first caption has a comma and quotes to survive the CSV rewrite.</summary>
    private string Source()
    {
        foreach (var split in ClothoDataset.Splits)
        {
            var lines = new List<string> { "file_name,caption_1,caption_2" };
            for (var i = 0; i < 3; i++)
            {
                var name = FormattableString.Invariant($"{split}_{i}.wav");
                _files.Sine(Path.Combine("source", split, name), 0.2, frequency: 300 + (100 * i));
                lines.Add(i == 0 ? $"{name},\"A dog barks, then \"\"woof\"\" again\",a dog barks" : $"{name},a tone {i} sounds,tone {i}");
            }

            File.WriteAllLines(_files.PathOf(Path.Combine("source", $"clotho_captions_{split}.csv")), lines);
        }

        return _files.PathOf("source");
    }
}
