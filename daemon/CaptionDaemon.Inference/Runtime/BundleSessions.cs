using CaptionDaemon.Inference.Bundles;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace CaptionDaemon.Inference.Runtime;

/// <summary>
/// The three ONNX Runtime sessions of a bundle, all on one execution provider (shared by every captioner;
/// <see cref="InferenceSession"/> runs are thread-safe).
/// </summary>
internal sealed class BundleSessions : IDisposable
{
    private const string CudaProviderName = "CUDAExecutionProvider";

    private BundleSessions(InferenceSession encoder, InferenceSession crossKv, InferenceSession decoderStep, ExecutionProvider provider)
    {
        Encoder = encoder;
        CrossKv = crossKv;
        DecoderStep = decoderStep;
        Provider = provider;
    }

    public InferenceSession Encoder { get; }

    public InferenceSession CrossKv { get; }

    public InferenceSession DecoderStep { get; }

    public ExecutionProvider Provider { get; }

    /// <summary>Graph bytes (already checked against the manifest) and the path each came from, for messages.</summary>
    public readonly record struct GraphBytes(byte[] Bytes, string Path);

    public static BundleSessions Open(
        GraphBytes encoder, GraphBytes crossKv, GraphBytes decoderStep, CaptionerOptions options, string bundle, ILogger logger)
    {
        if (options.ExecutionProvider != ExecutionProviderPreference.Cpu)
        {
            var reason = CudaUnavailableReason();
            if (reason is null)
            {
                try
                {
                    return OpenOn(ExecutionProvider.Cuda, encoder, crossKv, decoderStep, options);
                }
                catch (OnnxRuntimeException e)
                {
                    // Missing CUDA/cuDNN libraries or no device surface here; a broken graph would fail the CPU attempt too.
                    reason = CudaLibraries.Explain(e.Message) ?? $"creating CUDA sessions failed: {e.Message}";
                }
                catch (CudaAppendException e)
                {
                    reason = CudaLibraries.Explain(e.Message) ?? e.Message;
                }
            }

            if (options.ExecutionProvider == ExecutionProviderPreference.Cuda)
            {
                throw new ExecutionProviderException($"{bundle}: the CUDA execution provider was requested but cannot be used: {reason}");
            }

            InferenceLog.CudaFallback(logger, bundle, reason);
        }

        return OpenOn(ExecutionProvider.Cpu, encoder, crossKv, decoderStep, options);
    }

    /// <summary>
    /// Null when this process's ONNX Runtime build offers the CUDA provider and its libraries load, otherwise why not
    /// (the missing library and what installs it, rather than ONNX Runtime's own error line on stderr).
    /// </summary>
    private static string? CudaUnavailableReason()
    {
        var available = OrtEnv.Instance().GetAvailableProviders();
        return available.Contains(CudaProviderName, StringComparer.Ordinal)
            ? CudaLibraries.MissingReason()
            : $"this ONNX Runtime build has no {CudaProviderName} (available: {string.Join(", ", available)}); "
                + "build with -p:OnnxRuntimeFlavor=Gpu for the GPU native package";
    }

    private static BundleSessions OpenOn(
        ExecutionProvider provider, GraphBytes encoder, GraphBytes crossKv, GraphBytes decoderStep, CaptionerOptions options)
    {
        InferenceSession? e = null, c = null, d = null;
        try
        {
            e = Create(encoder, provider, options);
            c = Create(crossKv, provider, options);
            d = Create(decoderStep, provider, options);
            return new BundleSessions(e, c, d, provider);
        }
        catch
        {
            d?.Dispose();
            c?.Dispose();
            e?.Dispose();
            throw;
        }
    }

    private static InferenceSession Create(GraphBytes graph, ExecutionProvider provider, CaptionerOptions options)
    {
        using var so = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = options.IntraOpThreads,
            InterOpNumThreads = options.InterOpThreads,
            ExecutionMode = options.InterOpThreads > 1 ? ExecutionMode.ORT_PARALLEL : ExecutionMode.ORT_SEQUENTIAL,
            LogId = Path.GetFileName(graph.Path),
        };
        if (provider == ExecutionProvider.Cuda)
        {
            try
            {
                so.AppendExecutionProvider_CUDA(options.CudaDeviceId);
            }
            catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
            {
                // The CPU-only native library has no CUDA entry point; a GPU build without CUDA libraries fails here.
                throw new CudaAppendException($"appending the CUDA provider (device {options.CudaDeviceId}) failed: {ex.Message}", ex);
            }

            return new InferenceSession(graph.Bytes, so);
        }

        try
        {
            return new InferenceSession(graph.Bytes, so);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new BundleException($"{graph.Path}: ONNX Runtime cannot load the graph: {ex.Message}", ex);
        }
    }

    public void Dispose()
    {
        DecoderStep.Dispose();
        CrossKv.Dispose();
        Encoder.Dispose();
    }

    private sealed class CudaAppendException(string message, Exception inner) : Exception(message, inner);
}
