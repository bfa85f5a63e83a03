using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace CaptionDaemon.Inference.Decoding;

/// <summary>
/// Preallocated memory that hands out tensor views of any shape over its prefix, so that one buffer serves every batch
/// size and every past length without copying or allocating on the decode path.
/// </summary>
internal interface ITensorStorage : IDisposable
{
    /// <summary>Elements the storage holds.</summary>
    long Capacity { get; }

    /// <summary>An OrtValue over the first product(shape) elements; it does not own the memory.</summary>
    OrtValue View(long[] shape);
}

internal static class TensorShapes
{
    public static long Elements(long[] shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            n = checked(n * d);
        }

        return n;
    }

    public static void CheckFits(long[] shape, long capacity)
    {
        var n = Elements(shape);
        if (n > capacity)
        {
            throw new InvalidOperationException($"A view of {n} elements does not fit a buffer of {capacity}.");
        }
    }
}

/// <summary>Host memory on the pinned object heap: never moves, so views need no pinning per use.</summary>
internal sealed class HostTensor<T> : ITensorStorage
    where T : unmanaged
{
    private readonly T[] _array;

    public HostTensor(int length)
    {
        _array = GC.AllocateArray<T>(length, pinned: true);
    }

    public long Capacity => _array.Length;

    public Span<T> Span => _array;

    public OrtValue View(long[] shape)
    {
        TensorShapes.CheckFits(shape, _array.Length);
        return OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, new Memory<T>(_array, 0, (int)TensorShapes.Elements(shape)), shape);
    }

    public void Dispose()
    {
        // Managed memory; nothing native to release. Views must be disposed by their owners first.
    }
}

/// <summary>float32 memory allocated on the execution provider's device (CUDA) through ONNX Runtime's device allocator.</summary>
internal sealed class DeviceTensor : ITensorStorage
{
    private readonly OrtMemoryAllocation _allocation;

    public DeviceTensor(OrtAllocator allocator, long elements)
    {
        Capacity = elements;
        _allocation = allocator.Allocate(checked((uint)(Math.Max(elements, 1) * sizeof(float))));
    }

    public long Capacity { get; }

    public OrtValue View(long[] shape)
    {
        TensorShapes.CheckFits(shape, Capacity);

        // OrtMemoryAllocation is a SafeHandle whose handle is the device pointer; it lives as long as this storage.
        return OrtValue.CreateTensorValueWithData(
            _allocation.Info, TensorElementType.Float, shape, _allocation.DangerousGetHandle(), TensorShapes.Elements(shape) * sizeof(float));
    }

    public void Dispose() => _allocation.Dispose();
}
