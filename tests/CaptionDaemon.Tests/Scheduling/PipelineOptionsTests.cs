using CaptionDaemon.Scheduling;
using CaptionDaemon.Sinks;
using CaptionDaemon.Windowing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CaptionDaemon.Tests.Scheduling;

public sealed class PipelineOptionsTests
{
    [Theory]
    [InlineData("Scheduler:MaxBatch", "0")]
    [InlineData("Scheduler:QueueCapacity", "100000")]
    [InlineData("Scheduler:Beam", "0")]
    [InlineData("Scheduler:MaxWaitMilliseconds", "-1")]
    [InlineData("Windowing:HopSeconds", "0")]
    [InlineData("Windowing:SilenceThresholdDbfs", "3")]
    [InlineData("Captions:MinConfidence", "1.5")]
    [InlineData("Captions:HeartbeatSeconds", "-2")]
    [InlineData("Model:IntraOpThreads", "-1")]
    [InlineData("Model:ReloadPollSeconds", "-1")]
    public void Validate_ValueOutOfRange_FailsNamingTheKey(string key, string value)
    {
        using var services = Services(new() { [key] = value });

        var error = Assert.Throws<OptionsValidationException>(() => ResolveAll(services));

        Assert.Contains(key, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_NoSettings_UsesTheDocumentedDefaults()
    {
        using var services = Services([]);

        var windowing = services.GetRequiredService<IOptions<WindowingOptions>>().Value;
        var scheduler = services.GetRequiredService<IOptions<SchedulerOptions>>().Value;
        var captions = services.GetRequiredService<IOptions<CaptionPolicyOptions>>().Value;
        var model = services.GetRequiredService<IOptions<ModelOptions>>().Value;

        Assert.Equal((2.0, -70.0), (windowing.HopSeconds, windowing.SilenceThresholdDbfs));
        Assert.Equal((32, 100, 64, 3), (scheduler.MaxBatch, scheduler.MaxWaitMilliseconds, scheduler.EffectiveQueueCapacity, scheduler.Beam));
        Assert.Equal(((double?)null, true, 30.0), (captions.MinConfidence, captions.SuppressRepeats, captions.HeartbeatSeconds));
        Assert.Equal((Inference.ExecutionProviderPreference.Auto, 0, 2.0), (model.ExecutionProvider, model.IntraOpThreads, model.ReloadPollSeconds));
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "models", "default"), model.ResolveDirectory());
    }

    [Fact]
    public void Bind_EmptySilenceThreshold_TurnsTheGateOff()
    {
        using var services = Services(new() { ["Windowing:SilenceThresholdDbfs"] = string.Empty, ["Model:ExecutionProvider"] = "cpu" });

        Assert.Null(services.GetRequiredService<IOptions<WindowingOptions>>().Value.SilenceThresholdDbfs);
        Assert.Equal(Inference.ExecutionProviderPreference.Cpu, services.GetRequiredService<IOptions<ModelOptions>>().Value.ExecutionProvider);
    }

    private static void ResolveAll(IServiceProvider services)
    {
        _ = services.GetRequiredService<IOptions<ModelOptions>>().Value;
        _ = services.GetRequiredService<IOptions<WindowingOptions>>().Value;
        _ = services.GetRequiredService<IOptions<SchedulerOptions>>().Value;
        _ = services.GetRequiredService<IOptions<CaptionPolicyOptions>>().Value;
    }

    private static ServiceProvider Services(Dictionary<string, string?> settings) =>
        new ServiceCollection()
            .AddLogging()
            .AddSingleton<ICaptionOutlet>(new RecordingOutlet())
            .AddCaptionPipeline(new ConfigurationBuilder().AddInMemoryCollection(settings).Build())
            .BuildServiceProvider();
}
