using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace CaptionDaemon.Ui;

/// <summary>
/// Who may use the page, its event stream and audio, <c>/metrics</c> and <c>/healthz</c>: any client on loopback, as
/// before; a client from elsewhere (when <c>Metrics:Listen</c> is not a loopback address) only with HTTP Basic
/// credentials, <c>Ui:Username</c> and <c>Ui:Password</c> or else a password generated once into the state directory.
/// Anyone else is refused (401) with the reason, as the embedded broker refuses anonymous clients off loopback.
/// </summary>
/// <remarks>A hosted service so that the password file is written, or its failure reported, when the daemon starts.</remarks>
internal sealed partial class RemoteAccess : IHostedService
{
    /// <summary>The generated password's file name in the state directory.</summary>
    public const string PasswordFileName = "ui-password";

    private readonly IPEndPoint _listen;
    private readonly UiOptions _options;
    private readonly string _stateDirectory;
    private readonly ILogger<RemoteAccess> _logger;
    private byte[]? _expected;
    private string _howToLogIn = "nothing listens beyond loopback (Metrics:Listen)";

    public RemoteAccess(IPEndPoint listen, IOptions<UiOptions> options, string stateDirectory, ILogger<RemoteAccess> logger)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _listen = listen;
        _options = options.Value;
        _stateDirectory = stateDirectory;
        _logger = logger;
    }

    /// <summary>Where the generated password is kept.</summary>
    public string PasswordFile => Path.Combine(_stateDirectory, PasswordFileName);

    /// <exception cref="IOException">The password file cannot be read or written.</exception>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (IsLoopback(_listen.Address) && _options.Password is null)
            return Task.CompletedTask;
        string password;
        if (_options.Password is { } configured)
        {
            password = configured;
            _howToLogIn = $"log in as {_options.Username} with Ui:Password";
        }
        else
        {
            password = ReadOrCreatePassword(PasswordFile);
            _howToLogIn = $"log in as {_options.Username} with the password in {PasswordFile}";
        }

        _expected = Encoding.UTF8.GetBytes($"{_options.Username}:{password}");
        if (!IsLoopback(_listen.Address))
            LogRemoteClients(_logger, _listen.ToString(), _howToLogIn);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The middleware: loopback passes, others need the credentials.</summary>
    public Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (context.Connection.RemoteIpAddress is { } remote && IsLoopback(remote))
            return next(context);
        var reason = Refusal(context.Request.Headers.Authorization.ToString());
        if (reason is null)
            return next(context);
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Basic realm=\"captiond\", charset=\"UTF-8\"";
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync($"captiond: {reason}\n", context.RequestAborted);
    }

    /// <summary>Why a client off loopback with this Authorization header is refused, or null when it may pass.</summary>
    internal string? Refusal(string authorization)
    {
        var expected = _expected;
        if (expected is null)
            return $"clients off loopback are refused: {_howToLogIn}";
        if (!authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
            return $"credentials required off loopback: {_howToLogIn}";
        byte[] given;
        try
        {
            given = Convert.FromBase64String(authorization["Basic ".Length..].Trim());
        }
        catch (FormatException)
        {
            return "the Authorization header is not HTTP Basic (base64 of user:password)";
        }

        return CryptographicOperations.FixedTimeEquals(given, expected) ? null : $"wrong user name or password: {_howToLogIn}";
    }

    public static bool IsLoopback(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
    }

    /// <summary>The password in <paramref name="path"/>, or a new random one written there first (readable by the owner only).</summary>
    private static string ReadOrCreatePassword(string path)
    {
        if (File.Exists(path))
        {
            var existing = File.ReadAllText(path).Trim();
            if (existing.Length >= 8)
                return existing;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var password = Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)).Replace('+', '-').Replace('/', '_');
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var file = new StreamWriter(path, new UTF8Encoding(false), options))
            file.WriteLine(password);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return password;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The page, /metrics and /healthz listen on {Listen}, beyond loopback: clients other than loopback must {HowToLogIn}")]
    private static partial void LogRemoteClients(ILogger logger, string listen, string howToLogIn);
}
