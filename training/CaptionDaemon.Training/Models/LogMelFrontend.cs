using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CaptionDaemon.Training.Models;

/// <summary>
/// Waveform <c>[B, S]</c> to normalised log-mel <c>[B, 1, MelBins, T]</c>, T = floor((S - NFft) / Hop) + 1.
/// The STFT is a Conv1d with fixed Hann-windowed DFT kernels (no centre padding) so that the ONNX graph can use a
/// plain Conv everywhere, including ONNX Runtime's CUDA provider, which has no STFT kernel.
/// Only the BatchNorm over mel bins is trainable.
/// </summary>
internal sealed class LogMelFrontend : Module<Tensor, Tensor>
{
    /// <summary>Floor of the mel power before the logarithm, so silence maps to -100 dB instead of -inf.</summary>
    public const float PowerFloor = 1e-10f;

    /// <summary><see cref="LogMel"/> of a frame of silence: 10 log10(<see cref="PowerFloor"/>) dB.</summary>
    public static readonly float FloorDecibels = 10f * MathF.Log10(PowerFloor);

    private readonly Tensor _dftKernels;
    private readonly Tensor _melFilters;
    private readonly BatchNorm1d _norm;
    private readonly int _bins;
    private readonly int _hop;

    public LogMelFrontend(CaptionModelConfig config)
        : base(nameof(LogMelFrontend))
    {
        ArgumentNullException.ThrowIfNull(config);
        _bins = config.FrequencyBins;
        _hop = config.Hop;
        _dftKernels = tensor(SpectralKernels.WindowedDftKernels(config.NFft), [2 * _bins, 1, config.NFft]);
        _melFilters = tensor(
            SpectralKernels.HtkMelFilterbank(config.SampleRate, config.NFft, config.MelBins, config.FMin, config.FMax),
            [config.MelBins, _bins]);
        _norm = BatchNorm1d(config.MelBins);

        // Constants derived from the configuration: kept out of checkpoints, rebuilt on load.
        register_buffer(nameof(_dftKernels), _dftKernels, persistent: false);
        register_buffer(nameof(_melFilters), _melFilters, persistent: false);
        RegisterComponents();
    }

    /// <summary>Windowed DFT kernels <c>[2F, 1, NFft]</c> (real rows then imaginary rows).</summary>
    internal Tensor DftKernels => _dftKernels;

    /// <summary>HTK mel filterbank <c>[MelBins, F]</c>.</summary>
    internal Tensor MelFilters => _melFilters;

    internal BatchNorm1d Norm => _norm;

    internal int Hop => _hop;

    public override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var scope = NewDisposeScope();
        return Normalise(LogMel(input)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The rest of <see cref="forward"/> after <see cref="LogMel"/>: log-mel dB <c>[B, MelBins, T]</c> (from the feature
    /// cache, Training/Features) to normalised <c>[B, 1, MelBins, T]</c>. The BatchNorm is trainable, so the cache holds
    /// what comes before it.
    /// </summary>
    internal Tensor Normalise(Tensor logMel)
    {
        ArgumentNullException.ThrowIfNull(logMel);
        return HeldScalars.BatchNorm(_norm, logMel).unsqueeze(1);
    }

    /// <summary>Log-mel power in dB <c>[B, MelBins, T]</c> before the BatchNorm.</summary>
    internal Tensor LogMel(Tensor waveform)
    {
        // No temporary Scalars (see HeldScalars): a CI run failed in x.square(), which is pow(2), and one in 'a + b'.
        using var floor = PowerFloor.ToScalar();
        using var decibels = 10f.ToScalar();
        using var scope = NewDisposeScope();
        var spectrum = functional.conv1d(waveform.unsqueeze(1), _dftKernels, stride: _hop);
        var real = spectrum.narrow(1, 0, _bins);
        var imaginary = spectrum.narrow(1, _bins, _bins);
        var power = (real * real).Plus(imaginary * imaginary);
        var mel = matmul(_melFilters, power);
        return mel.clamp_min(floor).log10().mul(decibels).MoveToOuterDisposeScope();
    }
}
