using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Text;

namespace CaptionDaemon.Training.Incremental;

/// <summary>
/// SHA-256 of a model's weights, BatchNorm statistics and vocabulary as loaded, not of its files: a checkpoint and the
/// <c>checkpoint/</c> copy inside its bundle have one fingerprint however the files were written, so targets stored with
/// a memory are recognised wherever the model travels.
/// </summary>
internal static class ModelFingerprint
{
    public static string Of(CaptionModel model, Vocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(vocabulary);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, tensor) in model.state_dict().OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(name + "\n"));
            using var contiguous = tensor.detach().contiguous();
            if (contiguous.dtype == TorchSharp.torch.ScalarType.Float32)
            {
                hash.AppendData(MemoryMarshal.AsBytes(contiguous.data<float>().ToArray().AsSpan()));
            }
            else
            {
                using var asDouble = contiguous.to_type(TorchSharp.torch.ScalarType.Float64);
                hash.AppendData(MemoryMarshal.AsBytes(asDouble.data<double>().ToArray().AsSpan()));
            }
        }

        hash.AppendData(Encoding.UTF8.GetBytes(string.Join('\n', vocabulary.Tokens)));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
