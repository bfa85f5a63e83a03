using CaptionDaemon.Training.Export;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Tests.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Tests.Export;

/// <summary>The three bundle graphs of a small random model against the TorchSharp model, in ONNX Runtime.</summary>
public sealed class CaptionGraphsParityTests(ITestOutputHelper output)
{
    private const float Tolerance = 1e-4f;

    private static CaptionModel SmallModel(int seed)
    {
        random.manual_seed(seed);
        var model = new CaptionModel(TinyModels.Config(20) with { EncoderChannels = [4, 8, 16], ConvsPerBlock = 2 });
        TinyModels.RandomiseBatchNorms(model, seed);
        model.eval();
        return model;
    }

    private static Tensor TenSeconds(int batch) =>
        stack(Enumerable.Range(0, batch).Select(b => tensor(TinyModels.SinesAndNoise(160000, 10 + b, 220 * (b + 1), 1250, 5100))));

    [Fact]
    public void EncoderGraph_TenSecondsOfSinesAndNoise_MatchesEncode()
    {
        using var scope = NewDisposeScope();
        using var model = SmallModel(11);
        using var noGrad = no_grad();
        var audio = TenSeconds(2);

        using var runner = new OnnxRunner(CaptionGraphs.Encoder(model));
        var onnx = runner.Run(("audio", audio));
        var (memory, embedding) = model.Encode(audio);

        Assert.Equal(new long[] { 2, model.Config.EncoderFrames(160000), 32 }, onnx["memory"].shape);
        var memoryDiff = OnnxRunner.MaxAbsDiff(memory, onnx["memory"]);
        var embeddingDiff = OnnxRunner.MaxAbsDiff(embedding, onnx["embedding"]);
        output.WriteLine($"encoder max |diff|: memory {memoryDiff:E2}, embedding {embeddingDiff:E2}");
        Assert.True(memoryDiff <= Tolerance, $"memory {memoryDiff}");
        Assert.True(embeddingDiff <= Tolerance, $"embedding {embeddingDiff}");
    }

    [Fact]
    public void EncoderGraph_TaggingEncoder_MatchesEncodeWithLabels()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(13);
        var tagger = TaggingEncoderConfig.Named("small", ["dog", "speech", "nothing"]) with
        {
            StemChannels = 4,
            Stages = [new(8, 1, 2, true), new(12, 2, 2, true), new(12, 1, 3, false)],
            HeadChannels = 24,
            DModel = 32,
        };
        using var model = new CaptionModel(CaptionModelConfig.OnTagger(tagger, 20) with { DecoderLayers = 1, Heads = 2, FeedForward = 64 });
        TinyModels.RandomiseBatchNorms(model, 13);
        model.eval();
        using var noGrad = no_grad();
        var audio = TenSeconds(2);

        using var runner = new OnnxRunner(CaptionGraphs.Encoder(model));
        var onnx = runner.Run(("audio", audio));
        var (memory, embedding, probabilities) = model.EncodeWithLabels(audio);

