using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using CaptionDaemon.Inference.Runtime;
using CaptionDaemon.Inference.Tests.Fixtures;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace CaptionDaemon.Inference.Tests.Runtime;

/// <summary>
/// Choosing the execution provider on the flavour this test project was built with. CI runs these on both flavours:
/// the default (CPU native package) and `-p:OnnxRuntimeFlavor=Gpu` (Microsoft.ML.OnnxRuntime.Gpu.Linux), where a machine
/// without CUDA must fall back with one line naming the missing library, and a machine with CUDA must run on it.
/// </summary>
[Collection(ExportedBundleCollection.Name)]
public sealed partial class ExecutionProviderTests(ExportedBundleFixture fixture)
{
    private static readonly string Flavor = typeof(ExecutionProviderTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "OnnxRuntimeFlavor").Value!;

    private static bool OffersCuda => OrtEnv.Instance().GetAvailableProviders().Contains("CUDAExecutionProvider");

    [Fact]
    public void NativePackage_OfThisFlavor_OffersCudaOnlyOnGpu()
    {
        Assert.Contains(Flavor, new[] { "Cpu", "Gpu" });
        Assert.Equal(Flavor == "Gpu", OffersCuda);
        Assert.Contains("CPUExecutionProvider", OrtEnv.Instance().GetAvailableProviders());
    }

    [Fact]
    public void Load_Auto_UsesCudaOrFallsBackToCpuWithOneLineNamingWhatIsMissing()
    {
        var logger = new CapturingLogger();

        using var bundle = CaptionBundle.Load(fixture.Directory, new CaptionerOptions { ExecutionProvider = ExecutionProviderPreference.Auto }, logger);

        var warnings = logger.Entries.Where(e => e.Level >= LogLevel.Warning).Select(e => e.Message).ToArray();
        if (bundle.ExecutionProvider == ExecutionProvider.Cuda)
        {
            Assert.Equal("Gpu", Flavor);
            Assert.Empty(warnings);
            return;
        }

        var line = Assert.Single(warnings);
        Assert.Contains("running caption bundle", line, StringComparison.Ordinal);
        AssertNamesWhatIsMissing(line);
    }

    [Fact]
    public void Load_CudaRequired_RunsOnCudaOrFailsNamingWhatIsMissing()
    {
        ExecutionProviderException error;
        try
        {
            using var gpu = CaptionBundle.Load(fixture.Directory, new CaptionerOptions { ExecutionProvider = ExecutionProviderPreference.Cuda });
            Assert.Equal("Gpu", Flavor);
            Assert.Equal(ExecutionProvider.Cuda, gpu.ExecutionProvider);
            return;
        }
        catch (ExecutionProviderException e)
        {
            error = e;
        }

        Assert.Contains("CUDA execution provider was requested but cannot be used", error.Message, StringComparison.Ordinal);
        AssertNamesWhatIsMissing(error.Message);
    }

    [Fact]
    public void Explain_DotNetLoaderMessageOfAMissingLibrary_NamesItAndTheRequirement()
    {
        // The real message of .NET's loader (dlopen's error inside), as the probe of the provider library gets it.
        var e = Assert.Throws<DllNotFoundException>(() => NativeLibrary.Load("libcudnn_captiond_absent.so.9"));

        var reason = CudaLibraries.Explain(e.Message);

        Assert.NotNull(reason);
        Assert.StartsWith("libcudnn_captiond_absent.so.9 is missing (cuDNN 9)", reason, StringComparison.Ordinal);
        Assert.Contains(CudaLibraries.Requirement, reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Explain_MessageNamingNoSharedObject_ReturnsNull()
    {
        Assert.Null(CudaLibraries.Explain("CUDA failure 100: no CUDA-capable device is detected"));
    }

    [Theory]
    [InlineData("libcublasLt.so.13", "CUDA 13")]
    [InlineData("libcudart.so.13", "CUDA 13")]
    [InlineData("libcudnn_graph.so.9", "cuDNN 9")]
    [InlineData("libcurand.so.10", "the CUDA toolkit")]
    [InlineData("libcuda.so.1", "the NVIDIA driver")]
    public void Part_LibraryOfTheCudaProvider_SaysWhatInstallsIt(string library, string part)
    {
        Assert.Equal(part, CudaLibraries.Part(library));
    }

    private static void AssertNamesWhatIsMissing(string message)
    {
        if (Flavor == "Cpu")
        {
            Assert.Contains("no CUDAExecutionProvider", message, StringComparison.Ordinal);
            Assert.Contains("-p:OnnxRuntimeFlavor=Gpu", message, StringComparison.Ordinal);
            return;
        }

        // The Gpu flavour on a machine without CUDA: the named library must really be one this machine cannot load.
        var named = MissingLibrary().Match(message);
        Assert.True(named.Success, $"no missing library named in: {message}");
        Assert.False(NativeLibrary.TryLoad(named.Groups["name"].Value, out var handle), $"{named.Groups["name"].Value} loads here");
        Assert.Equal(IntPtr.Zero, handle);
        Assert.Contains(CudaLibraries.Requirement, message, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"(?<name>lib[\w.+-]+?\.so(\.\d+)*) is missing")]
    private static partial Regex MissingLibrary();
}
