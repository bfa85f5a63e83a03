using Microsoft.Extensions.Logging;

namespace CaptionDaemon.Inference;

internal static partial class InferenceLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning,
        Message = "CUDA execution provider not used, running caption bundle {Bundle} on the CPU: {Reason}")]
    public static partial void CudaFallback(ILogger logger, string bundle, string reason);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information,
        Message = "Loaded caption bundle {Name} from {Directory} on {Provider} (vocabulary {VocabSize}, window {WindowSeconds} s)")]
    public static partial void BundleLoaded(ILogger logger, string name, string directory, ExecutionProvider provider, int vocabSize, double windowSeconds);
}
