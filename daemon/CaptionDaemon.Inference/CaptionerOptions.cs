namespace CaptionDaemon.Inference;

/// <summary>How a caption bundle is run: execution provider and ONNX Runtime threads. Bindable from configuration.</summary>
public sealed class CaptionerOptions
{
    /// <summary>Execution provider to use; <see cref="ExecutionProviderPreference.Auto"/> by default.</summary>
    public ExecutionProviderPreference ExecutionProvider { get; set; } = ExecutionProviderPreference.Auto;

    /// <summary>Threads ONNX Runtime uses inside one operator; 0 (default) lets ONNX Runtime choose (one per core).</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>
    /// Threads ONNX Runtime uses to run independent operators in parallel; 0 or 1 (default) runs operators one after
    /// another, which suits these mostly sequential graphs.
    /// </summary>
    public int InterOpThreads { get; set; }

    /// <summary>CUDA device ordinal used when the provider is CUDA.</summary>
    public int CudaDeviceId { get; set; }

    internal void Validate()
    {
        if (!Enum.IsDefined(ExecutionProvider))
        {
            throw new ArgumentOutOfRangeException(nameof(ExecutionProvider), ExecutionProvider, "Unknown execution provider preference.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(IntraOpThreads, nameof(IntraOpThreads));
        ArgumentOutOfRangeException.ThrowIfNegative(InterOpThreads, nameof(InterOpThreads));
        ArgumentOutOfRangeException.ThrowIfNegative(CudaDeviceId, nameof(CudaDeviceId));
    }
}
