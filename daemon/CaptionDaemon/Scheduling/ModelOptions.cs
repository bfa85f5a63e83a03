using System.ComponentModel.DataAnnotations;
using CaptionDaemon.Inference;
using Microsoft.Extensions.Options;

namespace CaptionDaemon.Scheduling;

/// <summary>Configuration section <c>Model</c>: which caption bundle runs, and how.</summary>
internal sealed class ModelOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Model";

    /// <summary>
    /// <c>Model:Path</c>: the bundle folder (with <c>manifest.json</c>). Empty (default): the shipped model,
    /// <c>models/default</c> beside the <c>captiond</c> binary. A relative path is resolved against the working
    /// directory. A new bundle copied into this folder is loaded without a restart.
    /// </summary>
    public string? Path { get; set; }

    /// <summary>
    /// <c>Model:ExecutionProvider</c>: <c>Auto</c> (default: CUDA when this build and machine can use it, else the CPU,
    /// with one log line saying why), <c>Cpu</c> or <c>Cuda</c> (fail when CUDA cannot be used).
    /// </summary>
    [EnumDataType(typeof(ExecutionProviderPreference), ErrorMessage = "Model:ExecutionProvider must be Auto, Cpu or Cuda.")]
    public ExecutionProviderPreference ExecutionProvider { get; set; } = ExecutionProviderPreference.Auto;

    /// <summary>
    /// <c>Model:IntraOpThreads</c>: threads ONNX Runtime uses inside one operator; 0 (default) lets it choose (one per
    /// core). Lower it to leave cores to other work on a shared machine. Between 0 and 1024.
    /// </summary>
    [SettingRange(0, 1024, ErrorMessage = "Model:IntraOpThreads must be between 0 (automatic) and 1024.")]
    public int IntraOpThreads { get; set; }

    /// <summary>
    /// <c>Model:ReloadPollSeconds</c>: how often the bundle folder is checked for a new bundle (default 2); 0 turns the
    /// polling off (a reload then happens only on request, e.g. SIGHUP). Between 0 and 86400.
    /// </summary>
    [SettingRange(0.0, 86400.0, ErrorMessage = "Model:ReloadPollSeconds must be between 0 (no polling) and 86400 seconds.")]
    public double ReloadPollSeconds { get; set; } = 2;

    /// <summary>The bundle folder as a full path (the shipped model when <see cref="Path"/> is empty).</summary>
    public string ResolveDirectory() =>
        string.IsNullOrWhiteSpace(Path)
            ? System.IO.Path.Combine(AppContext.BaseDirectory, "models", "default")
            : System.IO.Path.GetFullPath(Path);

    /// <summary>The inference library's settings for these options.</summary>
    public CaptionerOptions ToCaptionerOptions() => new() { ExecutionProvider = ExecutionProvider, IntraOpThreads = IntraOpThreads };
}

/// <summary>Checks <see cref="ModelOptions"/> at start-up (source-generated from the data annotations).</summary>
[OptionsValidator]
internal sealed partial class ModelOptionsValidator : IValidateOptions<ModelOptions>;
