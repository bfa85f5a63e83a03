using System.Diagnostics;

namespace CaptionDaemon.Plugins.Audio.Tests.TestSupport;

public static class Wait
{
    /// <summary>Polls until <paramref name="value"/> returns non-null.</summary>
    public static async Task<T> ForAsync<T>(Func<T?> value, TimeSpan timeout, string what)
        where T : class
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (value() is { } result)
                return result;
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"Waited {timeout} for {what}");
            await Task.Delay(10);
        }
    }
}
