using CaptionDaemon.Scheduling;
using CaptionDaemon.Sinks;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace CaptionDaemon.Tests.Scheduling;

/// <summary>The pipeline as the daemon registers it (<c>AddCaptionPipeline</c>), on the shipped model, with its hosted services started.</summary>
internal sealed class PipelineHost : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly IHostedService[] _hosted;

    private PipelineHost(ServiceProvider services, IHostedService[] hosted, MetricsRecorder recorder, RecordingOutlet outlet)
    {
        _services = services;
        _hosted = hosted;
        Recorder = recorder;
        Outlet = outlet;
    }

    public MetricsRecorder Recorder { get; }

    public RecordingOutlet Outlet { get; }

    public IServiceProvider Services => _services;

    public static async Task<PipelineHost> StartAsync(IDictionary<string, string?> settings, bool startHostedServices = true)
    {
        var recorder = new MetricsRecorder();
        var outlet = new RecordingOutlet();
        var all = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Model:Path"] = RepositoryFiles.DefaultModel,
            ["Model:ExecutionProvider"] = "Cpu",
            ["Model:IntraOpThreads"] = "1",
        };
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(all).Build();
        var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<IConfiguration>(configuration)
            .AddSingleton(recorder.Metrics)
            .AddSingleton<ICaptionOutlet>(outlet)
            .AddCaptionPipeline(configuration)
            .BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        var hosted = startHostedServices ? services.GetServices<IHostedService>().ToArray() : [];
        foreach (var service in hosted)
        {
            await service.StartAsync(CancellationToken.None);
        }

        return new PipelineHost(services, hosted, recorder, outlet);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var service in _hosted.Reverse())
        {
            await service.StopAsync(CancellationToken.None);
        }

        await _services.DisposeAsync();
        Recorder.Dispose();
    }
}
