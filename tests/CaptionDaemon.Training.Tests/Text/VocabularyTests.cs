using CaptionDaemon.Training.Text;

namespace CaptionDaemon.Training.Tests.Text;

public sealed class VocabularyTests
{
    [Fact]
    public void Build_Captions_OrdersWordsByFrequencyThenOrdinalAfterTheSpecialTokens()
    {
        var vocabulary = Vocabulary.Build(["A dog barks.", "a dog barks twice", "Rain; a cat"], minCount: 1);

        // a x3; barks, dog x2; cat, rain, twice x1 (ties in ordinal order).
        Assert.Equal(["<pad>", "<start>", "<end>", "<unk>", "a", "barks", "dog", "cat", "rain", "twice"], vocabulary.Tokens);
    }

    [Fact]
    public void Build_MinCount_LeavesRareWordsToUnknown()
    {
        var vocabulary = Vocabulary.Build(["a dog barks", "a dog", "a cat"], minCount: 2);

        Assert.Equal(["<pad>", "<start>", "<end>", "<unk>", "a", "dog"], vocabulary.Tokens);
        Assert.Equal([4, 5, Vocabulary.Unknown], vocabulary.Encode("A dog barks!"));
    }

    [Fact]
    public void Decode_Ids_StopsAtEndKeepsUnknownAndSkipsPadAndStart()
    {
        var vocabulary = Vocabulary.Build(["a dog barks"], minCount: 1);

        Assert.Equal("a <unk> barks", vocabulary.Decode([Vocabulary.Start, 4, Vocabulary.Unknown, 5, Vocabulary.End, 6, 4]));
        Assert.Equal(string.Empty, vocabulary.Decode([Vocabulary.End, 4]));
        Assert.Throws<ArgumentOutOfRangeException>(() => vocabulary.Decode([99]));
    }

    [Fact]
    public void SaveLoad_RoundTrip_KeepsTokensAndIds()
    {
        var directory = Directory.CreateTempSubdirectory("captiond-vocab-").FullName;
        try
        {
            var vocabulary = Vocabulary.Build(["a dog barks while rain falls", "a dog barks", "rain falls on a roof"], minCount: 1);
            vocabulary.Save(directory);
            var loaded = Vocabulary.Load(Path.Combine(directory, Vocabulary.FileName));

            Assert.Equal(vocabulary.Tokens, loaded.Tokens);
            Assert.Equal(vocabulary.Encode("rain falls while a dog barks"), loaded.Encode("rain falls while a dog barks"));
            Assert.Equal("rain falls while a dog barks", loaded.Decode(loaded.Encode("Rain falls, while a dog barks.")));
            // The checkpoint reader of the models code reads the same file format.
            Assert.Equal(vocabulary.Tokens, Vocabulary.Load(Path.Combine(directory, Vocabulary.FileName)).Tokens);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Load_WrongSpecialTokenOrDuplicate_ThrowsNamingTheFile()
    {
        var directory = Directory.CreateTempSubdirectory("captiond-vocab-").FullName;
        try
        {
            var path = Path.Combine(directory, Vocabulary.FileName);
            File.WriteAllText(path, """{"tokens": ["<pad>", "<end>", "<start>", "<unk>", "a"]}""");
            var wrongOrder = Assert.Throws<InvalidDataException>(() => Vocabulary.Load(path));
            File.WriteAllText(path, """{"tokens": ["<pad>", "<start>", "<end>", "<unk>", "a", "a"]}""");
            var duplicate = Assert.Throws<InvalidDataException>(() => Vocabulary.Load(path));

            Assert.Contains(path, wrongOrder.Message, StringComparison.Ordinal);
            Assert.Contains("token 1 must be <start>", wrongOrder.Message, StringComparison.Ordinal);
            Assert.Contains("'a' appears twice", duplicate.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
