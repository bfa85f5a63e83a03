using CaptionDaemon.Contracts;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionDaemon.Plugins.Outputs.Tests;

/// <summary>Builds sink contexts from settings the way the host does: a section <c>Sinks:&lt;name&gt;</c> of a configuration.</summary>
internal static class TestSinks
{
    public static CaptionSinkContext Context(string name, IReadOnlyDictionary<string, string?> settings, string stateDirectory)
    {
        var prefixed = settings.ToDictionary(pair => $"Sinks:{name}:{pair.Key}", pair => pair.Value);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(prefixed).Build();
        return new CaptionSinkContext
        {
            Name = name,
            Settings = configuration.GetSection($"Sinks:{name}"),
            Logger = NullLogger.Instance,
            StateDirectory = stateDirectory,
        };
    }

    /// <summary>Two labels, highest first, as the daemon fills <see cref="Caption.Labels"/>.</summary>
    public static IReadOnlyList<CaptionLabel> Labels { get; } = [new("rain", "Rain", 0.91), new("dog", "Dog", 0.5)];

    public static Caption Caption(long sequence, string text = "a dog barks while rain falls", string source = "kitchen") =>
        new(
            source,
            sequence,
            new DateTimeOffset(2026, 11, 24, 10, 0, 2, TimeSpan.Zero).AddSeconds(2 * sequence),
            new DateTimeOffset(2026, 11, 24, 10, 0, 12, TimeSpan.Zero).AddSeconds(2 * sequence),
            text,
            0.73,
            "student-scenes-v1",
            TimeSpan.FromMilliseconds(1234.4));
}

/// <summary>A folder under the system temp folder, deleted with the test.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Path = Directory.CreateTempSubdirectory("captiond-outputs-").FullName;

    public string Path { get; }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
