using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using CaptionDaemon.Contracts;
using CaptionDaemon.Plugins.Audio.Ffmpeg;
using CaptionDaemon.Plugins.Audio.Tests.TestSupport;

namespace CaptionDaemon.Plugins.Audio.Tests.Ffmpeg;

public sealed class FfmpegSourceTests : IDisposable
{
    private static readonly TimeSpan _timeout = TimeSpan.FromSeconds(12);
    private readonly TestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public async Task ReadAsync_StereoFile_DeliversFfmpegsMono16kDecodeAndEnds()
    {
        var path = _files.PathOf("stereo.mp3.wav");
        await TestFiles.FfmpegAsync("-i", TestFiles.Sample(1), "-i", TestFiles.Sample(2), "-filter_complex", "amerge=inputs=2", "-t", "2", "-ar", "44100", path);
        var expected = await TestFiles.FfmpegAsync("-i", path, "-vn", "-ac", "1", "-ar", "16000", "-f", "f32le", "pipe:1");
        var status = new RecordingStatus();

        var source = Sources.Create("ffmpeg", new Dictionary<string, string?> { ["Input"] = path }, status: status);
        await using var reader = new ChunkReader(source);
        var samples = await reader.ReadToEndAsync(_timeout);

        Assert.Equal(AudioFormat.Mono16k, source.Format);
        Assert.Equal(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(expected).ToArray(), samples);
        Assert.Equal([SourceState.Online, SourceState.Offline], status.States);
    }

    [Fact]
    public async Task ReadAsync_HttpStreamServedByAnotherFfmpeg_DeliversTheStream()
    {
        var port = TestFiles.FreePort();
        var url = $"http://127.0.0.1:{port}/scene.wav";
        using var server = StartFfmpeg("-re", "-t", "2", "-i", TestFiles.Sample(3), "-c:a", "pcm_s16le", "-f", "wav", "-listen", "1", url);
        try
        {
            var expected = (await TestFiles.FfmpegDecodeAsync(TestFiles.Sample(3)))[..32000];
            var status = new RecordingStatus();

            // on-failure: if this ffmpeg is quicker than the server's listen, it is refused and tries again in 1 s.
            var source = Sources.Create("ffmpeg", new Dictionary<string, string?> { ["Input"] = url, ["Restart"] = "on-failure" }, status: status);
            await using var reader = new ChunkReader(source);
            var samples = await reader.ReadToEndAsync(_timeout);

            Assert.Equal(expected, samples);
            Assert.Equal(SourceState.Offline, status.States[^1]);
        }
        finally
        {
            Stop(server);
        }
    }

    [Fact]
    public async Task ReadAsync_UnreachableUrl_ReportsReconnectingWithFfmpegsMessageAndBacksOff()
    {
        var url = $"http://viewer:secret@127.0.0.1:{TestFiles.FreePort()}/nothing-here";
        var status = new RecordingStatus();
        var logger = new RecordingLogger();

        var source = Sources.Create("ffmpeg", new Dictionary<string, string?> { ["Input"] = url }, logger, status);
        await using var reader = new ChunkReader(source);
        var reports = await status.WaitForAsync(SourceState.Reconnecting, 3, _timeout);

        Assert.False(reader.Completion.IsCompleted);
        Assert.All(reports, r => Assert.StartsWith("ffmpeg exited with code 1: ", r.Detail, StringComparison.Ordinal));
        Assert.Contains("Connection refused", reports[0].Detail, StringComparison.Ordinal);
        Assert.Contains("(restarting in 1 s)", reports[0].Detail, StringComparison.Ordinal);
        Assert.Contains("(restarting in 2 s)", reports[1].Detail, StringComparison.Ordinal);
        Assert.Contains("(restarting in 4 s)", reports[2].Detail, StringComparison.Ordinal);
        Assert.True(reports[1].At - reports[0].At >= TimeSpan.FromSeconds(0.9), $"second attempt after {reports[1].At - reports[0].At}");
        Assert.True(reports[2].At - reports[1].At >= TimeSpan.FromSeconds(1.9), $"third attempt after {reports[2].At - reports[1].At}");
        Assert.Contains(logger.Warnings, w => w.Contains("Connection refused", StringComparison.Ordinal));
        Assert.DoesNotContain(status.Reports, r => r.Detail?.Contains("secret", StringComparison.Ordinal) == true);
        Assert.DoesNotContain(logger.Entries, e => e.Message.Contains("secret", StringComparison.Ordinal));
        Assert.IsAssignableFrom<OperationCanceledException>(await reader.StopAsync());
    }

