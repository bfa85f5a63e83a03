using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using CaptionDaemon.Contracts;
using CaptionDaemon.Plugins.Audio.Pcm;
using Microsoft.Extensions.Logging;

namespace CaptionDaemon.Plugins.Audio.Network;

/// <summary>
/// Receives headerless PCM datagrams on one port, from whoever sends them; each datagram is one chunk. A datagram
/// that is not a whole number of frames keeps its whole frames and drops the rest, counted and warned about.
/// </summary>
internal sealed partial class UdpSource : IAudioSource
{
    // The largest UDP payload; one receive never returns more.
    private const int MaxDatagram = 65_536;
    private readonly IPEndPoint _listen;
    private readonly RawPcmFormat _pcm;
    private readonly ILogger _logger;
    private readonly ISourceStatusReporter _status;
    private readonly MalformedAudioTally _tally;
    private readonly LiveTimeline _timeline;
    private volatile IPEndPoint? _localEndPoint;

    public UdpSource(string id, IPEndPoint listen, RawPcmFormat pcm, ILogger logger, ISourceStatusReporter status)
        : this(id, listen, pcm, logger, status, TimeProvider.System)
    {
    }

    /// <summary>With the clock that spaces the malformed-audio warnings (10 s apart) and dates chunks after a gap.</summary>
    internal UdpSource(string id, IPEndPoint listen, RawPcmFormat pcm, ILogger logger, ISourceStatusReporter status, TimeProvider time)
    {
        Id = id;
        _listen = listen;
        _pcm = pcm;
        _logger = logger;
        _status = status;
        _tally = new MalformedAudioTally(logger, TimeSpan.FromSeconds(10), time);
        _timeline = new LiveTimeline(pcm.Format.SampleRate, pcm.Format.Channels, time);
    }

    public string Id { get; }

    public AudioFormat Format => _pcm.Format;

    /// <summary>After this long without a datagram the status says the source is waiting (<c>StallTimeoutSeconds</c>).</summary>
    internal TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(10);

    internal SampleEncoding Encoding => _pcm.Encoding;

    /// <summary>The address actually bound (with the real port when port 0 was configured); null before reading starts.</summary>
    internal IPEndPoint? LocalEndPoint => _localEndPoint;

    public async IAsyncEnumerable<AudioChunk> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var socket = new Socket(_listen.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        if (_listen.Address.Equals(IPAddress.IPv6Any))
            socket.DualMode = true;
        // Room for bursts while the host is busy: about 1 s of 48 kHz stereo float.
        socket.ReceiveBufferSize = 1 << 20;
        socket.Bind(_listen);
        _localEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        LogListening(_logger, _localEndPoint, _pcm.Encoding, _pcm.Format.SampleRate, _pcm.Format.Channels);

        var frameBytes = _pcm.FrameBytes;
        var datagram = new byte[MaxDatagram];
        var samples = new float[MaxDatagram / SampleDecoder.BytesPerSample(_pcm.Encoding)];
        var online = false;
        var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            while (true)
            {
                int received;
                stall.CancelAfter(StallTimeout);
                try
                {
                    received = await socket.ReceiveAsync(datagram, SocketFlags.None, stall.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // Senders come and go on UDP: say so, and keep listening (a timed-out token cannot be reset: a new one).
                    if (online)
                    {
                        online = false;
                        _status.Report(SourceState.Reconnecting, string.Create(System.Globalization.CultureInfo.InvariantCulture,
                            $"no audio on udp {_localEndPoint} for {StallTimeout.TotalSeconds:0} s (stalled); waiting for datagrams"));
                    }

                    stall.Dispose();
                    stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    continue;
                }

                stall.TryReset();
                if (!online)
                {
                    online = true;
                    _status.Report(SourceState.Online);
                }
                var whole = received / frameBytes * frameBytes;
                if (whole != received)
                    _tally.PartialFrame(received - whole);
                var count = whole / SampleDecoder.BytesPerSample(_pcm.Encoding);
                _tally.NonFinite(SampleDecoder.Decode(_pcm.Encoding, datagram.AsSpan(0, whole), samples));
                _tally.WarnIfDue();
                if (count > 0)
                    yield return new AudioChunk(samples.AsMemory(0, count), _timeline.Stamp(count));
            }
        }
        finally
        {
            stall.Dispose();
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening for {Encoding} PCM datagrams ({SampleRate} Hz, {Channels} channels) on udp {EndPoint}")]
    private static partial void LogListening(ILogger logger, IPEndPoint endPoint, SampleEncoding encoding, int sampleRate, int channels);
}
