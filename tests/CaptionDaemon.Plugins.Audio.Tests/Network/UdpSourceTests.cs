using System.Net;
using System.Net.Sockets;
using CaptionDaemon.Contracts;
using CaptionDaemon.Plugins.Audio.Network;
using CaptionDaemon.Plugins.Audio.Pcm;
using CaptionDaemon.Plugins.Audio.Settings;
using CaptionDaemon.Plugins.Audio.Tests.TestSupport;

namespace CaptionDaemon.Plugins.Audio.Tests.Network;

public sealed class UdpSourceTests
{
    private static readonly TimeSpan _timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ReadAsync_S16StereoDatagrams_DeliversEachAsAChunkAndReportsOnline()
    {
        var status = new RecordingStatus();
        var source = (UdpSource)Sources.Create("udp", Settings(("Channels", "2"), ("SampleRate", "8000")), status: status);
        await using var reader = new ChunkReader(source);
        using var sender = await SenderAsync(source);

        await sender.SendAsync(PcmBytes.S16(16384, -16384, 32767, -32768));
        var first = await reader.NextChunkAsync(_timeout);
        await sender.SendAsync(PcmBytes.S16(1, 2));
        var second = await reader.NextChunkAsync(_timeout);

        Assert.Equal(new AudioFormat(8000, 2), source.Format);
        Assert.Equal([0.5f, -0.5f, 32767f / 32768, -1f], first);
        Assert.Equal([1f / 32768, 2f / 32768], second);
        Assert.Equal([SourceState.Online], status.States);
        Assert.IsAssignableFrom<OperationCanceledException>(await reader.StopAsync());
    }

