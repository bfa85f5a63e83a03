using System.Numerics;

namespace CaptionDaemon.Windowing;

/// <summary>
/// Skips windows whose RMS level is below a threshold in dBFS (0 dBFS = RMS of 1.0, so a full-scale sine is about
/// -3 dBFS). The default, -70 dBFS, skips only digital silence, a muted or unplugged input and the idle noise of a
/// good interface; a quiet room through a real microphone (about -60 to -50 dBFS) is still captioned, because
/// "silence" there is itself worth a caption to some users and the model was trained on such backgrounds.
/// </summary>
internal sealed class SilenceGate
{
    /// <summary>The default threshold (dBFS).</summary>
    public const double DefaultThresholdDbfs = -70;

    private readonly double _meanSquareThreshold;

    /// <summary>Creates a gate.</summary>
    /// <param name="thresholdDbfs">Windows quieter than this are silent; null lets every window through.</param>
    public SilenceGate(double? thresholdDbfs)
    {
        if (thresholdDbfs is { } threshold && !double.IsFinite(threshold))
        {
            throw new ArgumentOutOfRangeException(nameof(thresholdDbfs), thresholdDbfs, "The threshold must be a finite dBFS value.");
        }

        ThresholdDbfs = thresholdDbfs;
        _meanSquareThreshold = thresholdDbfs is { } t ? Math.Pow(10, t / 10) : double.NegativeInfinity;
    }

    /// <summary>The threshold, or null when the gate is open.</summary>
    public double? ThresholdDbfs { get; }

    /// <summary>The RMS level of <paramref name="samples"/> in dBFS; negative infinity for digital silence.</summary>
    public static double RmsDbfs(ReadOnlySpan<float> samples) =>
        samples.IsEmpty ? double.NegativeInfinity : 10 * Math.Log10(MeanSquare(samples));

    /// <summary>True when a window of level <paramref name="dbfs"/> (from <see cref="RmsDbfs"/>) is below the threshold (never when the gate is open).</summary>
    public bool IsSilentLevel(double dbfs) => ThresholdDbfs is { } threshold && (double.IsNaN(dbfs) || dbfs < threshold);

    /// <summary>True when the window is below the threshold (never when the gate is open).</summary>
    public bool IsSilent(ReadOnlySpan<float> window) =>
        ThresholdDbfs is not null && (window.IsEmpty || MeanSquare(window) < _meanSquareThreshold);

    private static double MeanSquare(ReadOnlySpan<float> samples)
    {
        var i = 0;
        var sum = 0.0;
        if (Vector.IsHardwareAccelerated)
        {
            // Partial sums per vector of a few thousand samples keep float rounding far below the gate's resolution.
            const int Block = 4096;
            while (i <= samples.Length - Vector<float>.Count)
            {
                var acc = Vector<float>.Zero;
                var end = Math.Min(samples.Length - Vector<float>.Count, i + Block);
                for (; i <= end; i += Vector<float>.Count)
                {
                    var v = new Vector<float>(samples[i..]);
                    acc += v * v;
                }

                sum += Vector.Sum(acc);
            }
        }

        for (; i < samples.Length; i++)
        {
            sum += (double)samples[i] * samples[i];
        }

        return sum / samples.Length;
    }
}
