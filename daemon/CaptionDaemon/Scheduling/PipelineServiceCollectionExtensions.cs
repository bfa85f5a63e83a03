using CaptionDaemon.Sinks;
using CaptionDaemon.Sources;
using CaptionDaemon.Telemetry;
using CaptionDaemon.Ui;
using CaptionDaemon.Windowing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace CaptionDaemon.Scheduling;

/// <summary>Registers the audio-to-caption pipeline.</summary>
internal static class PipelineServiceCollectionExtensions
{
    /// <summary>
    /// Adds the pipeline: the options of the sections <c>Model</c>, <c>Windowing</c>, <c>Scheduler</c> and
    /// <c>Captions</c> (validated at start-up), <see cref="ModelRuntime"/> (a hosted service that watches the bundle
    /// folder), <see cref="SourceWindowerFactory"/>, the <see cref="ReadyWindowQueue"/> (drop oldest), the
    /// <see cref="WindowCaptioner"/>, <see cref="CaptionPolicy"/>, <see cref="BatchScheduler"/> (a hosted service) and
    /// <see cref="FileCaptioning"/> for the one-shot command.
    /// </summary>
    /// <remarks>
    /// Needs from the container: an <c>ICaptionOutlet</c>, <see cref="DaemonMetrics"/> (with <c>AddMetrics()</c>) and
    /// logging; adds <see cref="TimeProvider.System"/> when no <see cref="TimeProvider"/> is registered. Register it
    /// before the services that feed sources, so that the scheduler starts before and stops after them.
    /// </remarks>
    public static IServiceCollection AddCaptionPipeline(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.TryAddSingleton(TimeProvider.System);

        services.AddOptionsWithValidateOnStart<ModelOptions>().Bind(configuration.GetSection(ModelOptions.SectionName));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ModelOptions>, ModelOptionsValidator>());
        services.AddOptionsWithValidateOnStart<WindowingOptions>().Bind(configuration.GetSection(WindowingOptions.SectionName));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WindowingOptions>, WindowingOptionsValidator>());
        services.AddOptionsWithValidateOnStart<SchedulerOptions>().Bind(configuration.GetSection(SchedulerOptions.SectionName));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SchedulerOptions>, SchedulerOptionsValidator>());
        services.AddOptionsWithValidateOnStart<CaptionPolicyOptions>().Bind(configuration.GetSection(CaptionPolicyOptions.SectionName));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CaptionPolicyOptions>, CaptionPolicyOptionsValidator>());

        services.AddSingleton<ModelRuntime>();
        services.AddHostedService(sp => sp.GetRequiredService<ModelRuntime>());
        services.AddSingleton(sp =>
        {
            var scheduler = sp.GetRequiredService<IOptions<SchedulerOptions>>().Value;

            // Windows in flight: the queue, one batch being captioned and one window per source being filled.
            var retained = scheduler.EffectiveQueueCapacity + scheduler.MaxBatch + 16;
            return new WindowBufferPool(sp.GetRequiredService<ModelRuntime>().WindowSamples, retained);
        });
        services.AddSingleton(sp => new ReadyWindowQueue(
            sp.GetRequiredService<IOptions<SchedulerOptions>>().Value.EffectiveQueueCapacity,
            QueueFullMode.DropOldest,
            sp.GetRequiredService<WindowBufferPool>(),
            sp.GetRequiredService<DaemonMetrics>(),
            sp.GetRequiredService<ILogger<ReadyWindowQueue>>(),
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new SourceTunings(sp.GetService<IConfiguration>()));
        services.AddSingleton(sp => new SourceWindowerFactory(
            sp.GetRequiredService<ModelRuntime>(),
            sp.GetRequiredService<ReadyWindowQueue>(),
            sp.GetRequiredService<IOptions<WindowingOptions>>(),
            sp.GetRequiredService<DaemonMetrics>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<SourceTunings>(),
            sp.GetService<SourceLevels>(),
            sp.GetService<RecentAudio>()));
        services.AddSingleton<WindowCaptioner>();
        // The daemon registers a numbering kept on disk when a sink's outbox persists; otherwise each start is a new run.
        services.TryAddSingleton(_ => CaptionNumbering.InMemory());
        services.AddSingleton(sp => new CaptionPolicy(
            sp.GetRequiredService<IOptions<CaptionPolicyOptions>>(),
            sp.GetRequiredService<ICaptionOutlet>(),
            sp.GetRequiredService<DaemonMetrics>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<SourceTunings>(),
            sp.GetRequiredService<CaptionNumbering>()));
        services.AddSingleton(sp => new BatchScheduler(
            sp.GetRequiredService<ReadyWindowQueue>(),
            sp.GetRequiredService<WindowCaptioner>(),
            sp.GetRequiredService<CaptionPolicy>(),
            sp.GetRequiredService<IOptions<SchedulerOptions>>(),
            sp.GetRequiredService<DaemonMetrics>(),
            sp.GetRequiredService<ILogger<BatchScheduler>>(),
            sp.GetRequiredService<TimeProvider>()));
        services.AddHostedService(sp => sp.GetRequiredService<BatchScheduler>());
        services.AddSingleton<FileCaptioning>();
        return services;
    }
}
