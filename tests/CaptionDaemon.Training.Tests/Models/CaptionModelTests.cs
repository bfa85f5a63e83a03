using CaptionDaemon.Training.Text;
using CaptionDaemon.Training.Models;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Tests.Models;

public sealed class CaptionModelTests
{
    [Fact]
    public void Encode_OneSecond_ReturnsMemoryAndEmbeddingOfContractShapes()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(1);
        var config = TinyModels.Config();
        using var model = new CaptionModel(config);
        model.eval();

        var (memory, embedding) = model.Encode(randn(3, 16000) * 0.1);

        // T = (16000 - 512) / 160 + 1 = 97 frames, halved by each of the two blocks: 48, 24.
        Assert.Equal(24, config.EncoderFrames(16000));
        Assert.Equal(new long[] { 3, 24, 32 }, memory.shape);
        Assert.Equal(new long[] { 3, 8 }, embedding.shape);
        Assert.Equal(new long[] { 3, 1, 64, 97 }, model.Frontend.forward(randn(3, 16000)).shape);
    }

    [Fact]
    public void Forward_TokenBatch_ReturnsLogitsPerPositionAndCrossKeyValuesPerLayer()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(2);
        using var model = new CaptionModel(TinyModels.Config());
        model.eval();
        var audio = randn(2, 16000) * 0.1;

        var logits = model.forward(audio, randint(0, 12, [2, 5]));
        var (crossKeys, crossValues) = model.CrossKeyValues(model.Encode(audio).Memory);

        Assert.Equal(new long[] { 2, 5, 12 }, logits.shape);
        Assert.Equal(new long[] { 2, 2, 4, 24, 8 }, crossKeys.shape);
        Assert.Equal(crossKeys.shape, crossValues.shape);
    }

    [Fact]
    public void Step_TokenByToken_ReproducesTeacherForcedLogProbs()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(3);
        var config = TinyModels.Config();
        using var model = new CaptionModel(config);
        TinyModels.RandomiseBatchNorms(model, 3);
        model.eval();
        using var noGrad = no_grad();
        var audio = randn(2, 16000) * 0.1;
        var tokens = randint(0, config.VocabSize, [2, 7]);

        var expected = nn.functional.log_softmax(model.forward(audio, tokens), -1);
        var (memory, _) = model.Encode(audio);
        var (crossKeys, crossValues) = model.CrossKeyValues(memory);
        var (keys, values) = model.EmptyCache(2);
        for (var position = 0; position < 7; position++)
        {
            var (logProbs, presentKeys, presentValues) = model.Step(tokens[.., position], keys, values, crossKeys, crossValues);
            Assert.Equal(new long[] { config.DecoderLayers, 2, config.Heads, position + 1, config.HeadDim }, presentKeys.shape);
            var difference = (logProbs - expected[.., position]).abs().max().item<float>();
            Assert.True(difference < 1e-5f, $"position {position}: max |step - forward| = {difference}");
            (keys, values) = (presentKeys, presentValues);
        }
    }

    [Fact]
    public void Step_ChangedEarlierToken_ChangesLaterLogProbs()
    {
        // Guards the parity test above against a cache that is ignored: the past must matter.
        using var scope = NewDisposeScope();
        random.manual_seed(4);
        using var model = new CaptionModel(TinyModels.Config());
        model.eval();
        using var noGrad = no_grad();
        var (memory, _) = model.Encode(randn(1, 16000) * 0.1);
        var (crossKeys, crossValues) = model.CrossKeyValues(memory);

        Tensor Second(long first)
        {
            var (k, v) = model.EmptyCache(1);
            var (_, k1, v1) = model.Step(tensor(new[] { first }), k, v, crossKeys, crossValues);
            return model.Step(tensor(new[] { 5L }), k1, v1, crossKeys, crossValues).LogProbs;
        }

        Assert.True((Second(4) - Second(6)).abs().max().item<float>() > 1e-3f);
    }

    [Fact]
    public void CountParameters_StudentPreset_MatchesArchitectureArithmetic()
    {
        using var model = new CaptionModel(CaptionModelConfig.Student(1000));
        var counts = model.CountParameters();

        // Convs 1*16*9 + 16*32*9 + 32*64*9 + 64*128*9, BatchNorms 2*(16+32+64+128), front-end BatchNorm 2*64,
        // projection 128*256+256, LayerNorm 2*256.
        Assert.Equal(96912 + 480 + 128 + 33024 + 512, counts.Encoder);
        // Embeddings 1000*256 + 32*256; per layer 2 attentions 4*(256*256+256), 3 LayerNorms, FFN; final LayerNorm.
        var layer = (2 * 4 * ((256 * 256) + 256)) + (3 * 512) + ((256 * 1024) + 1024 + (1024 * 256) + 256);
        Assert.Equal((1000 * 256) + (32 * 256) + (2 * layer) + 512, counts.Decoder);
        Assert.Equal(counts.Encoder + counts.Decoder, counts.Total);
    }

    [Fact]
    public void SaveCheckpoint_LoadCheckpoint_RestoresWeightsStatisticsConfigAndVocabulary()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(5);
        var config = TinyModels.Config(6);
        using var model = new CaptionModel(config);
        TinyModels.RandomiseBatchNorms(model, 5);
        model.eval();
        var directory = Directory.CreateTempSubdirectory("captiond-checkpoint-").FullName;
        try
        {
            string[] vocabulary = ["<pad>", "<start>", "<end>", "<unk>", "dog", "barks"];
            model.SaveCheckpoint(directory, vocabulary);
            using var loaded = CaptionModel.LoadCheckpoint(directory);
            loaded.eval();

            var audio = randn(1, 16000) * 0.1;
            var tokens = tensor(new long[,] { { 1, 4, 5 } });
            Assert.Equal(config.EncoderChannels, loaded.Config.EncoderChannels);
            Assert.Equal(config with { EncoderChannels = loaded.Config.EncoderChannels }, loaded.Config);
            Assert.Equal(0f, (model.forward(audio, tokens) - loaded.forward(audio, tokens)).abs().max().item<float>());
            Assert.Equal(vocabulary, Vocabulary.Load(Path.Combine(directory, CaptionModel.VocabFileName)).Tokens);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Training_TwoCaptionsOfSyntheticAudio_LossFallsAndGreedyDecodeRecitesCaptions()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(6);
        // <pad> <start> <end> <unk> a tone beeps noise hisses
        using var model = new CaptionModel(TinyModels.Config(9));
        var audio = stack([
            tensor(TinyModels.SinesAndNoise(8000, 1, 440)) * 2,
            tensor(TinyModels.SinesAndNoise(8000, 2, 660)) * 2,
            randn(8000) * 0.3,
            randn(8000) * 0.3,
        ]);
        var inputs = tensor(new long[,] { { 1, 4, 5, 6 }, { 1, 4, 5, 6 }, { 1, 7, 8, 0 }, { 1, 7, 8, 0 } });
        var targets = tensor(new long[,] { { 4, 5, 6, 2 }, { 4, 5, 6, 2 }, { 7, 8, 2, 0 }, { 7, 8, 2, 0 } });

        var (first, last) = TinyModels.Train(model, audio, inputs, targets, steps: 60);

        Assert.True(last < first * 0.2f, $"loss {first} -> {last}");
        var captions = model.GreedyDecode(audio, 8);
        Assert.Equal([4, 5, 6], captions[0]);
        Assert.Equal([4, 5, 6], captions[1]);
        Assert.Equal([7, 8], captions[2]);
        Assert.Equal([7, 8], captions[3]);
        Assert.True(model.training, "GreedyDecode restores the training mode");
    }
}
