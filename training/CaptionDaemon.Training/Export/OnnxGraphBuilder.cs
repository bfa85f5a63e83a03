using System.Runtime.InteropServices;
using CaptionDaemon.Training.Export.Onnx;
using Google.Protobuf;
using static TorchSharp.torch;
using DataType = CaptionDaemon.Training.Export.Onnx.TensorProto.Types.DataType;

namespace CaptionDaemon.Training.Export;

/// <summary>One dimension of a graph input or output: a fixed size or a symbolic name such as <c>batch</c>.</summary>
internal readonly record struct OnnxDim(long Size, string? Symbol)
{
    public static implicit operator OnnxDim(long size) => new(size, null);

    public static implicit operator OnnxDim(string symbol) => new(0, symbol);
}

/// <summary>
/// Builds one ONNX graph (opset 17, IR version 8) node by node: initialisers from TorchSharp tensors, constants,
/// nodes with attributes, and typed inputs/outputs with symbolic dimensions. Value names are made unique from
/// readable hints (<c>decoder.0.self.q</c>) so that a graph stays debuggable in Netron.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    public const int OpsetVersion = 17;
    public const long IrVersion = 8;
    public const string ProducerName = "captiond-train";

    private readonly GraphProto _graph = new();
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>Declares a graph input; returns its name.</summary>
    public string Input(string name, DataType type, params OnnxDim[] dims)
    {
        Reserve(name);
        _graph.Input.Add(ValueInfo(name, type, dims));
        return name;
    }

    /// <summary>Declares <paramref name="value"/> as the graph output <paramref name="name"/> (through Identity if named otherwise).</summary>
    public void Output(string name, string value, DataType type, params OnnxDim[] dims)
    {
        if (value != name)
        {
            Reserve(name);
            _graph.Node.Add(new NodeProto { OpType = "Identity", Name = name, Input = { value }, Output = { name } });
        }

        _graph.Output.Add(ValueInfo(name, type, dims));
    }

    /// <summary>A float32 initialiser holding a copy of <paramref name="tensor"/> (detached, on the CPU, contiguous).</summary>
    public string Initializer(string hint, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var data = tensor.detach().cpu().to_type(ScalarType.Float32).contiguous();
        return Initializer(hint, data.data<float>().ToArray(), data.shape);
    }

    /// <summary>A float32 initialiser of the given shape.</summary>
    public string Initializer(string hint, ReadOnlySpan<float> data, params long[] dims) =>
        AddInitializer(hint, DataType.Float, MemoryMarshal.AsBytes(data), dims);

    /// <summary>A 1-D int64 constant, e.g. a shape for Reshape or axes for Unsqueeze.</summary>
    public string Int64s(string hint, params long[] values) =>
        AddInitializer(hint, DataType.Int64, MemoryMarshal.AsBytes(values.AsSpan()), values.Length);

    /// <summary>A scalar (rank 0) int64 constant, e.g. an index that removes the axis it gathers on.</summary>
    public string Int64Scalar(string hint, long value) =>
        AddInitializer(hint, DataType.Int64, MemoryMarshal.AsBytes(new[] { value }.AsSpan()));

    /// <summary>A scalar (rank 0) float32 constant.</summary>
    public string FloatScalar(string hint, float value) =>
        AddInitializer(hint, DataType.Float, MemoryMarshal.AsBytes(new[] { value }.AsSpan()));

    /// <summary>Adds a node with one output and returns the output's name.</summary>
    public string Node(string opType, string hint, IReadOnlyList<string> inputs, params AttributeProto[] attributes) =>
        Node(opType, hint, inputs, 1, attributes)[0];

    /// <summary>Adds a node with <paramref name="outputs"/> outputs and returns their names.</summary>
    public string[] Node(string opType, string hint, IReadOnlyList<string> inputs, int outputs, params AttributeProto[] attributes)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var node = new NodeProto { OpType = opType, Name = Unique(hint), Input = { inputs } };
        var names = new string[outputs];
        for (var i = 0; i < outputs; i++)
        {
            names[i] = outputs == 1 ? node.Name : Unique($"{hint}.{i}");
        }

        node.Output.AddRange(names);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return names;
    }

    public static AttributeProto Attribute(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Attribute(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto Attribute(string name, IEnumerable<long> values) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Ints, Ints = { values } };

    /// <summary>The finished model: the graph, opset 17 of the default domain, IR version 8.</summary>
    public ModelProto Build(string graphName, string docString)
    {
        var graph = _graph.Clone();
        graph.Name = graphName;
        graph.DocString = docString;
        return new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = ProducerName,
            ProducerVersion = typeof(OnnxGraphBuilder).Assembly.GetName().Version?.ToString() ?? "0",
            Graph = graph,
            OpsetImport = { new OperatorSetIdProto { Domain = string.Empty, Version = OpsetVersion } },
        };
    }

    private string AddInitializer(string hint, DataType type, ReadOnlySpan<byte> littleEndianBytes, params long[] dims)
    {
        // raw_data must be little-endian (onnx.proto); MemoryMarshal gives host order.
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("ONNX export needs a little-endian host.");
        }

        var tensor = new TensorProto { Name = Unique(hint), DataType = (int)type, RawData = ByteString.CopyFrom(littleEndianBytes) };
        tensor.Dims.AddRange(dims);
        _graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    private static ValueInfoProto ValueInfo(string name, DataType type, OnnxDim[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
        {
            shape.Dim.Add(dim.Symbol is null
                ? new TensorShapeProto.Types.Dimension { DimValue = dim.Size }
                : new TensorShapeProto.Types.Dimension { DimParam = dim.Symbol });
        }

        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    private void Reserve(string name)
    {
        if (!_names.Add(name))
        {
            throw new InvalidOperationException($"The graph already has a value named '{name}'.");
        }
    }

    private string Unique(string hint)
    {
        var name = hint;
        for (var i = 1; !_names.Add(name); i++)
        {
            name = $"{hint}_{i}";
        }

        return name;
    }
}
