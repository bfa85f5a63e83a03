using System.Text.Json.Nodes;
using CaptionDaemon.Hosting;
using CaptionDaemon.Tests.EndToEnd;

namespace CaptionDaemon.Tests.Hosting;

/// <summary>
/// <c>captiond check-config</c> against every documented key with a bad value: each must be reported naming its key,
/// with exit code 2 and no stack trace, through the same validation that <c>run</c> uses.
/// </summary>
public sealed class CheckConfigTests : IDisposable
{
    private static readonly string _plugins = Path.Combine(DaemonProcess.BinaryDirectory, "plugins");
    private static readonly string _bundle = Path.Combine(DaemonProcess.RepositoryRoot, "tests", "data", "labelled-bundle");
    private static readonly string _wav = Directory.EnumerateFiles(Path.Combine(DaemonProcess.RepositoryRoot, "models", "default", "samples"), "*.wav").Order(StringComparer.Ordinal).First();

    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("captiond-check-");

    public void Dispose() => _temp.Delete(recursive: true);

    /// <summary>One bad value per documented key (README "Configuration", the plugins' READMEs), and the key the message must name.</summary>
    public static TheoryData<string, string, string> BadValues()
    {
        var udp = "Sources:u:Type=udp;Sources:u:Listen=127.0.0.1:19004;Sources:u:SampleRate=16000";
        var tcp = "Sources:t:Type=tcp;Sources:t:Listen=127.0.0.1:19005;Sources:t:SampleRate=16000";
        var ffmpeg = "Sources:f:Type=ffmpeg;Sources:f:Input=rtsp://camera.local/stream";
        var mqtt = "Sinks:m:Type=mqtt;Sinks:m:Url=mqtt://127.0.0.1:19883";
        var hook = "Sinks:h:Type=webhook;Sinks:h:Url=http://127.0.0.1:19080/captions";
        return new TheoryData<string, string, string>
        {
            // Sources: the host's keys.
            { "unknown source type", "Sources:s:Type=wave", "Sources:s:Type" },
            { "source without type", "Sources:x:Path=/tmp/a.wav", "Sources:x:Type" },
            { "source Disabled", "Sources:s:Disabled=maybe", "Sources:s:Disabled" },
            // wav
            { "wav without Path", "Sources:w:Type=wav", "Sources:w:Path" },
            { "wav missing file", "Sources:w:Type=wav;Sources:w:Path=/nonexistent/a.wav", "Sources:w:Path" },
            { "wav Loop", "Sources:s:Loop=often", "Sources:s:Loop" },
            { "wav Realtime", "Sources:s:Realtime=yes please", "Sources:s:Realtime" },
            { "wav ChunkMilliseconds", "Sources:s:ChunkMilliseconds=0", "Sources:s:ChunkMilliseconds" },
            // Every source's own caption settings.
            { "source Labels", "Sources:s:Labels:0=no-such-label", "Sources:s:Labels" },
            { "source LabelThresholds", "Sources:s:LabelThresholds:no-such-label=0.5", "Sources:s:LabelThresholds:no-such-label" },
            { "source MinConfidence", "Sources:s:MinConfidence=2", "Sources:s:MinConfidence" },
            { "source SilenceThresholdDbfs", "Sources:s:SilenceThresholdDbfs=5", "Sources:s:SilenceThresholdDbfs" },
            // udp
            { "udp Listen", "Sources:u:Type=udp;Sources:u:Listen=999.1.1.1:99999;Sources:u:SampleRate=16000", "Sources:u:Listen" },
            { "udp SampleRate 50", udp.Replace("SampleRate=16000", "SampleRate=50", StringComparison.Ordinal), "Sources:u:SampleRate" },
            { "udp SampleRate fast", udp.Replace("SampleRate=16000", "SampleRate=fast", StringComparison.Ordinal), "Sources:u:SampleRate" },
            { "udp Encoding", udp + ";Sources:u:Encoding=mp3", "Sources:u:Encoding" },
            { "udp Channels", udp + ";Sources:u:Channels=0", "Sources:u:Channels" },
            // tcp
            { "tcp Listen and Connect", tcp + ";Sources:t:Connect=127.0.0.1:19006", "Sources:t:Connect" },
            { "tcp Connect without port", "Sources:t:Type=tcp;Sources:t:Connect=camera.local;Sources:t:SampleRate=16000", "Sources:t:Connect" },
            { "tcp MaxBackoffSeconds", tcp + ";Sources:t:MaxBackoffSeconds=-1", "Sources:t:MaxBackoffSeconds" },
            // ffmpeg
            { "ffmpeg without Input", "Sources:f:Type=ffmpeg", "Sources:f:Input" },
            { "ffmpeg missing file", "Sources:f:Type=ffmpeg;Sources:f:Input=/nonexistent/a.mp3", "Sources:f:Input" },
            { "ffmpeg Restart", ffmpeg + ";Sources:f:Restart=sometimes", "Sources:f:Restart" },
            { "ffmpeg Realtime", ffmpeg + ";Sources:f:Realtime=2", "Sources:f:Realtime" },
            { "ffmpeg FfmpegPath", ffmpeg + ";Sources:f:FfmpegPath=/nonexistent/ffmpeg", "Sources:f:FfmpegPath" },
            { "ffmpeg MaxBackoffSeconds", ffmpeg + ";Sources:f:MaxBackoffSeconds=0", "Sources:f:MaxBackoffSeconds" },
            { "ffmpeg StallTimeoutSeconds", ffmpeg + ";Sources:f:StallTimeoutSeconds=x", "Sources:f:StallTimeoutSeconds" },
            { "ffmpeg InputOptions", ffmpeg + ";Sources:f:InputOptions=-rtsp_transport tcp", "Sources:f:InputOptions" },
            // Sinks: the host's keys.
            { "unknown sink type", "Sinks:file:Type=kafka", "Sinks:file:Type" },
            { "sink named log", "Sinks:log:Type=jsonl;Sinks:log:Path=captions.jsonl", "Sinks:log" },
            { "sink Disabled", "Sinks:file:Disabled=perhaps", "Sinks:file:Disabled" },
            { "sink MaxBatch", "Sinks:file:MaxBatch=0", "Sinks:file:MaxBatch" },
            { "sink FlushTimeoutSeconds", "Sinks:file:FlushTimeoutSeconds=soon", "Sinks:file:FlushTimeoutSeconds" },
            { "sink FailedRetrySeconds", "Sinks:file:FailedRetrySeconds=0", "Sinks:file:FailedRetrySeconds" },
            { "sink Outbox:Capacity", "Sinks:file:Outbox:Capacity=-5", "Sinks:file:Outbox:Capacity" },
            { "sink Outbox:Persist", "Sinks:file:Outbox:Persist=disk", "Sinks:file:Outbox:Persist" },
            // mqtt
            { "mqtt Url scheme", "Sinks:m:Type=mqtt;Sinks:m:Url=htp://broker.local:1883", "Sinks:m:Url" },
            { "mqtt Url missing", "Sinks:m:Type=mqtt", "Sinks:m:Url" },
            { "mqtt Password without Username", mqtt + ";Sinks:m:Password=secret", "Sinks:m:Password" },
            { "mqtt TopicPrefix", mqtt + ";Sinks:m:TopicPrefix=captiond/#", "Sinks:m:TopicPrefix" },
            { "mqtt KeepAliveSeconds", mqtt + ";Sinks:m:KeepAliveSeconds=70000", "Sinks:m:KeepAliveSeconds" },
            { "mqtt ReconnectDelaySeconds", mqtt + ";Sinks:m:ReconnectDelaySeconds=0", "Sinks:m:ReconnectDelaySeconds" },
            { "mqtt TimeoutSeconds", mqtt + ";Sinks:m:TimeoutSeconds=ten", "Sinks:m:TimeoutSeconds" },
            { "mqtt Tls:CaFile", mqtt + ";Sinks:m:Tls:CaFile=/nonexistent/ca.pem", "Sinks:m:Tls:CaFile" },
            { "mqtt Tls:AllowUntrustedCertificates", mqtt + ";Sinks:m:Tls:AllowUntrustedCertificates=sure", "Sinks:m:Tls:AllowUntrustedCertificates" },
            { "mqtt HomeAssistant:Enabled", mqtt + ";Sinks:m:HomeAssistant:Enabled=on", "Sinks:m:HomeAssistant:Enabled" },
            { "mqtt HomeAssistant:Prefix", mqtt + ";Sinks:m:HomeAssistant:Prefix=/ha/", "Sinks:m:HomeAssistant:Prefix" },
            { "mqtt HomeAssistant:NodeId", mqtt + ";Sinks:m:HomeAssistant:NodeId=my node", "Sinks:m:HomeAssistant:NodeId" },
            { "mqtt LevelIntervalSeconds", mqtt + ";Sinks:m:LevelIntervalSeconds=-1", "Sinks:m:LevelIntervalSeconds" },
            // jsonl
            { "jsonl without Path", "Sinks:j:Type=jsonl", "Sinks:j:Path" },
            { "jsonl FlushEachBatch", "Sinks:file:FlushEachBatch=always", "Sinks:file:FlushEachBatch" },
            // webhook
            { "webhook Url", "Sinks:h:Type=webhook;Sinks:h:Url=not a url", "Sinks:h:Url" },
            { "webhook Url credentials", "Sinks:h:Type=webhook;Sinks:h:Url=http://u:p@127.0.0.1:19080/", "Sinks:h:Url" },
            { "webhook TimeoutSeconds", hook + ";Sinks:h:TimeoutSeconds=0", "Sinks:h:TimeoutSeconds" },
            { "webhook Batch", hook + ";Sinks:h:Batch=big", "Sinks:h:Batch" },
            { "webhook Headers", hook + ";Sinks:h:Headers:Content-Type=text/plain", "Sinks:h:Headers:Content-Type" },
            // Model
            { "Model:Path", "Model:Path=/nonexistent/bundle", "Model:Path" },
            { "Model:ExecutionProvider", "Model:ExecutionProvider=Gpu", "Model:ExecutionProvider" },
            { "Model:IntraOpThreads", "Model:IntraOpThreads=-1", "Model:IntraOpThreads" },
            { "Model:ReloadPollSeconds", "Model:ReloadPollSeconds=often", "Model:ReloadPollSeconds" },
            // Windowing
            { "Windowing:HopSeconds fast", "Windowing:HopSeconds=fast", "Windowing:HopSeconds" },
            { "Windowing:HopSeconds 0", "Windowing:HopSeconds=0", "Windowing:HopSeconds" },
            { "Windowing:WindowSeconds", "Windowing:WindowSeconds=0", "Windowing:WindowSeconds" },
            { "Windowing:SilenceThresholdDbfs", "Windowing:SilenceThresholdDbfs=10", "Windowing:SilenceThresholdDbfs" },
            // Scheduler
            { "Scheduler:MaxBatch", "Scheduler:MaxBatch=0", "Scheduler:MaxBatch" },
            { "Scheduler:MaxWaitMilliseconds", "Scheduler:MaxWaitMilliseconds=-1", "Scheduler:MaxWaitMilliseconds" },
            { "Scheduler:QueueCapacity", "Scheduler:QueueCapacity=big", "Scheduler:QueueCapacity" },
            { "Scheduler:Beam", "Scheduler:Beam=17", "Scheduler:Beam" },
            // Captions
            { "Captions:MinConfidence", "Captions:MinConfidence=2", "Captions:MinConfidence" },
            { "Captions:SuppressRepeats", "Captions:SuppressRepeats=nope", "Captions:SuppressRepeats" },
            { "Captions:HeartbeatSeconds", "Captions:HeartbeatSeconds=-3", "Captions:HeartbeatSeconds" },
            // Broker
            { "Broker:Enabled", "Broker:Enabled=yes", "Broker:Enabled" },
            { "Broker:Host", "Broker:Enabled=true;Broker:Host=not-an-address", "Broker:Host" },
            { "Broker:Port", "Broker:Enabled=true;Broker:Port=99999", "Broker:Port" },
            { "Broker:AllowAnonymous", "Broker:Enabled=true;Broker:AllowAnonymous=maybe", "Broker:AllowAnonymous" },
            { "Broker:Password without Username", "Broker:Enabled=true;Broker:Password=secret", "Broker:" },
            // Metrics
            { "Metrics:Listen", "Metrics:Listen=999.1.1.1:99999", "Metrics:Listen" },
            // Ui (the live page)
            { "Ui:KeepAudioSeconds negative", "Ui:KeepAudioSeconds=-1", "Ui:KeepAudioSeconds" },
            { "Ui:KeepAudioSeconds too long", "Ui:KeepAudioSeconds=7200", "Ui:KeepAudioSeconds" },
            { "Ui:KeepAudioSeconds text", "Ui:KeepAudioSeconds=lots", "Ui:KeepAudioSeconds" },
            { "Ui:Username", "Ui:Username=a:b", "Ui:Username" },
            { "Ui:Password", "Ui:Password=short", "Ui:Password" },
        };
    }

