namespace CaptionDaemon.Windowing;

/// <summary>
/// Buffers of exactly one window, reused between the window rings, the ready queue and the batch scheduler so that
/// no window allocates once the pipeline is warm. Thread-safe.
/// </summary>
/// <remarks>
/// Windows in flight are bounded by the queue capacity plus one batch, so the pool keeps at most
/// <see cref="MaxRetained"/> buffers; a buffer returned beyond that is left to the GC (only after a burst).
/// </remarks>
internal sealed class WindowBufferPool
{
    private readonly float[][] _free;
    private readonly Lock _lock = new();
    private int _count;

    /// <summary>Creates an empty pool.</summary>
    /// <param name="windowSamples">Samples per window buffer.</param>
    /// <param name="maxRetained">Buffers kept for reuse at most.</param>
    public WindowBufferPool(int windowSamples, int maxRetained)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(windowSamples, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRetained, 1);
        WindowSamples = windowSamples;
        _free = new float[maxRetained][];
    }

    /// <summary>Samples per buffer.</summary>
    public int WindowSamples { get; }

    /// <summary>Buffers kept for reuse at most.</summary>
    public int MaxRetained => _free.Length;

    /// <summary>Buffers waiting for reuse now.</summary>
    public int Available
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>Takes a buffer (contents unspecified).</summary>
    public float[] Rent()
    {
        lock (_lock)
        {
            if (_count > 0)
            {
                var buffer = _free[--_count];
                _free[_count] = null!;
                return buffer;
            }
        }

        return new float[WindowSamples];
    }

    /// <summary>Gives a buffer back for reuse.</summary>
    public void Return(float[] buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (buffer.Length != WindowSamples)
        {
            throw new ArgumentException($"The buffer holds {buffer.Length} samples; this pool's windows hold {WindowSamples}.", nameof(buffer));
        }

        lock (_lock)
        {
            if (_count < _free.Length)
            {
                _free[_count++] = buffer;
            }
        }
    }
}
