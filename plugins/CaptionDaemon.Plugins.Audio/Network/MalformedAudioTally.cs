using Microsoft.Extensions.Logging;

namespace CaptionDaemon.Plugins.Audio.Network;

/// <summary>
/// Counts what a sender got wrong (partial frames, non-finite floats) and says so in one warning at most every
/// interval, so that a misbehaving sender is visible without flooding the log.
/// </summary>
internal sealed partial class MalformedAudioTally
{
    private readonly ILogger _logger;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private long _lastWarning;
    private bool _warned;
    private long _partialFrames;
    private long _droppedBytes;
    private long _nonFiniteSamples;

    public MalformedAudioTally(ILogger logger, TimeSpan interval, TimeProvider time)
    {
        _logger = logger;
        _interval = interval;
        _time = time;
    }

    /// <summary>A datagram or a connection ended inside a frame: its last <paramref name="bytes"/> were dropped.</summary>
    public void PartialFrame(int bytes)
    {
        _partialFrames++;
        _droppedBytes += bytes;
    }

    public void NonFinite(int samples) => _nonFiniteSamples += samples;

    /// <summary>Logs what was counted since the last warning when there is something and the interval has passed.</summary>
    public void WarnIfDue()
    {
        if (_partialFrames == 0 && _nonFiniteSamples == 0)
            return;
        var now = _time.GetTimestamp();
        if (_warned && _time.GetElapsedTime(_lastWarning, now) < _interval)
            return;
        LogMalformed(_logger, _partialFrames, _droppedBytes, _nonFiniteSamples);
        _warned = true;
        _lastWarning = now;
        _partialFrames = 0;
        _droppedBytes = 0;
        _nonFiniteSamples = 0;
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Malformed audio from the sender: {PartialFrames} packets or connections ended inside a frame ({DroppedBytes} bytes dropped), {NonFiniteSamples} non-finite samples replaced by 0")]
    private static partial void LogMalformed(ILogger logger, long partialFrames, long droppedBytes, long nonFiniteSamples);
}
