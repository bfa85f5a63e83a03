using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Export.Layers;

/// <summary>Convolutions as ONNX Conv: a Conv2d module, or a fixed 1-D kernel such as the front end's DFT.</summary>
internal static class ConvExporter
{
    public static string Export(OnnxGraphBuilder graph, Conv2d conv, string input, string name)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(conv);
        if (conv.padding_mode != PaddingModes.Zeros || conv.padding is null)
        {
            throw new NotSupportedException($"{name}: only explicit zero padding is exported.");
        }

        var inputs = new List<string> { input, graph.Initializer($"{name}.weight", conv.weight) };
        if (conv.bias is not null)
        {
            inputs.Add(graph.Initializer($"{name}.bias", conv.bias));
        }

        // ONNX pads are [begin_1, begin_2, end_1, end_2]; TorchSharp pads both ends by the same amount.
        return graph.Node("Conv", name, inputs,
            OnnxGraphBuilder.Attribute("kernel_shape", conv.kernel_size),
            OnnxGraphBuilder.Attribute("strides", conv.stride),
            OnnxGraphBuilder.Attribute("dilations", conv.dilation),
            OnnxGraphBuilder.Attribute("pads", conv.padding.Concat(conv.padding)),
            OnnxGraphBuilder.Attribute("group", conv.groups));
    }

    /// <summary>Conv over <c>[B, C, L]</c> with a fixed kernel <c>[out, C, K]</c>, no bias, no padding.</summary>
    public static string ExportFixed1d(OnnxGraphBuilder graph, Tensor kernel, long stride, string input, string name)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(kernel);
        return graph.Node("Conv", name, [input, graph.Initializer($"{name}.kernel", kernel)],
            OnnxGraphBuilder.Attribute("kernel_shape", [kernel.shape[2]]),
            OnnxGraphBuilder.Attribute("strides", [stride]));
    }
}
