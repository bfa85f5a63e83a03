using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Tests.Models;

public sealed class TorchRuntimeTests
{
    [Fact]
    public void Conv2dBackward_ManySmallCalls_NeverGivesNonFiniteGradients()
    {
        // Without TorchRuntime's oneDNN setting, 39 of 300 such calls gave NaN gradients on this project's machines.
        random.manual_seed(7);
        using var conv = nn.Conv2d(4, 8, 3, padding: 1, bias: false);
        for (var trial = 0; trial < 300; trial++)
        {
            using var scope = NewDisposeScope();
            conv.zero_grad();
            var x = randn([8, 4, 64, 24], requires_grad: true);
            nn.functional.relu(conv.forward(x)).sum().backward();
            Assert.True(x.grad!.isfinite().all().item<bool>(), $"input gradient, trial {trial}");
            Assert.True(conv.weight!.grad!.isfinite().all().item<bool>(), $"weight gradient, trial {trial}");
        }
    }

    [Fact]
    public void LargeTensor_ComesFromTheHeapNotAFreshMapping()
    {
        // Without TorchRuntime's malloc setting, glibc maps every block over 32 MiB afresh, and a training step faults in
        // its pages anew each time (TorchRuntime's summary): the mapped bytes grow by the tensor's 48 MiB. (Under 64 MiB,
        // a block also fits the heaps of the arenas of threads other than the main one, such as the test runner's.)
        var before = MallocInfo.Read().MappedBytes;
        using var tensor = ones([12, 1024, 1024]);
        var mapped = MallocInfo.Read().MappedBytes - before;
        Assert.True(mapped < 16L << 20, $"{mapped} more bytes in mmapped blocks after allocating a 48 MiB tensor");
    }

    [StructLayout(LayoutKind.Sequential)]
    private readonly struct MallocInfo
    {
        // glibc's struct mallinfo2: arena, ordblks, smblks, hblks, hblkhd, usmblks, fsmblks, uordblks, fordblks, keepcost.
        private readonly nuint _arena, _ordblks, _smblks, _hblks, _hblkhd, _usmblks, _fsmblks, _uordblks, _fordblks, _keepcost;

        public long MappedBytes => (long)_hblkhd;

        public static MallocInfo Read() => mallinfo2();

        [DllImport("libc")]
        private static extern MallocInfo mallinfo2();
    }
}
