using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CaptionDaemon.Training.Models;

/// <summary>
/// Native settings that must be in place before libtorch runs its first kernel.
/// <para>
/// oneDNN's AVX-512 convolution kernels, as shipped in TorchSharp-cpu 0.107's libtorch, write NaN into Conv2d input
/// gradients now and then on this project's machines (AMD EPYC VMs: 39 of 300 backward calls of a 4-to-8-channel
/// 3x3 convolution on 64x24 maps; 0 of 300 with the setting below). Limiting oneDNN to AVX2 removes that and keeps
/// the native convolutions, which are one to two orders of magnitude faster than a convolution composed of other ops.
/// It does not make the input gradients of few-channel convolutions right (finite but wrong by more than 1 for 3-to-5
/// and 4-to-4 channel layers); the encoder therefore computes those with <see cref="SafeConvolution"/>.
/// </para>
/// <para>
/// .NET keeps its own copy of the environment on Linux, so <see cref="Environment.SetEnvironmentVariable(string, string)"/>
/// is invisible to native <c>getenv</c>; the variable is set with libc's <c>setenv</c>. A value the user set wins.
/// </para>
/// <para>
/// glibc's malloc serves every block over 32 MiB with a fresh <c>mmap</c> and returns it with <c>munmap</c> when freed
/// (the dynamic threshold stops at 32 MiB on 64-bit). A training step of the student on 16 clips of 10 s makes several
/// such tensors (the first CNN block's activations and gradients are 66 MB each), so every step faulted in and zeroed
/// gigabytes of new pages (1.65 million page faults and 30% of the CPU time in the kernel in a benchmark run of
/// a few steps). With <c>mmap</c> off and the heap kept rather than trimmed, freed blocks are reused; the
/// <c>train-step</c> benchmark went from 2.27 to 0.82 s per step (README, "Training steps"). The cost is that the heap stays at its peak size until the
/// process ends, which suits a trainer. (Threads other than the main one allocate from arenas of at most 64 MiB, so
/// their larger blocks are still mapped; the trainer's steps run on the main thread.) A user's own malloc tunables
/// (<c>GLIBC_TUNABLES</c>) win.
/// </para>
/// </summary>
internal static partial class TorchRuntime
{
    public const string OneDnnIsaVariable = "ONEDNN_MAX_CPU_ISA";

    // mallopt parameters of glibc's malloc.h.
    private const int MallocTrimThreshold = -1;
    private const int MallocMmapMax = -4;

    /// <summary>Runs when the trainer assembly is first used, before any TorchSharp call made through it.</summary>
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries", Justification = "Must precede libtorch's first kernel in every host of this assembly (CLI, tests, benchmarks).")]
    internal static void Configure()
    {
        if (OperatingSystem.IsLinux())
        {
            _ = NativeMethods.setenv(OneDnnIsaVariable, "AVX2", overwrite: 0);
            if (Environment.GetEnvironmentVariable("GLIBC_TUNABLES")?.Contains("glibc.malloc.", StringComparison.Ordinal) != true)
            {
                _ = NativeMethods.mallopt(MallocMmapMax, 0);
                _ = NativeMethods.mallopt(MallocTrimThreshold, int.MaxValue);
            }
        }
    }

    private static partial class NativeMethods
    {
        [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
        [SuppressMessage("Style", "IDE1006:Naming Styles", Justification = "libc's name.")]
        internal static partial int setenv(string name, string value, int overwrite);

        [LibraryImport("libc")]
        [SuppressMessage("Style", "IDE1006:Naming Styles", Justification = "libc's name.")]
        internal static partial int mallopt(int parameter, int value);
    }
}
