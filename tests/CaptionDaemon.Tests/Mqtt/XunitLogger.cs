using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace CaptionDaemon.Tests.Mqtt;

/// <summary>Writes log lines to the test's output, so that a failing test shows what the component said.</summary>
internal sealed class XunitLogger(ITestOutputHelper output, string category) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        try
        {
            output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel} {category}: {formatter(state, exception)}{(exception is null ? string.Empty : " | " + exception)}");
        }
        catch (InvalidOperationException)
        {
            // The test already finished: its output is closed.
        }
    }
}

/// <summary>Creates <see cref="XunitLogger"/>s.</summary>
internal sealed class XunitLoggerFactory(ITestOutputHelper output) : ILoggerFactory
{
    public void AddProvider(ILoggerProvider provider)
    {
    }

    public ILogger CreateLogger(string categoryName) => new XunitLogger(output, categoryName);

    public void Dispose()
    {
    }
}
