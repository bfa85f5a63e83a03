using CaptionDaemon.Training.Export;
using CaptionDaemon.Training.Export.Layers;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Tests.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;
using DataType = CaptionDaemon.Training.Export.Onnx.TensorProto.Types.DataType;

namespace CaptionDaemon.Training.Tests.Export;

/// <summary>Each layer exporter on random weights, run alone in ONNX Runtime, against the TorchSharp layer in evaluation mode.</summary>
public sealed class LayerExporterParityTests(ITestOutputHelper output)
{
    private const float Tolerance = 1e-5f;

    [Fact]
    public void Linear_Rank3Input_MatchesTorchSharp()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(41);
        using var linear = nn.Linear(5, 7);
        var x = randn(2, 3, 5);

        var actual = RunSingle(g => LinearExporter.Export(g, linear, g.Input("x", DataType.Float, "a", "b", 5), "linear"), ("x", x));

        AssertClose("Linear", linear.forward(x), actual);
    }

    [Theory]
    [InlineData(true, 1, 1)]
    [InlineData(false, 1, 1)]
    [InlineData(true, 2, 0)]
    public void Conv2d_PaddingStrideBias_MatchesTorchSharp(bool bias, int stride, int padding)
    {
        using var scope = NewDisposeScope();
        random.manual_seed(42);
        using var conv = nn.Conv2d(3, 4, 3, stride: stride, padding: padding, bias: bias);
        var x = randn(2, 3, 9, 11);

        var actual = RunSingle(g => ConvExporter.Export(g, conv, g.Input("x", DataType.Float, "b", 3, "h", "w"), "conv"), ("x", x));

        AssertClose($"Conv2d bias={bias} stride={stride} pad={padding}", conv.forward(x), actual);
    }

    [Fact]
    public void FixedConv1d_StridedKernel_MatchesConv1d()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(43);
        var kernel = randn(6, 1, 8);
        var x = randn(2, 1, 50);

        var actual = RunSingle(g => ConvExporter.ExportFixed1d(g, kernel, 3, g.Input("x", DataType.Float, "b", 1, "s"), "dft"), ("x", x));

        AssertClose("Conv1d (fixed kernel)", nn.functional.conv1d(x, kernel, stride: 3), actual);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void BatchNorm_EvalWithRunningStatistics_MatchesTorchSharp(int dimensions)
    {
        using var scope = NewDisposeScope();
        random.manual_seed(44);
        using var norm = dimensions == 1 ? (TorchSharp.Modules.BatchNorm)nn.BatchNorm1d(4) : nn.BatchNorm2d(4);
        TinyModels.RandomiseBatchNorms(norm, 44);
        using (no_grad())
        {
            norm.weight!.add_(randn(4) * 0.3);
            norm.bias!.add_(randn(4) * 0.3);
        }

        norm.eval();
        var x = dimensions == 1 ? randn(2, 4, 10) : randn(2, 4, 5, 6);
        OnnxDim[] dims = dimensions == 1 ? ["b", 4, "t"] : ["b", 4, "h", "w"];

        var actual = RunSingle(g => BatchNormExporter.Export(g, norm, g.Input("x", DataType.Float, dims), "bn"), ("x", x));

        AssertClose($"BatchNorm{dimensions}d", norm.forward(x), actual);
    }

    [Fact]
    public void LayerNorm_LastAxis_MatchesTorchSharp()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(45);
        using var norm = nn.LayerNorm(6);
        using (no_grad())
        {
            norm.weight!.add_(randn(6) * 0.3);
            norm.bias!.add_(randn(6) * 0.3);
        }

        var x = randn(3, 2, 6) * 3 + 1;

        var actual = RunSingle(g => LayerNormExporter.Export(g, norm, g.Input("x", DataType.Float, "a", "b", 6), "ln"), ("x", x));

        AssertClose("LayerNorm", norm.forward(x), actual);
    }

    [Fact]
    public void ReluAndAveragePool_OddSizes_MatchTorchSharp()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(46);
        var x = randn(2, 3, 9, 7);

        var actual = RunSingle(g =>
        {
            var input = g.Input("x", DataType.Float, "b", 3, "h", "w");
            return ActivationExporter.AveragePool2d(g, 2, ActivationExporter.Relu(g, input, "relu"), "pool");
        }, ("x", x));

        AssertClose("ReLU + AvgPool2d(2)", nn.functional.avg_pool2d(nn.functional.relu(x), 2), actual);
    }

    [Fact]
    public void Embedding_Int64Indices_MatchesTorchSharp()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(47);
        using var embedding = nn.Embedding(10, 4);
        var indices = tensor(new long[,] { { 0, 9, 3 }, { 3, 3, 1 } });

        var actual = RunSingle(g => EmbeddingExporter.Export(g, embedding, g.Input("i", DataType.Int64, "a", "b"), "emb").Output, ("i", indices));

        AssertClose("Embedding", embedding.forward(indices), actual);
    }

    [Fact]
    public void FeedForward_Rows_MatchesTorchSharp()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(48);
        using var inner = nn.Linear(6, 12);
        using var outer = nn.Linear(12, 6);
        var x = randn(4, 6);

        var actual = RunSingle(g => FeedForwardExporter.Export(g, inner, outer, g.Input("x", DataType.Float, "n", 6), "ffn"), ("x", x));

        AssertClose("FeedForward", outer.forward(nn.functional.relu(inner.forward(x))), actual);
    }

    [Fact]
    public void Attention_SelfStepWithCacheAndCrossStep_MatchTorchSharp()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(49);
        using var attention = new MultiHeadAttention(8, 2);
        using var noGrad = no_grad();
        var x = randn(3, 8);
        var pastKeys = randn(3, 2, 4, 4);
        var pastValues = randn(3, 2, 4, 4);
        var memory = randn(3, 7, 8);

        var graph = new OnnxGraphBuilder();
        var xIn = graph.Input("x", DataType.Float, "n", 8);
        var pk = graph.Input("past_k", DataType.Float, "n", 2, "p", 4);
        var pv = graph.Input("past_v", DataType.Float, "n", 2, "p", 4);
        var mem = graph.Input("memory", DataType.Float, "n", "s", 8);
        var (selfOut, presentKeys, presentValues) = AttentionExporter.SelfStep(graph, attention, xIn, pk, pv, "self");
        var crossKeys = AttentionExporter.SequenceHeads(graph, attention, attention.Key, mem, "cross_k");
        var crossValues = AttentionExporter.SequenceHeads(graph, attention, attention.Value, mem, "cross_v");
        var crossOut = AttentionExporter.CrossStep(graph, attention, xIn, crossKeys, crossValues, "cross");
        graph.Output("self_out", selfOut, DataType.Float, "n", 8);
        graph.Output("present_k", presentKeys, DataType.Float, "n", 2, "p1", 4);
        graph.Output("present_v", presentValues, DataType.Float, "n", 2, "p1", 4);
        graph.Output("cross_out", crossOut, DataType.Float, "n", 8);
        using var runner = new OnnxRunner(graph.Build("attention", "test"));
        var onnx = runner.Run(("x", x), ("past_k", pastKeys), ("past_v", pastValues), ("memory", memory));

        var step = x.unsqueeze(1);
        var keys = cat([pastKeys, attention.Keys(step)], 2);
        var values = cat([pastValues, attention.Values(step)], 2);
        AssertClose("self-attention step", attention.Attend(step, keys, values, null).squeeze(1), onnx["self_out"]);
        AssertClose("self-attention present keys", keys, onnx["present_k"]);
        AssertClose("self-attention present values", values, onnx["present_v"]);
        AssertClose("cross-attention step", attention.Attend(step, attention.Keys(memory), attention.Values(memory), null).squeeze(1), onnx["cross_out"]);
    }

    [Fact]
    public void DecoderLayer_Step_MatchesTorchSharpLayer()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(50);
        using var layer = new CaptionDecoderLayer(TinyModels.Config());
        layer.eval();
        using var noGrad = no_grad();
        var x = randn(2, 32);
        var pastKeys = randn(2, 4, 3, 8);
        var pastValues = randn(2, 4, 3, 8);
        var crossKeys = randn(2, 4, 5, 8);
        var crossValues = randn(2, 4, 5, 8);

        var graph = new OnnxGraphBuilder();
        var (output, keys, values) = DecoderLayerExporter.Step(graph, layer,
            graph.Input("x", DataType.Float, "n", 32),
            graph.Input("past_k", DataType.Float, "n", 4, "p", 8), graph.Input("past_v", DataType.Float, "n", 4, "p", 8),
            graph.Input("cross_k", DataType.Float, "n", 4, "s", 8), graph.Input("cross_v", DataType.Float, "n", 4, "s", 8), "layer");
        graph.Output("y", output, DataType.Float, "n", 32);
        graph.Output("k", keys, DataType.Float, "n", 4, "p1", 8);
        graph.Output("v", values, DataType.Float, "n", 4, "p1", 8);
        using var runner = new OnnxRunner(graph.Build("layer", "test"));
        var onnx = runner.Run(("x", x), ("past_k", pastKeys), ("past_v", pastValues), ("cross_k", crossKeys), ("cross_v", crossValues));

        var (expected, expectedKeys, expectedValues) = layer.forward(x.unsqueeze(1), pastKeys, pastValues, crossKeys, crossValues, null);
        AssertClose("decoder layer step", expected.squeeze(1), onnx["y"]);
        AssertClose("decoder layer present keys", expectedKeys, onnx["k"]);
        AssertClose("decoder layer present values", expectedValues, onnx["v"]);
    }

    [Fact]
    public void LogMelFrontend_SinesAndNoise_MatchesTorchSharpFrontEnd()
    {
        using var scope = NewDisposeScope();
        using var frontend = new LogMelFrontend(CaptionModelConfig.Student(10));
        TinyModels.RandomiseBatchNorms(frontend, 51);
        frontend.eval();
        using var noGrad = no_grad();
        var audio = stack([tensor(TinyModels.SinesAndNoise(8000, 51, 300, 2500)), tensor(TinyModels.SinesAndNoise(8000, 52, 6000))]);

        var actual = RunSingle(g => LogMelFrontendExporter.Export(g, frontend, g.Input("audio", DataType.Float, "b", "s"), "frontend"), ("audio", audio));

        // The power of quiet bins is a difference of large float32 DFT sums, and ONNX Runtime sums in another order than
        // libtorch; in dB a relative power error of 1e-5 is 4e-5 dB. So: a max bound of 5e-4 and a much tighter mean.
        var expected = frontend.forward(audio);
        var mean = (expected - actual).abs().mean().item<float>();
        output.WriteLine($"log-mel front end: mean |diff| {mean:E2}");
        Assert.True(mean < 1e-5f, $"mean |diff| {mean}");
        AssertClose("log-mel front end", expected, actual, 5e-4f);
    }

    private static Tensor RunSingle(Func<OnnxGraphBuilder, string> build, params (string Name, Tensor Value)[] inputs)
    {
        var graph = new OnnxGraphBuilder();
        var result = build(graph);
        graph.OutputOfAnyShape("y", result, DataType.Float);
        using var runner = new OnnxRunner(graph.Build("layer", "parity test"));
        return runner.Run(inputs)["y"];
    }

    private void AssertClose(string what, Tensor expected, Tensor actual, float tolerance = Tolerance)
    {
        using var noGrad = no_grad();
        var difference = OnnxRunner.MaxAbsDiff(expected.detach(), actual);
        output.WriteLine($"{what}: max |diff| {difference:E2}");
        Assert.True(difference <= tolerance, $"{what}: max |diff| {difference} > {tolerance}");
    }
}
