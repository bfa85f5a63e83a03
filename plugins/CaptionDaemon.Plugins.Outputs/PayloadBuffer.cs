using System.Buffers;

namespace CaptionDaemon.Plugins.Outputs;

/// <summary>
/// A growable byte buffer that a sink keeps for its whole life, so that serialising a batch allocates nothing once
/// the buffer has grown to the usual batch size. Unlike ArrayBufferWriter it can be cut back to an earlier length,
/// which lets a sink take a failed batch out again (the host retries that batch).
/// </summary>
internal sealed class PayloadBuffer : IBufferWriter<byte>
{
    private byte[] _buffer;
    private int _count;

    public PayloadBuffer(int initialCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(initialCapacity);
        _buffer = new byte[initialCapacity];
    }

    /// <summary>Bytes written so far.</summary>
    public int Count => _count;

    /// <summary>The bytes written so far; valid until the next write.</summary>
    public ReadOnlyMemory<byte> Written => _buffer.AsMemory(0, _count);

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _buffer.Length - _count);
        _count += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        EnsureFree(sizeHint);
        return _buffer.AsMemory(_count);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        EnsureFree(sizeHint);
        return _buffer.AsSpan(_count);
    }

    /// <summary>Appends one byte (the newline between JSON lines).</summary>
    public void Append(byte value)
    {
        EnsureFree(1);
        _buffer[_count++] = value;
    }

    /// <summary>Drops everything written after the first <paramref name="count"/> bytes.</summary>
    public void Truncate(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _count);
        _count = count;
    }

    public void Clear() => _count = 0;

    private void EnsureFree(int sizeHint)
    {
        var needed = Math.Max(sizeHint, 1);
        if (_buffer.Length - _count >= needed)
        {
            return;
        }

        var size = Math.Max(checked(_count + needed), _buffer.Length * 2);
        Array.Resize(ref _buffer, size);
    }
}
