namespace CaptionDaemon.Plugins.Audio.Network;

/// <summary>Waits between reconnection attempts: 1 s, doubling up to a maximum, back to 1 s after a good run.</summary>
internal sealed class ReconnectBackoff
{
    private static readonly TimeSpan _initial = TimeSpan.FromSeconds(1);
    private readonly TimeSpan _max;
    private TimeSpan _next = _initial;

    public ReconnectBackoff(TimeSpan max)
    {
        _max = max < _initial ? _initial : max;
    }

    /// <summary>The wait before the next attempt; each call doubles the one after it.</summary>
    public TimeSpan Next()
    {
        var wait = _next;
        _next = TimeSpan.FromTicks(Math.Min(_next.Ticks * 2, _max.Ticks));
        return wait;
    }

    public void Reset() => _next = _initial;
}
