using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace CaptionDaemon.Tests.Ui;

/// <summary>
/// Debian's real <c>chromium</c>, headless, driven through its DevTools protocol: a WebSocket of JSON commands
/// (<c>{"id","method","params"}</c>) and their answers. That is all a test needs (navigate, evaluate, screenshot), so no
/// browser-automation library is used: Playwright and PuppeteerSharp would bring their own driver or download rules for
/// a browser this machine already has.
/// </summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    private readonly Process _process;
    private readonly DirectoryInfo _profile;
    private readonly int _port;

    private HeadlessChromium(Process process, DirectoryInfo profile, int port)
    {
        _process = process;
        _profile = profile;
        _port = port;
    }

    public static string Executable =>
        new[] { "/usr/bin/chromium", "/usr/bin/chromium-browser" }.FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException("Debian's chromium is not installed: apt-get install chromium (./test.sh installs it).");

    /// <summary>Starts chromium with a fresh profile and DevTools on a port of its own choosing.</summary>
    public static async Task<HeadlessChromium> StartAsync(TimeSpan timeout)
    {
        var profile = Directory.CreateTempSubdirectory("page-chromium-");
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
        {
            "--headless", "--remote-debugging-port=0", $"--user-data-dir={profile.FullName}",
            // Tests run as root in CI, where chromium's sandbox cannot start.
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--mute-audio", "--hide-scrollbars",
            "about:blank",
        })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("chromium did not start");
        var errors = new ConcurrentQueue<string>();
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) errors.Enqueue(e.Data); };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();

        // Chromium writes the port it chose into the profile once DevTools listens.
        var portFile = Path.Combine(profile.FullName, "DevToolsActivePort");
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (File.Exists(portFile) && File.ReadAllLines(portFile) is [var port, ..] && int.TryParse(port, CultureInfo.InvariantCulture, out var number))
                return new HeadlessChromium(process, profile, number);
            if (process.HasExited)
                break;
            await Task.Delay(100);
        }

        process.Kill(entireProcessTree: true);
        throw new TimeoutException($"chromium's DevTools did not come up in {timeout} (exited: {process.HasExited}):\n{string.Join('\n', errors)}");
    }

    /// <summary>Opens a new tab and attaches to it.</summary>
    public async Task<DevToolsPage> OpenPageAsync()
    {
        using var http = new HttpClient();
        using var response = await http.PutAsync(new Uri($"http://127.0.0.1:{_port}/json/new?about:blank"), content: null);
        response.EnsureSuccessStatusCode();
        var target = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return await DevToolsPage.ConnectAsync(new Uri(target["webSocketDebuggerUrl"]!.GetValue<string>()));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            _profile.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A helper process may still hold a file for a moment; the folder is under the temporary directory.
        }
    }
}

/// <summary>One tab, over its DevTools WebSocket: commands and their results, in order.</summary>
internal sealed class DevToolsPage : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonNode>> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiving;
    private int _nextId;

    private DevToolsPage(ClientWebSocket socket)
    {
        _socket = socket;
        _receiving = Task.Run(ReceiveAsync);
    }

    public static async Task<DevToolsPage> ConnectAsync(Uri endpoint)
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(endpoint, CancellationToken.None);
        return new DevToolsPage(socket);
    }

    /// <summary>Sends a command and returns its <c>result</c>; a protocol error throws with chromium's message.</summary>
    public async Task<JsonNode> SendAsync(string method, object? parameters = null, TimeSpan? timeout = null)
    {
        var id = Interlocked.Increment(ref _nextId);
        var answer = new TaskCompletionSource<JsonNode>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = answer;
        var message = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?> { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new { } });
        await _socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
        var reply = await answer.Task.WaitAsync(timeout ?? TimeSpan.FromSeconds(30));
        if (reply["error"] is { } error)
            throw new InvalidOperationException($"DevTools {method}: {error.ToJsonString()}");
        return reply["result"] ?? new JsonObject();
    }

    /// <summary>Evaluates a JavaScript expression in the page and returns its value (awaiting a promise).</summary>
    public async Task<JsonNode?> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new { expression, returnByValue = true, awaitPromise = true });
        if (result["exceptionDetails"] is { } exception)
            throw new InvalidOperationException($"The page threw evaluating {expression}: {exception.ToJsonString()}");
        return result["result"]?["value"];
    }

    /// <summary>Evaluates <paramref name="expression"/> until it gives a non-null value, failing after the timeout.</summary>
    public async Task<JsonNode> WaitForAsync(string expression, TimeSpan timeout, Func<string>? describe = null)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            if (await EvaluateAsync(expression) is { } value)
                return value;
            await Task.Delay(250);
        }

        throw new TimeoutException($"The page did not satisfy `{expression}` within {timeout}. {describe?.Invoke()}");
    }

    /// <summary>The viewport's size in CSS pixels (1 device pixel each), and whether it is a phone's.</summary>
    public Task SetViewportAsync(int width, int height, bool mobile) =>
        SendAsync("Emulation.setDeviceMetricsOverride", new { width, height, deviceScaleFactor = 1, mobile });

    public async Task NavigateAsync(Uri url)
    {
        await SendAsync("Page.enable");
        await SendAsync("Page.navigate", new { url = url.ToString() });
        await WaitForAsync("document.readyState === 'complete' ? true : null", TimeSpan.FromSeconds(30));
    }

    /// <summary>A PNG of the viewport.</summary>
    public async Task<byte[]> ScreenshotAsync()
    {
        var result = await SendAsync("Page.captureScreenshot", new { format = "png" });
        return Convert.FromBase64String(result["data"]!.GetValue<string>());
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[1 << 16];
        using var message = new MemoryStream();
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                var received = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (received.MessageType == WebSocketMessageType.Close)
                    break;
                message.Write(buffer, 0, received.Count);
                if (!received.EndOfMessage)
                    continue;
                var node = JsonNode.Parse(Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length));
                message.SetLength(0);
                // Events (no id) are not needed by these tests.
                if (node?["id"] is { } id && _pending.TryRemove(id.GetValue<int>(), out var answer))
                    answer.TrySetResult(node);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            // The tab or the browser closed: every command still waiting fails below.
        }

        foreach (var answer in _pending.Values)
            answer.TrySetException(new InvalidOperationException("The DevTools connection closed."));
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _receiving;
        }
        finally
        {
            _socket.Dispose();
            _stop.Dispose();
        }
    }
}
