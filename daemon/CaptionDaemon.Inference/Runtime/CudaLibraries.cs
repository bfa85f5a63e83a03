using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace CaptionDaemon.Inference.Runtime;

/// <summary>
/// Whether the CUDA provider library of the Gpu flavour (Microsoft.ML.OnnxRuntime.Gpu.Linux) can load here, and if not,
/// which library is missing and what installs it. Loading the provider library ourselves first finds the first missing
/// dependency exactly as the dynamic loader sees it, without ONNX Runtime printing its own error line to stderr: the
/// fallback is then one log line.
/// </summary>
internal static partial class CudaLibraries
{
    /// <summary>What the pinned ONNX Runtime's CUDA provider (1.32.0) is built against.</summary>
    public const string Requirement = "CUDA 13 and cuDNN 9";

    private const string ProviderLibrary = "libonnxruntime_providers_cuda.so";

    /// <summary>
    /// Null when the provider library and every library it needs load (or there is no provider library file to try, so
    /// ONNX Runtime's own attempt decides), otherwise the reason naming the missing library.
    /// </summary>
    public static string? MissingReason()
    {
        var path = FindProviderLibrary();
        if (path is null)
        {
            return null;
        }

        try
        {
            NativeLibrary.Free(NativeLibrary.Load(path));
            return null;
        }
        catch (DllNotFoundException e)
        {
            return Explain(e.Message) ?? $"{path} cannot be loaded: {e.Message}";
        }
        catch (BadImageFormatException e)
        {
            return $"{path} cannot be loaded: {e.Message}";
        }
    }

    /// <summary>
    /// The reason for a loader message (ONNX Runtime's or .NET's) that names a shared object it could not open, or
    /// null when the message names none.
    /// </summary>
    public static string? Explain(string loaderMessage)
    {
        var match = MissingObject().Match(loaderMessage);
        if (!match.Success)
        {
            return null;
        }

        var library = match.Groups["name"].Value;
        return $"{library} is missing ({Part(library)}); the Gpu flavour's CUDA provider needs {Requirement} "
            + "and the NVIDIA driver on the library path (see the README's GPU section)";
    }

    /// <summary>What provides a library the CUDA provider links against, from its name.</summary>
    public static string Part(string library)
    {
        var soname = SharedObject().Match(library);
        var stem = soname.Success ? soname.Groups["stem"].Value : library;
        var major = soname.Groups["major"].Success ? " " + soname.Groups["major"].Value : "";
        if (stem == "libcuda")
        {
            return "the NVIDIA driver";
        }

        if (stem.StartsWith("libcudnn", StringComparison.Ordinal))
        {
            return "cuDNN" + major;
        }

        // cuRAND and cuFFT carry their own sonames (libcurand.so.10 ships with CUDA 13), so they name no CUDA version.
        return stem switch
        {
            "libcudart" or "libcublas" or "libcublasLt" or "libnvrtc" => "CUDA" + major,
            "libcurand" or "libcufft" => "the CUDA toolkit",
            _ => "a library the CUDA provider needs",
        };
    }

    private static string? FindProviderLibrary()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        // Beside the application after a RID-specific publish; under runtimes/<rid>/native in a build's output folder.
        string[] candidates =
        [
            Path.Combine(AppContext.BaseDirectory, ProviderLibrary),
            Path.Combine(AppContext.BaseDirectory, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", ProviderLibrary),
            Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-" + RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant(), "native", ProviderLibrary),
        ];
        return candidates.FirstOrDefault(File.Exists);
    }

    [GeneratedRegex(@"(?<name>lib[\w.+-]+?\.so(\.\d+)*): cannot open shared object file")]
    private static partial Regex MissingObject();

    [GeneratedRegex(@"^(?<stem>lib[\w+-]+)\.so(\.(?<major>\d+))?")]
    private static partial Regex SharedObject();
}
