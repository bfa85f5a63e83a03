using CaptionDaemon.Sinks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace CaptionDaemon.Tests.Sinks;

public sealed class SinkPumpOptionsTests
{
    [Fact]
    public void FromConfiguration_OnlySinkKeys_Defaults()
    {
        var options = SinkPumpOptions.FromConfiguration(Section(new() { ["Url"] = "mqtt://x" }));

        Assert.Equal(10_000, options.Outbox.Capacity);
        Assert.False(options.Outbox.Persist);
        Assert.Equal(64, options.MaxBatch);
        Assert.Equal(5, options.FlushTimeoutSeconds);
    }

    [Fact]
    public void FromConfiguration_AllKeys_Read()
    {
        var options = SinkPumpOptions.FromConfiguration(Section(new()
        {
            ["Outbox:Capacity"] = "500",
            ["Outbox:Persist"] = "true",
            ["MaxBatch"] = "8",
            ["FlushTimeoutSeconds"] = "2.5",
        }));

        Assert.Equal(500, options.Outbox.Capacity);
        Assert.True(options.Outbox.Persist);
        Assert.Equal(8, options.MaxBatch);
        Assert.Equal(2.5, options.FlushTimeoutSeconds);
    }

    [Theory]
    [InlineData("Outbox:Capacity", "0", "Sinks:mqtt:Outbox:Capacity")]
    [InlineData("Outbox:Capacity", "lots", "Sinks:mqtt:Outbox:Capacity")]
    [InlineData("Outbox:Persist", "yes", "Sinks:mqtt:Outbox:Persist")]
    [InlineData("MaxBatch", "0", "Sinks:mqtt:MaxBatch")]
    [InlineData("FlushTimeoutSeconds", "-1", "Sinks:mqtt:FlushTimeoutSeconds")]
    public void FromConfiguration_BadValue_ThrowsNamingTheKey(string key, string value, string expected)
    {
        var error = Assert.Throws<OptionsValidationException>(() => SinkPumpOptions.FromConfiguration(Section(new() { [key] = value })));

        Assert.Contains(error.Failures, f => f.StartsWith(expected + ":", StringComparison.Ordinal));
    }

    private static IConfigurationSection Section(Dictionary<string, string?> values) =>
        new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(p => new KeyValuePair<string, string?>("Sinks:mqtt:" + p.Key, p.Value)))
            .Build()
            .GetSection("Sinks:mqtt");
}
