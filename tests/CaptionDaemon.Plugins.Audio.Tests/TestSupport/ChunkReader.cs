using System.Threading.Channels;
using CaptionDaemon.Contracts;

namespace CaptionDaemon.Plugins.Audio.Tests.TestSupport;

/// <summary>
/// Reads a source in the background like the host does, copying each chunk (the source may reuse its buffer), so that
/// a test can wait for audio with a timeout and stop the source at any point.
/// </summary>
public sealed class ChunkReader : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    // Bounded, so that a source reading as fast as it can (a looping file) waits for the test instead of filling memory.
    private readonly Channel<(float[] Samples, DateTimeOffset? Timestamp)> _chunks = Channel.CreateBounded<(float[], DateTimeOffset?)>(256);
    private readonly List<float> _pending = [];

    public ChunkReader(IAudioSource source)
    {
        Completion = Task.Run(async () =>
        {
            try
            {
                await foreach (var chunk in source.ReadAsync(_stop.Token))
                    await _chunks.Writer.WriteAsync((chunk.Samples.ToArray(), chunk.Timestamp), _stop.Token);
                _chunks.Writer.TryComplete();
            }
            catch (Exception ex)
            {
                _chunks.Writer.TryComplete(ex);
                throw;
            }
        });
    }

    /// <summary>Ends when the source's sequence ends; faults with what it threw.</summary>
    public Task Completion { get; }

    public async Task<float[]> NextChunkAsync(TimeSpan timeout) => (await NextAsync(timeout)).Samples;

    /// <summary>The next chunk's samples and timestamp.</summary>
    public async Task<(float[] Samples, DateTimeOffset? Timestamp)> NextAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        return await _chunks.Reader.ReadAsync(cts.Token);
    }

    /// <summary>Exactly <paramref name="count"/> samples, across chunk boundaries.</summary>
    public async Task<float[]> ReadSamplesAsync(int count, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (_pending.Count < count)
            _pending.AddRange((await _chunks.Reader.ReadAsync(cts.Token)).Samples);
        var result = _pending.GetRange(0, count).ToArray();
        _pending.RemoveRange(0, count);
        return result;
    }

    /// <summary>Everything until the source ends.</summary>
    public async Task<float[]> ReadToEndAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await foreach (var chunk in _chunks.Reader.ReadAllAsync(cts.Token))
            _pending.AddRange(chunk.Samples);
        await Completion.WaitAsync(cts.Token);
        var result = _pending.ToArray();
        _pending.Clear();
        return result;
    }

    /// <summary>Cancels the source and waits for it to stop; returns how it ended.</summary>
    public async Task<Exception?> StopAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await Completion.WaitAsync(TimeSpan.FromSeconds(10));
            return null;
        }
        catch (Exception ex)
        {
            // How the source ended is the result here; the caller asserts on it.
            return ex;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }
}
