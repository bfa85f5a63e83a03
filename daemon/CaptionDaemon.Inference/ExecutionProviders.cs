namespace CaptionDaemon.Inference;

/// <summary>Which ONNX Runtime execution provider a bundle should run on.</summary>
public enum ExecutionProviderPreference
{
    /// <summary>CUDA when this process's ONNX Runtime build and the machine can use it, otherwise the CPU (logged once with the reason).</summary>
    Auto,

    /// <summary>The CPU only.</summary>
    Cpu,

    /// <summary>CUDA only; loading fails with <see cref="ExecutionProviderException"/> when CUDA cannot be used.</summary>
    Cuda,
}

/// <summary>The execution provider a loaded bundle runs on.</summary>
public enum ExecutionProvider
{
    /// <summary>ONNX Runtime's CPU execution provider.</summary>
    Cpu,

    /// <summary>ONNX Runtime's CUDA execution provider; inputs and outputs of the decoder stay on the device.</summary>
    Cuda,
}

/// <summary>The requested execution provider cannot be used (e.g. CUDA requested on a machine or build without it).</summary>
public sealed class ExecutionProviderException : Exception
{
    /// <summary>Creates the exception with no message.</summary>
    public ExecutionProviderException()
    {
    }

    /// <summary>Creates the exception with a message that says why the provider cannot be used.</summary>
    public ExecutionProviderException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    public ExecutionProviderException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
