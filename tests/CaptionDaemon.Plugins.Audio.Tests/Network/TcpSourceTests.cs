using System.Net;
using System.Net.Sockets;
using CaptionDaemon.Contracts;
using CaptionDaemon.Plugins.Audio.Network;
using CaptionDaemon.Plugins.Audio.Tests.TestSupport;

namespace CaptionDaemon.Plugins.Audio.Tests.Network;

public sealed class TcpSourceTests
{
    private static readonly TimeSpan _timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task ReadAsync_ListenWithFramesSplitAcrossWrites_CarriesTheRemainder()
    {
        var status = new RecordingStatus();
        var source = (TcpSource)Sources.Create("tcp", Settings(("Listen", "127.0.0.1:0")), status: status);
        await using var reader = new ChunkReader(source);
        using var sender = await ConnectAsync(source);
        var bytes = PcmBytes.S16(100, 200, 300, 400);

        // Two samples and half of the third; the chunk shows the source has read it before the rest is sent.
        await sender.SendAsync(bytes.AsMemory(0, 5));
        var first = await reader.NextChunkAsync(_timeout);
        await sender.SendAsync(bytes.AsMemory(5));
        var second = await reader.NextChunkAsync(_timeout);

        Assert.Equal([100f / 32768, 200f / 32768], first);
        Assert.Equal([300f / 32768, 400f / 32768], second);
        Assert.Equal([SourceState.Online], status.States);
    }

    [Fact]
    public async Task ReadAsync_ListenAndSenderLeaves_WaitsForTheNextSenderOneAtATime()
    {
        var status = new RecordingStatus();
        var logger = new RecordingLogger();
        var source = (TcpSource)Sources.Create("tcp", Settings(("Listen", "127.0.0.1:0"), ("Encoding", "f32le")), logger, status);
        await using var reader = new ChunkReader(source);
        using var first = await ConnectAsync(source);
        await first.SendAsync(PcmBytes.F32(0.1f, 0.2f));
        var firstChunk = await reader.NextAsync(_timeout);
        Assert.Equal([0.1f, 0.2f], firstChunk.Samples);
        Assert.NotNull(firstChunk.Timestamp);

        // A second sender connects while the first is on the line: it waits its turn.
        using var second = await ConnectAsync(source);
        await second.SendAsync(PcmBytes.F32(0.7f, 0.8f));
        await first.SendAsync(PcmBytes.F32(0.3f));
        var stillFirst = await reader.NextAsync(_timeout);
        Assert.Equal([0.3f], stillFirst.Samples);
        Assert.Null(stillFirst.Timestamp);

        // The first leaves in the middle of a sample.
        await first.SendAsync(new byte[] { 1, 2 });
        first.Shutdown(SocketShutdown.Both);
        first.Close();
        var next = await reader.NextAsync(_timeout);

        Assert.Equal([0.7f, 0.8f], next.Samples);
        Assert.NotNull(next.Timestamp);
        Assert.Equal([SourceState.Online, SourceState.Reconnecting, SourceState.Online], status.States);
        Assert.StartsWith("waiting for a sender on tcp 127.0.0.1:", status.Reports[1].Detail, StringComparison.Ordinal);
        var warning = Assert.Single(logger.Warnings);
        Assert.Contains("1 packets or connections ended inside a frame (2 bytes dropped)", warning, StringComparison.Ordinal);
        Assert.IsAssignableFrom<OperationCanceledException>(await reader.StopAsync());
    }