    [Fact]
    public async Task ReadAsync_UnreachableUrlWithRestartNever_ThrowsWithInputExitCodeAndMessage()
    {
        var url = $"http://127.0.0.1:{TestFiles.FreePort()}/nothing-here";

        var source = Sources.Create("ffmpeg", new Dictionary<string, string?> { ["Input"] = url, ["Restart"] = "never" });
        await using var reader = new ChunkReader(source);
        var ex = await Assert.ThrowsAsync<IOException>(() => reader.Completion.WaitAsync(_timeout));

        Assert.Contains("exited with code 1", ex.Message, StringComparison.Ordinal);
        Assert.Contains(url, ex.Message, StringComparison.Ordinal);
        Assert.Contains("Connection refused", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_FileWithRestartAlways_PlaysItAgainAfterABackoff()
    {
        var path = _files.PathOf("short.wav");
        await TestFiles.FfmpegAsync("-i", TestFiles.Sample(4), "-t", "0.5", path);
        var expected = (await TestFiles.FfmpegDecodeAsync(path)).ToArray();
        var status = new RecordingStatus();

        var source = Sources.Create("ffmpeg", new Dictionary<string, string?> { ["Input"] = path, ["Restart"] = "always" }, status: status);
        await using var reader = new ChunkReader(source);
        var samples = await reader.ReadSamplesAsync(16000, _timeout);

        Assert.Equal([.. expected, .. expected], samples);
        // The second run may already have ended too: only its start is certain.
        Assert.Equal([SourceState.Online, SourceState.Reconnecting, SourceState.Online], status.States.Take(3));
        Assert.StartsWith("ffmpeg exited with code 0: ", status.Reports[1].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_ServerThatNeverAnswers_KillsTheStalledFfmpegAndRestartsIt()
    {
        // Accepts connections (in the backlog) and never says a word, like a camera that hangs.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}/stream";
        var status = new RecordingStatus();

        var source = (FfmpegSource)Sources.Create("ffmpeg", new Dictionary<string, string?> { ["Input"] = url, ["StallTimeoutSeconds"] = "1" }, status: status);
        await using var reader = new ChunkReader(source);
        var reports = await status.WaitForAsync(SourceState.Reconnecting, 2, _timeout);
        var pid = await Wait.ForAsync(() => source.ProcessId is { } p ? (object)p : null, _timeout, "the third ffmpeg");

        Assert.Equal("no audio from ffmpeg for 1 s: killed it (restarting in 1 s)", reports[0].Detail);
        Assert.Equal("no audio from ffmpeg for 1 s: killed it (restarting in 2 s)", reports[1].Detail);
        Assert.False(reader.Completion.IsCompleted);
        Assert.IsAssignableFrom<OperationCanceledException>(await reader.StopAsync());
        Assert.False(IsRunning((int)pid));
    }

    [Fact]
    public async Task ReadAsync_RunsThatDeliveredLongEnough_StartTheBackoffAfresh()
    {
        var path = _files.PathOf("short.wav");
        await TestFiles.FfmpegAsync("-i", TestFiles.Sample(6), "-t", "0.4", path);
        var status = new RecordingStatus();
        var configured = (FfmpegSource)Sources.Create("ffmpeg", new Dictionary<string, string?>
        {
            ["Input"] = path,
            ["Restart"] = "always",
            ["Realtime"] = "true",
        });
        // Each run plays 0.4 s at real time, longer than this threshold (30 s in production), so none is a failure streak.
        var source = new FfmpegSource("test", configured.Options with { BackoffResetAfter = TimeSpan.FromSeconds(0.1) }, new RecordingLogger(), status);

        await using var reader = new ChunkReader(source);
        var reports = await status.WaitForAsync(SourceState.Reconnecting, 2, _timeout);

        Assert.All(reports, r => Assert.EndsWith("(restarting in 1 s)", r.Detail, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ReadAsync_Cancelled_KillsFfmpeg()
    {
        var source = (FfmpegSource)Sources.Create("ffmpeg", new Dictionary<string, string?> { ["Input"] = TestFiles.Sample(5), ["Realtime"] = "true" });
        var reader = new ChunkReader(source);
        await reader.NextChunkAsync(_timeout);
        var pid = source.ProcessId ?? throw new InvalidOperationException("no ffmpeg is running");

        var ended = await reader.StopAsync();
        await source.DisposeAsync();

        Assert.IsAssignableFrom<OperationCanceledException>(ended);
        Assert.Null(source.ProcessId);
        Assert.False(IsRunning(pid), $"ffmpeg {pid} still runs");
    }

    [Fact]
    [SupportedOSPlatform("linux")]
    public async Task ReadAsync_OutputSplitInsideSamples_ReassemblesTheSamples()
    {
        // A stand-in for ffmpeg: real ffmpeg writes whole buffers, so only a script can split its output inside samples
        // on purpose. It writes 1.0, -0.5 and 0.5 as f32le in pieces of 5, 5 and 2 bytes, then fails like ffmpeg does.
        var script = _files.PathOf("split-ffmpeg.sh");
        await File.WriteAllTextAsync(script, """
            #!/bin/sh
            printf '\000\000\200\077\000'; sleep 0.2
            printf '\000\000\277\000\000'; sleep 0.2
            printf '\000\077'
            echo "stand-in: the input went away" >&2
            exit 3
            """.Replace("\r", "", StringComparison.Ordinal));
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var source = Sources.Create("ffmpeg", new Dictionary<string, string?>
        {
            ["Input"] = "tcp://127.0.0.1:9/stand-in",
            ["FfmpegPath"] = script,
            ["Restart"] = "never",
        });
        await using var reader = new ChunkReader(source);
        var samples = await reader.ReadSamplesAsync(3, _timeout);
        var ex = await Assert.ThrowsAsync<IOException>(() => reader.Completion.WaitAsync(_timeout));

        Assert.Equal([1f, -0.5f, 0.5f], samples);
        Assert.Contains("exited with code 3", ex.Message, StringComparison.Ordinal);
        Assert.Contains("stand-in: the input went away", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_FfmpegRemovedAfterCreate_ThrowsSayingItCannotStartFfmpeg()
    {
        var ffmpeg = _files.PathOf("ffmpeg");
        File.Copy("/bin/true", ffmpeg);
        var source = Sources.Create("ffmpeg", new Dictionary<string, string?> { ["Input"] = "rtsp://camera.local/stream", ["FfmpegPath"] = ffmpeg });
        File.Delete(ffmpeg);

        await using var reader = new ChunkReader(source);
        var ex = await Assert.ThrowsAsync<IOException>(() => reader.Completion.WaitAsync(_timeout));

        Assert.StartsWith($"cannot start ffmpeg '{ffmpeg}': ", ex.Message, StringComparison.Ordinal);
        Assert.Contains("install ffmpeg", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/nonexistent/bin/ffmpeg")]
    [InlineData("ffmpeg-that-is-not-installed")]
    public void Create_FfmpegMissing_ThrowsNamingFfmpegPath(string ffmpeg)
    {
        var ex = Assert.Throws<PluginConfigurationException>(() => Sources.Create("ffmpeg", new Dictionary<string, string?>
        {
            ["Input"] = "rtsp://camera.local/stream",
            ["FfmpegPath"] = ffmpeg,
        }));

        Assert.StartsWith("Sources:test:FfmpegPath: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(ffmpeg, ex.Message, StringComparison.Ordinal);
        Assert.Contains("install ffmpeg", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Input", null, "Sources:test:Input: required")]
    [InlineData("Input", "/srv/no/such/file.mp3", "Sources:test:Input: no such file: /srv/no/such/file.mp3")]
    [InlineData("Restart", "sometimes", "Sources:test:Restart: must be one of always, on-failure, never, was 'sometimes'")]
    [InlineData("MaxBackoffSeconds", "0", "Sources:test:MaxBackoffSeconds: must be 1-3600, was 0")]
    [InlineData("StallTimeoutSeconds", "-5", "Sources:test:StallTimeoutSeconds: must be 0-3600, was -5")]
    [InlineData("Realtime", "yes", "Sources:test:Realtime: must be true or false, was 'yes'")]
    [InlineData("InputOptions", "-rtsp_transport tcp", "Sources:test:InputOptions: must be an array of strings")]
    public void Create_BadSetting_ThrowsNamingFullKeyAndValue(string key, string? value, string message)
    {
        var settings = new Dictionary<string, string?> { ["Input"] = "rtsp://camera.local/stream", [key] = value };

        var ex = Assert.Throws<PluginConfigurationException>(() => Sources.Create("ffmpeg", settings));

        Assert.StartsWith(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Arguments_EveryOption_InputOptionsAndFormatBeforeInputAndF32leOnStdout()
    {
        var options = new FfmpegOptions("ffmpeg", "hw:1", "alsa", ["-thread_queue_size", "1024"], true, RestartPolicy.Always, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30));

        Assert.Equal(
            ["-hide_banner", "-nostdin", "-nostats", "-loglevel", "warning", "-re", "-thread_queue_size", "1024", "-f", "alsa", "-i", "hw:1",
                "-vn", "-ac", "1", "-ar", "16000", "-f", "f32le", "pipe:1"],
            options.Arguments());
    }

    [Theory]
    [InlineData("/srv/audio/door.mp3", null, true)]
    [InlineData("file:/srv/audio/door.mp3", null, true)]
    [InlineData("relative/door.flac", null, true)]
    [InlineData("/srv/streams/camera.sdp", null, false)]
    [InlineData("rtsp://camera.local/stream", null, false)]
    [InlineData("http://radio.local:8000/live", null, false)]
    [InlineData("default", "pulse", false)]
    [InlineData("hw:0", "alsa", false)]
    public void IsPlainFile_Input_DecidesTheDefaultRestartPolicy(string input, string? inputFormat, bool isFile)
    {
        Assert.Equal(isFile, FfmpegSourceFactory.IsPlainFile(input, inputFormat));
    }

    [Fact]
    public void Create_InputOptionsArray_PassedInOrder()
    {
        var source = (FfmpegSource)Sources.Create("ffmpeg", new Dictionary<string, string?>
        {
            ["Input"] = "rtsp://camera.local/stream",
            ["InputOptions:0"] = "-rtsp_transport",
            ["InputOptions:1"] = "tcp",
            ["InputOptions:2"] = "-timeout",
            ["InputOptions:10"] = "5000000",
        });

        var arguments = source.Options.Arguments();
        var at = arguments.ToList().IndexOf("-rtsp_transport");
        Assert.Equal(["-rtsp_transport", "tcp", "-timeout", "5000000", "-i", "rtsp://camera.local/stream"], arguments.Skip(at).Take(6));
        Assert.Equal(RestartPolicy.Always, source.Options.Restart);
    }

    private static Process StartFfmpeg(params string[] arguments)
    {
        var startInfo = new ProcessStartInfo("ffmpeg") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardError = true };
        foreach (var argument in (string[])["-hide_banner", "-nostdin", "-loglevel", "error", .. arguments])
            startInfo.ArgumentList.Add(argument);
        var process = Process.Start(startInfo)!;
        process.StandardInput.Close();
        _ = process.StandardError.ReadToEndAsync();
        return process;
    }

    private static void Stop(Process process)
    {
        if (!process.HasExited)
            process.Kill(entireProcessTree: true);
        process.WaitForExit();
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