    [Theory]
    [MemberData(nameof(BadValues))]
    public void CheckConfig_BadValue_ReportsTheKeyAndExitsTwo(string name, string settings, string key)
    {
        var (exit, output, error) = Check(settings);

        Assert.True(exit == 2, $"{name}: exit {exit}\n{output}\n{error}");
        Assert.Contains("error:", error, StringComparison.Ordinal);
        var errorLines = error.Split('\n').Where(l => l.StartsWith("error:", StringComparison.Ordinal)).ToList();
        Assert.True(errorLines.Exists(l => l.Contains(key, StringComparison.Ordinal)), $"{name}: no error names {key}:\n{error}");
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", error, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckConfig_ValidConfiguration_ExitsZeroAndListsWhatWouldRun()
    {
        var (exit, output, error) = Check(string.Empty);

        Assert.True(exit == 0, output + error);
        Assert.Contains("source:  s (wav)", output, StringComparison.Ordinal);
        Assert.Contains("sink:    file (jsonl)", output, StringComparison.Ordinal);
        Assert.Contains("The configuration is valid.", output, StringComparison.Ordinal);
        Assert.Equal(string.Empty, error);
    }

    [Theory]
    [InlineData("Windowing:HopSecond=2", "Windowing:HopSecond: unknown key, ignored (did you mean Windowing:HopSeconds?)")]
    [InlineData("Sources:s:Lop=true", "Sources:s:Lop: unknown key, ignored (did you mean Sources:s:Loop?)")]
    [InlineData("Sinks:file:Outbox:Capcity=5", "Sinks:file:Outbox:Capcity: unknown key, ignored (did you mean Sinks:file:Outbox:Capacity?)")]
    [InlineData("Modle:Path=x", "Modle:Path: unknown key, ignored (did you mean Model:Path?)")]
    [InlineData("Ui:KeepAudioSecond=30", "Ui:KeepAudioSecond: unknown key, ignored (did you mean Ui:KeepAudioSeconds?)")]
    [InlineData("Whatever=1", "Whatever: unknown key, ignored")]
    public void CheckConfig_UnknownKey_WarnsWithTheNearestKnownKeyAndStillPasses(string settings, string warning)
    {
        var (exit, output, error) = Check(settings);

        Assert.True(exit == 0, output + error);
        Assert.Contains("warning: " + warning + Environment.NewLine, error, StringComparison.Ordinal);
        Assert.Contains("with 1 warning(s)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Binary_BadOptionsAndValues_OneLineEachAndExitTwoWithoutStackTrace()
    {
        var config = WriteConfig("Model:ExecutionProvider=Gpu;Windowing:HopSeconds=fast");
        var env = new Dictionary<string, string> { ["CAPTIOND_CONFIG_DIR"] = _temp.FullName };

        var (checkExit, checkOutput) = await RunBinaryAsync(["check-config", "--config", config], env);
        Assert.True(checkExit == 2, checkOutput);
        Assert.Contains("Model:ExecutionProvider: must be one of Auto, Cpu, Cuda, was 'Gpu'", checkOutput, StringComparison.Ordinal);
        Assert.Contains("Windowing:HopSeconds: must be a number, was 'fast'", checkOutput, StringComparison.Ordinal);

        // run refuses the same configuration with the same words, before it opens anything.
        var (runExit, runOutput) = await RunBinaryAsync(["run", "--config", config, "--metrics", "127.0.0.1:0"], env);
        Assert.True(runExit == 2, runOutput);
        Assert.Contains("Model:ExecutionProvider: must be one of Auto, Cpu, Cuda, was 'Gpu'", runOutput, StringComparison.Ordinal);

        var (hopExit, hopOutput) = await RunBinaryAsync(["check-config", "--hop", "abc"], env);
        Assert.True(hopExit == 2, hopOutput);
        Assert.Contains("--hop: must be a number of seconds greater than 0, was 'abc'", hopOutput, StringComparison.Ordinal);

        var (optionExit, optionOutput) = await RunBinaryAsync(["check-config", "--no-such-option"], env);
        Assert.True(optionExit == 2, optionOutput);

        foreach (var output in new[] { checkOutput, runOutput, hopOutput, optionOutput })
        {
            Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
            Assert.DoesNotContain("System.Nullable", output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void CheckConfig_FileThatIsNotJson_OneLineSayingWhereAndExitTwo()
    {
        var config = Path.Combine(_temp.FullName, "broken.json");
        File.WriteAllText(config, "{ \"Sources\": { \"a\": { \"Type\": \"wav\", } ");
        var error = new StringWriter();

        var exit = CheckConfigCommand.Run(new CommandLineSettings { ConfigFile = config, ConfigDirectory = _temp.FullName }, new StringWriter(), error);

        Assert.Equal(2, exit);
        var line = Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("broken.json", line, StringComparison.Ordinal);
        Assert.Contains("line", line, StringComparison.OrdinalIgnoreCase); // where the parser stopped
    }

    private (int Exit, string Output, string Error) Check(string settings)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = CheckConfigCommand.Run(
            new CommandLineSettings { ConfigFile = WriteConfig(settings), PluginDirectories = [_plugins], ConfigDirectory = _temp.FullName },
            output,
            error);
        return (exit, output.ToString(), error.ToString());
    }

    /// <summary>A valid configuration (a wav source, a jsonl sink, the small labelled bundle) with <paramref name="settings"/> (<c>key=value;...</c>) laid over it.</summary>
    private string WriteConfig(string settings)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Model:Path"] = _bundle,
            ["Broker:Enabled"] = "false",
            ["Sources:s:Type"] = "wav",
            ["Sources:s:Path"] = _wav,
            ["Sinks:file:Type"] = "jsonl",
            ["Sinks:file:Path"] = Path.Combine(_temp.FullName, "captions.jsonl"),
        };
        foreach (var pair in settings.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            values[pair[..equals]] = pair[(equals + 1)..];
        }

        var root = new JsonObject();
        foreach (var (key, value) in values)
        {
            var levels = key.Split(':');
            var node = root;
            foreach (var level in levels[..^1])
            {
                if (node[level] is not JsonObject child)
                {
                    child = new JsonObject();
                    node[level] = child;
                }
                node = child;
            }
            node[levels[^1]] = value;
        }

        var path = Path.Combine(_temp.FullName, $"config-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, root.ToJsonString());
        return path;
    }

    private static async Task<(int Exit, string Output)> RunBinaryAsync(string[] args, Dictionary<string, string> environment)
    {
        await using var daemon = DaemonProcess.Start(args, environment);
        var exit = await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60));
        await Task.Delay(100); // the last redirected lines
        return (exit, daemon.Output());
    }
}
