using System.CommandLine;
using CaptionDaemon.Inference;

namespace CaptionDaemon.Benchmarks;

/// <summary>
/// <c>--provider cpu|cuda|auto</c> of the scenarios that run a bundle. <c>cuda</c> fails rather than falling back, so
/// that a figure labelled CUDA was measured on CUDA; it needs the Gpu flavour (<c>-p:OnnxRuntimeFlavor=Gpu</c>).
/// </summary>
internal static class ProviderOption
{
    public static Option<ExecutionProviderPreference> Create() => new("--provider")
    {
        Description = "Execution provider: cpu, cuda (fails when CUDA cannot be used; build with -p:OnnxRuntimeFlavor=Gpu) or auto.",
        DefaultValueFactory = _ => ExecutionProviderPreference.Cpu,
        CustomParser = result =>
        {
            var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
            if (Enum.TryParse<ExecutionProviderPreference>(text, ignoreCase: true, out var preference) && Enum.IsDefined(preference))
            {
                return preference;
            }

            result.AddError($"--provider {text}: expected cpu, cuda or auto");
            return ExecutionProviderPreference.Cpu;
        },
    };

    /// <summary>The configuration value of <c>Model:ExecutionProvider</c> for a preference.</summary>
    public static string ConfigurationValue(ExecutionProviderPreference preference) => preference.ToString();
}
