using System.Collections.Concurrent;
using System.Diagnostics;
using CaptionDaemon.Contracts;

namespace CaptionDaemon.Plugins.Audio.Tests.TestSupport;

/// <summary>Keeps every state a source reports, with when (since the recorder was made).</summary>
public sealed class RecordingStatus : ISourceStatusReporter
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentQueue<(SourceState State, string? Detail, TimeSpan At)> _reports = new();

    public IReadOnlyList<(SourceState State, string? Detail, TimeSpan At)> Reports => [.. _reports];

    public IReadOnlyList<SourceState> States => [.. _reports.Select(r => r.State)];

    public void Report(SourceState state, string? detail = null) => _reports.Enqueue((state, detail, _clock.Elapsed));

    /// <summary>Waits until <paramref name="count"/> reports of <paramref name="state"/> have arrived; returns them.</summary>
    public async Task<IReadOnlyList<(SourceState State, string? Detail, TimeSpan At)>> WaitForAsync(SourceState state, int count, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var matching = Reports.Where(r => r.State == state).ToList();
            if (matching.Count >= count)
                return matching;
            if (deadline.Elapsed > timeout)
                throw new TimeoutException($"Waited {timeout} for {count} x {state}; got: {string.Join(", ", Reports.Select(r => $"{r.State} '{r.Detail}'"))}");
            await Task.Delay(20);
        }
    }
}