        Assert.Equal(new long[] { 2, model.Config.EncoderFrames(160000), 32 }, onnx["memory"].shape);
        Assert.Equal(new long[] { 2, 3 }, onnx["label_probs"].shape);
        var diffs = new[] { ("memory", memory), ("embedding", embedding), ("label_probs", probabilities) }
            .Select(p => (p.Item1, Diff: OnnxRunner.MaxAbsDiff(p.Item2, onnx[p.Item1])))
            .ToArray();
        output.WriteLine("tagging encoder max |diff|: " + string.Join(", ", diffs.Select(d => $"{d.Item1} {d.Diff:E2}")));
        Assert.All(diffs, d => Assert.True(d.Diff <= Tolerance, $"{d.Item1} {d.Diff}"));
        Assert.Equal(CaptionGraphs.LabelledEncoderOutputs, CaptionGraphs.EncoderOutputsOf(model));
    }

    [Fact]
    public void EncoderGraph_StudentSizeOnTenSeconds_MatchesEncode()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(15);
        using var model = new CaptionModel(CaptionModelConfig.Student(100));
        TinyModels.RandomiseBatchNorms(model, 15);
        model.eval();
        using var noGrad = no_grad();
        var audio = TenSeconds(1);

        using var runner = new OnnxRunner(CaptionGraphs.Encoder(model));
        var onnx = runner.Run(("audio", audio));
        var (memory, embedding) = model.Encode(audio);

        Assert.Equal(new long[] { 1, 62, 256 }, onnx["memory"].shape);     // 997 frames, halved 4 times
        Assert.Equal(new long[] { 1, 128 }, onnx["embedding"].shape);
        var memoryDiff = OnnxRunner.MaxAbsDiff(memory, onnx["memory"]);
        var embeddingDiff = OnnxRunner.MaxAbsDiff(embedding, onnx["embedding"]);
        output.WriteLine($"student encoder max |diff|: memory {memoryDiff:E2}, embedding {embeddingDiff:E2}");
        Assert.True(memoryDiff <= Tolerance, $"memory {memoryDiff}");
        Assert.True(embeddingDiff <= Tolerance, $"embedding {embeddingDiff}");
    }

    [Fact]
    public void CrossKvGraph_Memory_MatchesCrossKeyValues()
    {
        using var scope = NewDisposeScope();
        using var model = SmallModel(12);
        using var noGrad = no_grad();
        var memory = randn(3, 17, 32);

        using var runner = new OnnxRunner(CaptionGraphs.CrossKv(model));
        var onnx = runner.Run(("memory", memory));
        var (keys, values) = model.CrossKeyValues(memory);

        var diff = Math.Max(OnnxRunner.MaxAbsDiff(keys, onnx["cross_k"]), OnnxRunner.MaxAbsDiff(values, onnx["cross_v"]));
        output.WriteLine($"cross_kv max |diff|: {diff:E2}");
        Assert.True(diff <= Tolerance, $"cross k/v {diff}");
    }

    [Fact]
    public void DecoderStepGraph_TenStepsWithBeamReordering_MatchesStepOnReorderedCache()
    {
        using var scope = NewDisposeScope();
        using var model = SmallModel(13);
        using var noGrad = no_grad();
        var config = model.Config;
        var (memory, _) = model.Encode(TenSeconds(3));
        var (crossKeys, crossValues) = model.CrossKeyValues(memory);
        var (torchKeys, torchValues) = model.EmptyCache(3);
        var (onnxKeys, onnxValues) = (torchKeys, torchValues);
        var generator = new Generator(13);
        long[][] beams = [[0, 1, 2], [2, 0, 1], [1, 1, 0], [0, 2, 2], [2, 1, 0], [1, 0, 1], [0, 0, 0], [2, 2, 1], [1, 2, 0], [0, 1, 1]];

        using var runner = new OnnxRunner(CaptionGraphs.DecoderStep(model));
        var worst = 0f;
        for (var step = 0; step < beams.Length; step++)
        {
            var tokens = randint(0, config.VocabSize, [3], dtype: ScalarType.Int64, generator: generator);
            var beamIndex = tensor(beams[step]);
            var onnx = runner.Run(("tokens", tokens), ("beam_index", beamIndex), ("past_k", onnxKeys), ("past_v", onnxValues),
                ("cross_k", crossKeys), ("cross_v", crossValues));
            var (logProbs, keys, values) = model.Step(tokens, torchKeys.index_select(1, beamIndex), torchValues.index_select(1, beamIndex), crossKeys, crossValues);

            Assert.Equal(new long[] { config.DecoderLayers, 3, config.Heads, step + 1, config.HeadDim }, onnx["present_k"].shape);
            var diff = new[]
            {
                OnnxRunner.MaxAbsDiff(logProbs, onnx["logprobs"]),
                OnnxRunner.MaxAbsDiff(keys, onnx["present_k"]),
                OnnxRunner.MaxAbsDiff(values, onnx["present_v"]),
            }.Max();
            worst = Math.Max(worst, diff);
            Assert.True(diff <= Tolerance, $"step {step}: max |diff| {diff}");
            (torchKeys, torchValues, onnxKeys, onnxValues) = (keys, values, onnx["present_k"], onnx["present_v"]);
        }

        output.WriteLine($"decoder_step max |diff| over 10 steps with beam reordering: {worst:E2}");
    }

    [Fact]
    public void AllGraphs_GreedyDecodingInOnnxRuntime_GivesGreedyDecodeTokens()
    {
        using var scope = NewDisposeScope();
        using var model = SmallModel(14);
        // A random decoder just repeats one token; a few training steps on two captions with six different words
        // make greedy decoding depend on audio, position and past, so the comparison means something.
        var audio = stack([
            tensor(TinyModels.SinesAndNoise(16000, 1, 440)) * 2,
            randn(16000) * 0.3,
            tensor(TinyModels.SinesAndNoise(16000, 2, 660)) * 2,
        ]);
        var inputs = tensor(new long[,] { { 1, 4, 5, 6, 7 }, { 1, 8, 9, 10, 11 }, { 1, 4, 5, 6, 7 } });
        var targets = tensor(new long[,] { { 4, 5, 6, 7, 2 }, { 8, 9, 10, 11, 2 }, { 4, 5, 6, 7, 2 } });
        var (firstLoss, lastLoss) = TinyModels.Train(model, audio, inputs, targets, steps: 40);
        output.WriteLine($"training loss {firstLoss} -> {lastLoss}");
        model.eval();
        const int maxTokens = 12;

        var expected = model.GreedyDecode(audio, maxTokens);

        using var encoder = new OnnxRunner(CaptionGraphs.Encoder(model));
        using var crossKv = new OnnxRunner(CaptionGraphs.CrossKv(model));
        using var step = new OnnxRunner(CaptionGraphs.DecoderStep(model));
        var memory = encoder.Run(("audio", audio))["memory"];
        var cross = crossKv.Run(("memory", memory));
        var (keys, values) = model.EmptyCache(3);
        var tokens = full(3, CaptionModel.StartToken, dtype: ScalarType.Int64);
        var identity = arange(3, dtype: ScalarType.Int64);
        var actual = Enumerable.Range(0, 3).Select(_ => new List<int>()).ToArray();
        var finished = new bool[3];
        for (var i = 0; i < maxTokens; i++)
        {
            var result = step.Run(("tokens", tokens), ("beam_index", identity), ("past_k", keys), ("past_v", values),
                ("cross_k", cross["cross_k"]), ("cross_v", cross["cross_v"]));
            tokens = result["logprobs"].argmax(-1);
            (keys, values) = (result["present_k"], result["present_v"]);
            var chosen = tokens.data<long>().ToArray();
            for (var b = 0; b < 3; b++)
            {
                finished[b] |= chosen[b] == CaptionModel.EndToken;
                if (!finished[b])
                {
                    actual[b].Add((int)chosen[b]);
                }
            }
        }

        output.WriteLine(string.Join(" | ", expected.Select(c => string.Join(' ', c))));
        Assert.True(expected.SelectMany(c => c).Distinct().Count() >= 4, "greedy captions are degenerate");
        for (var b = 0; b < 3; b++)
        {
            Assert.Equal(expected[b], actual[b]);
        }
    }
}