    [Fact]
    public async Task ReadAsync_GarbageDatagrams_KeepsWholeFramesZeroesNonFiniteAndWarnsAtMostEvery10Seconds()
    {
        var logger = new RecordingLogger();
        var clock = new ManualClock();
        var settings = new SourceSettings(Sources.Context(Settings(("Encoding", "f32le"), ("Channels", "2"))).Settings);
        var source = new UdpSource("test", new IPEndPoint(IPAddress.Loopback, 0), RawPcmFormat.Read(settings), logger, new RecordingStatus(), clock);
        await using var reader = new ChunkReader(source);
        using var sender = await SenderAsync(source);

        // Two stereo frames with a NaN and an infinity, and 3 bytes of a third frame.
        await sender.SendAsync((byte[])[.. PcmBytes.F32(0.25f, float.NaN, float.PositiveInfinity, -0.75f), 1, 2, 3]);
        var first = await reader.NextChunkAsync(_timeout);
        var firstWarning = Assert.Single(logger.Warnings);
        // Less than one frame: nothing to deliver, only counted; the next datagram shows it was read.
        await sender.SendAsync((byte[])[9, 9, 9, 9, 9]);
        await sender.SendAsync(PcmBytes.F32(0.125f, 2f));
        var second = await reader.NextChunkAsync(_timeout);
        var warningsWithin10Seconds = logger.Warnings.Count;
        clock.Advance(TimeSpan.FromSeconds(10));
        await sender.SendAsync((byte[])[.. PcmBytes.F32(float.NegativeInfinity, 0.5f), 7]);
        var third = await reader.NextChunkAsync(_timeout);

        Assert.Equal([0.25f, 0f, 0f, -0.75f], first);
        Assert.Contains("1 packets or connections ended inside a frame (3 bytes dropped), 2 non-finite samples", firstWarning, StringComparison.Ordinal);
        Assert.Equal([0.125f, 1f], second);
        Assert.Equal(1, warningsWithin10Seconds);
        Assert.Equal([0f, 0.5f], third);
        Assert.Equal(2, logger.Warnings.Count);
        Assert.Contains("2 packets or connections ended inside a frame (6 bytes dropped), 1 non-finite samples", logger.Warnings[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_DatagramsAfterAPause_AreDatedSoThatTheHostTimelineSkipsTheGap()
    {
        var clock = new ManualClock();
        var settings = new SourceSettings(Sources.Context(Settings(("SampleRate", "8000"))).Settings);
        var source = new UdpSource("test", new IPEndPoint(IPAddress.Loopback, 0), RawPcmFormat.Read(settings), new RecordingLogger(), new RecordingStatus(), clock);
        await using var reader = new ChunkReader(source);
        using var sender = await SenderAsync(source);
        var tenth = PcmBytes.S16(new short[800]);

        await sender.SendAsync(tenth);
        var first = await reader.NextAsync(_timeout);
        clock.Advance(TimeSpan.FromSeconds(0.1));
        await sender.SendAsync(tenth);
        var second = await reader.NextAsync(_timeout);
        clock.Advance(TimeSpan.FromSeconds(30));
        await sender.SendAsync(tenth);
        var afterPause = await reader.NextAsync(_timeout);

        Assert.Equal(clock.GetUtcNow() - TimeSpan.FromSeconds(30.2), first.Timestamp);
        Assert.Null(second.Timestamp);
        Assert.Equal(clock.GetUtcNow() - TimeSpan.FromSeconds(0.1), afterPause.Timestamp);
    }

    [Theory]
    [InlineData("5004", "0.0.0.0:5004")]
    [InlineData(":5004", "0.0.0.0:5004")]
    [InlineData("*:5004", "0.0.0.0:5004")]
    [InlineData("127.0.0.1:5004", "127.0.0.1:5004")]
    [InlineData("localhost:5004", "127.0.0.1:5004")]
    [InlineData("[::]:5004", "[::]:5004")]
    [InlineData("[::1]:0", "[::1]:0")]
    public void ListenEndPoint_AcceptedForms_ParseToTheAddress(string listen, string expected)
    {
        var settings = new SourceSettings(Sources.Context(new Dictionary<string, string?> { ["Listen"] = listen }).Settings);

        Assert.Equal(IPEndPoint.Parse(expected), settings.ListenEndPoint("Listen", ":5004"));
    }

    [Theory]
    [InlineData("Listen", null, "Sources:test:Listen: required")]
    [InlineData("Listen", "camera.local:5004", "Sources:test:Listen: the host must be an IP address, '*' or 'localhost'")]
    [InlineData("Listen", "0.0.0.0:70000", "Sources:test:Listen: the port must be a number 0-65535, was '0.0.0.0:70000'")]
    [InlineData("Listen", "::1:5004", "Sources:test:Listen: an IPv6 address must be written in brackets")]
    [InlineData("SampleRate", null, "Sources:test:SampleRate: required")]
    [InlineData("SampleRate", "16k", "Sources:test:SampleRate: must be a whole number, was '16k'")]
    [InlineData("SampleRate", "100", "Sources:test:SampleRate: must be 1000-768000, was 100")]
    [InlineData("Channels", "0", "Sources:test:Channels: must be 1-64, was 0")]
    [InlineData("Encoding", "s24le", "Sources:test:Encoding: must be one of s16le, f32le, was 's24le'")]
    public void Create_BadSetting_ThrowsNamingFullKeyAndValue(string key, string? value, string message)
    {
        var settings = Settings();
        settings[key] = value;

        var ex = Assert.Throws<PluginConfigurationException>(() => Sources.Create("udp", settings));

        Assert.StartsWith(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_Defaults_S16MonoAtTheDeclaredRate()
    {
        var source = Sources.Create("udp", new Dictionary<string, string?> { ["Listen"] = ":5004", ["SampleRate"] = "48000" });

        Assert.Equal(new AudioFormat(48000, 1), source.Format);
        Assert.Equal(SampleEncoding.Signed16, ((UdpSource)source).Encoding);
    }

    private static Dictionary<string, string?> Settings(params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?> { ["Listen"] = "127.0.0.1:0", ["SampleRate"] = "16000" };
        foreach (var (key, value) in more)
            settings[key] = value;
        return settings;
    }

    private static async Task<UdpClient> SenderAsync(UdpSource source)
    {
        var endPoint = await Wait.ForAsync(() => source.LocalEndPoint, _timeout, "the udp source to bind");
        var client = new UdpClient(AddressFamily.InterNetwork);
        client.Connect(endPoint);
        return client;
    }
}
