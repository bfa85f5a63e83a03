using CaptionDaemon.Training.Export.Onnx;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Tests.Export;

/// <summary>Runs an exported graph in real ONNX Runtime (CPU) with TorchSharp tensors in and out.</summary>
internal sealed class OnnxRunner : IDisposable
{
    private readonly InferenceSession _session;

    public OnnxRunner(ModelProto model)
        : this(model.ToByteArray())
    {
    }

    public OnnxRunner(byte[] model) => _session = new InferenceSession(model);

    public OnnxRunner(string path) => _session = new InferenceSession(path);

    public IReadOnlyList<string> InputNames => _session.InputNames;

    public IReadOnlyList<string> OutputNames => _session.OutputNames;

    public NodeMetadata InputMetadata(string name) => _session.InputMetadata[name];

    public NodeMetadata OutputMetadata(string name) => _session.OutputMetadata[name];

    /// <summary>Runs the graph; float32 and int64 tensors in, every output (float32) back as a tensor by name.</summary>
    public Dictionary<string, Tensor> Run(params (string Name, Tensor Value)[] inputs)
    {
        var values = new List<OrtValue>();
        try
        {
            foreach (var (_, value) in inputs)
            {
                var contiguous = value.contiguous();
                // TorchSharp cannot enumerate an empty tensor (the first decoder step's past has length 0).
                var empty = contiguous.numel() == 0;
                values.Add(contiguous.dtype == ScalarType.Int64
                    ? OrtValue.CreateTensorValueFromMemory(empty ? [] : contiguous.data<long>().ToArray(), contiguous.shape)
                    : OrtValue.CreateTensorValueFromMemory(empty ? [] : contiguous.data<float>().ToArray(), contiguous.shape));
            }

            using var runOptions = new RunOptions();
            using var outputs = _session.Run(runOptions, inputs.Select(i => i.Name).ToArray(), values, _session.OutputNames);
            var result = new Dictionary<string, Tensor>();
            for (var i = 0; i < outputs.Count; i++)
            {
                var shape = outputs[i].GetTensorTypeAndShape().Shape;
                result[_session.OutputNames[i]] = tensor(outputs[i].GetTensorDataAsSpan<float>().ToArray(), shape);
            }

            return result;
        }
        finally
        {
            foreach (var value in values)
            {
                value.Dispose();
            }
        }
    }

    public void Dispose() => _session.Dispose();

    public static float MaxAbsDiff(Tensor a, Tensor b)
    {
        Assert.Equal(a.shape, b.shape);
        return a.numel() == 0 ? 0f : (a - b).abs().max().item<float>();
    }
}
