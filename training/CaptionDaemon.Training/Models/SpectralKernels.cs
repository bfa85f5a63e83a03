namespace CaptionDaemon.Training.Models;

/// <summary>
/// The fixed tensors of the log-mel front end, computed in double precision: a periodic Hann window, the windowed
/// DFT kernels that turn a 1-D convolution into a short-time Fourier transform, and an HTK mel filterbank.
/// They live here, not in a library, so that the TorchSharp model and the ONNX graph share exactly these numbers.
/// </summary>
internal static class SpectralKernels
{
    /// <summary>Periodic Hann window w[n] = 0.5 - 0.5 cos(2 pi n / N): the window of an N-point DFT frame.</summary>
    public static double[] PeriodicHann(int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        var window = new double[length];
        for (var n = 0; n < length; n++)
        {
            window[n] = 0.5 - (0.5 * Math.Cos(2 * Math.PI * n / length));
        }

        return window;
    }

    /// <summary>
    /// Hann-windowed DFT kernels for a Conv1d with <c>2 * (nFft / 2 + 1)</c> output channels, row-major
    /// <c>[2F, nFft]</c>: rows 0..F-1 give the real part w[n] cos(2 pi k n / N), rows F..2F-1 the imaginary part
    /// -w[n] sin(2 pi k n / N), so that re + i im is the DFT of the windowed frame.
    /// </summary>
    public static float[] WindowedDftKernels(int nFft)
    {
        var bins = (nFft / 2) + 1;
        var window = PeriodicHann(nFft);
        var kernels = new float[2 * bins * nFft];
        for (var k = 0; k < bins; k++)
        {
            for (var n = 0; n < nFft; n++)
            {
                // (k * n) mod N keeps the angle small, so cos/sin stay exact to double precision for large N.
                var angle = 2 * Math.PI * ((long)k * n % nFft) / nFft;
                kernels[(k * nFft) + n] = (float)(window[n] * Math.Cos(angle));
                kernels[((bins + k) * nFft) + n] = (float)(-window[n] * Math.Sin(angle));
            }
        }

        return kernels;
    }

    /// <summary>HTK mel scale: 2595 log10(1 + f / 700).</summary>
    public static double HzToMel(double hz) => 2595.0 * Math.Log10(1.0 + (hz / 700.0));

    public static double MelToHz(double mel) => 700.0 * (Math.Pow(10.0, mel / 2595.0) - 1.0);

    /// <summary>
    /// Triangular HTK mel filterbank, row-major <c>[melBins, nFft / 2 + 1]</c>, without area normalisation
    /// (each triangle peaks at 1): melBins + 2 edges equally spaced in mel between fMin and fMax, filter m rising
    /// from edge m to edge m+1 and falling to edge m+2, evaluated at the DFT bin frequencies k * sampleRate / nFft.
    /// </summary>
    public static float[] HtkMelFilterbank(int sampleRate, int nFft, int melBins, double fMin, double fMax)
    {
        var bins = (nFft / 2) + 1;
        var melLow = HzToMel(fMin);
        var melHigh = HzToMel(fMax);
        var edges = new double[melBins + 2];
        for (var i = 0; i < edges.Length; i++)
        {
            edges[i] = MelToHz(melLow + ((melHigh - melLow) * i / (melBins + 1)));
        }

        var filters = new float[melBins * bins];
        for (var m = 0; m < melBins; m++)
        {
            double left = edges[m], centre = edges[m + 1], right = edges[m + 2];
            for (var k = 0; k < bins; k++)
            {
                var hz = (double)k * sampleRate / nFft;
                var rising = (hz - left) / (centre - left);
                var falling = (right - hz) / (right - centre);
                filters[(m * bins) + k] = (float)Math.Max(0.0, Math.Min(rising, falling));
            }
        }

        return filters;
    }
}
