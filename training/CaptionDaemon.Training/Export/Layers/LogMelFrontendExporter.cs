using CaptionDaemon.Training.Models;

namespace CaptionDaemon.Training.Export.Layers;

/// <summary>
/// The log-mel front end: waveform <c>[B, S]</c> to <c>[B, 1, MelBins, T]</c> with the same fixed DFT kernels and mel
/// matrix as the TorchSharp module: Conv, Split into real/imaginary, power, MatMul with the mel matrix, floor,
/// 10 log10 (as Log times 10 / ln 10: ONNX has only the natural logarithm), BatchNormalization over mel bins.
/// </summary>
internal static class LogMelFrontendExporter
{
    public static string Export(OnnxGraphBuilder graph, LogMelFrontend frontend, string waveform, string name)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(frontend);
        var bins = frontend.MelFilters.shape[1];
        var channel = graph.Node("Unsqueeze", $"{name}.channel", [waveform, graph.Int64s($"{name}.axis1", 1)]);
        var spectrum = ConvExporter.ExportFixed1d(graph, frontend.DftKernels, frontend.Hop, channel, $"{name}.dft");
        var parts = graph.Node("Split", $"{name}.split", [spectrum, graph.Int64s($"{name}.split_sizes", bins, bins)], 2,
            OnnxGraphBuilder.Attribute("axis", 1L));
        var power = graph.Node("Add", $"{name}.power", [
            graph.Node("Mul", $"{name}.re2", [parts[0], parts[0]]),
            graph.Node("Mul", $"{name}.im2", [parts[1], parts[1]]),
        ]);
        var mel = graph.Node("MatMul", $"{name}.mel", [graph.Initializer($"{name}.mel_filters", frontend.MelFilters), power]);
        var floored = graph.Node("Max", $"{name}.floor", [mel, graph.FloatScalar($"{name}.power_floor", LogMelFrontend.PowerFloor)]);
        var decibels = graph.Node("Mul", $"{name}.db", [
            graph.Node("Log", $"{name}.ln", [floored]),
            graph.FloatScalar($"{name}.db_per_neper", (float)(10 / Math.Log(10))),
        ]);
        var normalised = BatchNormExporter.Export(graph, frontend.Norm, decibels, $"{name}.norm");
        return graph.Node("Unsqueeze", $"{name}.image", [normalised, graph.Int64s($"{name}.axis1_image", 1)]);
    }
}