    [Fact]
    public async Task ReadAsync_ConnectAndServerCloses_ReconnectsAndReadsTheNextConnection()
    {
        using var server = new TcpListener(IPAddress.Loopback, 0);
        server.Start();
        var port = ((IPEndPoint)server.LocalEndpoint).Port;
        var status = new RecordingStatus();
        var source = Sources.Create("tcp", Settings(("Connect", $"127.0.0.1:{port}"), ("Channels", "2")), status: status);
        await using var reader = new ChunkReader(source);

        using (var connection = await server.AcceptSocketAsync().WaitAsync(_timeout))
        {
            var bytes = PcmBytes.S16(1000, -1000, 2000, -2000);
            await connection.SendAsync(bytes.AsMemory(0, 3));
            await connection.SendAsync(bytes.AsMemory(3));
            var samples = await reader.ReadSamplesAsync(4, _timeout);
            Assert.Equal([1000f / 32768, -1000f / 32768, 2000f / 32768, -2000f / 32768], samples);
        }
        using var again = await server.AcceptSocketAsync().WaitAsync(_timeout);
        await again.SendAsync(PcmBytes.S16(5, 6));
        var after = await reader.NextChunkAsync(_timeout);

        Assert.Equal([5f / 32768, 6f / 32768], after);
        Assert.Equal([SourceState.Online, SourceState.Reconnecting, SourceState.Online], status.States);
        Assert.Equal($"tcp 127.0.0.1:{port}: the server closed the connection (retrying in 1 s)", status.Reports[1].Detail);
    }

    [Fact]
    public async Task ReadAsync_ConnectToClosedPort_ReportsTheSocketErrorAndBacksOff()
    {
        var port = TestFiles.FreePort();
        var status = new RecordingStatus();
        var source = Sources.Create("tcp", Settings(("Connect", $"127.0.0.1:{port}")), status: status);
        await using var reader = new ChunkReader(source);

        var reports = await status.WaitForAsync(SourceState.Reconnecting, 2, _timeout);

        Assert.Equal($"tcp 127.0.0.1:{port}: Connection refused (retrying in 1 s)", reports[0].Detail);
        Assert.Equal($"tcp 127.0.0.1:{port}: Connection refused (retrying in 2 s)", reports[1].Detail);
        Assert.True(reports[1].At - reports[0].At >= TimeSpan.FromSeconds(0.9), $"retried after {reports[1].At - reports[0].At}");
        Assert.False(reader.Completion.IsCompleted);
    }

    [Theory]
    [InlineData(null, null, "Sources:test:Listen or Sources:test:Connect: one is required")]
    [InlineData(":5004", "10.0.0.2:5004", "Sources:test:Listen and Sources:test:Connect: give one of them, not both")]
    [InlineData(null, "10.0.0.2", "Sources:test:Connect: must be host:port, e.g. 192.168.1.20:5004, was '10.0.0.2'")]
    [InlineData(null, ":5004", "Sources:test:Connect: must be host:port")]
    [InlineData(null, "10.0.0.2:0", "Sources:test:Connect: the port must be 1-65535, was '10.0.0.2:0'")]
    public void Create_BadEndPoint_ThrowsNamingFullKeyAndValue(string? listen, string? connect, string message)
    {
        var settings = Settings(("Listen", listen!), ("Connect", connect!));

        var ex = Assert.Throws<PluginConfigurationException>(() => Sources.Create("tcp", settings));

        Assert.StartsWith(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_BadMaxBackoff_ThrowsNamingFullKeyAndValue()
    {
        var ex = Assert.Throws<PluginConfigurationException>(() => Sources.Create("tcp", Settings(("Connect", "camera.local:5004"), ("MaxBackoffSeconds", "-1"))));

        Assert.Equal("Sources:test:MaxBackoffSeconds: must be 1-3600, was -1", ex.Message);
    }

    private static Dictionary<string, string?> Settings(params (string Key, string? Value)[] more)
    {
        var settings = new Dictionary<string, string?> { ["SampleRate"] = "16000" };
        foreach (var (key, value) in more)
            settings[key] = value;
        return settings;
    }

    private static async Task<Socket> ConnectAsync(TcpSource source)
    {
        var endPoint = await Wait.ForAsync(() => source.LocalEndPoint, _timeout, "the tcp source to listen");
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endPoint).WaitAsync(_timeout);
        return socket;
    }
}
