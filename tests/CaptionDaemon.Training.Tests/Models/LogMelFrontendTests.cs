using CaptionDaemon.Training.Models;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Tests.Models;

public sealed class LogMelFrontendTests
{
    [Fact]
    public void LogMel_SinesAndNoise_MatchesDirectDftInDoubles()
    {
        using var scope = NewDisposeScope();
        var config = CaptionModelConfig.Student(10);
        using var frontend = new LogMelFrontend(config);
        var audio = TinyModels.SinesAndNoise(4000, 7, 440, 3000, 7000);

        var logMel = frontend.LogMel(tensor(audio).unsqueeze(0));   // [1, 64, T]

        Assert.Equal(new long[] { 1, 64, ((4000 - 512) / 160) + 1 }, logMel.shape);
        foreach (var frame in new[] { 0, 7, 21 })
        {
            var expected = ReferenceLogMel(audio, frame * 160, config);
            var actual = logMel[0, .., frame].data<float>().ToArray();
            for (var m = 0; m < expected.Length; m++)
            {
                Assert.True(Math.Abs(expected[m] - actual[m]) < 2e-3, $"frame {frame}, mel {m}: {actual[m]} vs {expected[m]} dB");
            }
        }
    }

    [Fact]
    public void Forward_FreshBatchNormInEval_IsLogMelOverSqrtOnePlusEpsilon()
    {
        using var scope = NewDisposeScope();
        using var frontend = new LogMelFrontend(CaptionModelConfig.Student(10));
        frontend.eval();
        var audio = tensor(TinyModels.SinesAndNoise(2000, 8, 1000)).unsqueeze(0);

        var difference = (frontend.forward(audio).squeeze(1) - (frontend.LogMel(audio) / Math.Sqrt(1 + 1e-5))).abs().max();

        Assert.True(difference.item<float>() < 1e-4f);
    }

    [Fact]
    public void HtkMelFilterbank_Triangles_PeakAtCentresAndCoverTheBand()
    {
        var filters = SpectralKernels.HtkMelFilterbank(16000, 512, 64, 0, 8000);

        Assert.Equal(1000.0, SpectralKernels.HzToMel(1000), 0);    // HTK: 1000 Hz is about 1000 mel
        Assert.Equal(440.0, SpectralKernels.MelToHz(SpectralKernels.HzToMel(440)), 9);
        // The highest filter ends at 8 kHz and rises towards its centre: positive just below, zero at Nyquist.
        Assert.True(filters[(63 * 257) + 256] < 1e-6f);
        Assert.True(filters[(63 * 257) + 250] > 0f);
        Assert.All(filters, w => Assert.InRange(w, 0f, 1f));
        // Neighbouring triangles overlap so that together they cover every bin between the first and last centre.
        for (var k = 10; k < 250; k++)
        {
            var column = Enumerable.Range(0, 64).Sum(m => filters[(m * 257) + k]);
            Assert.InRange(column, 0.5, 1.0001);
        }
    }

    [Fact]
    public void PeriodicHann_Length4_IsZeroHalfOneHalf()
    {
        var window = SpectralKernels.PeriodicHann(4);

        Assert.Equal([0.0, 0.5, 1.0, 0.5], window.Select(w => Math.Round(w, 12)));
    }

    /// <summary>Log-mel of one frame the long way: windowed DFT sums, power, triangular HTK weights, dB.</summary>
    private static double[] ReferenceLogMel(float[] audio, int start, CaptionModelConfig config)
    {
        var n = config.NFft;
        var power = new double[(n / 2) + 1];
        for (var k = 0; k < power.Length; k++)
        {
            double re = 0, im = 0;
            for (var t = 0; t < n; t++)
            {
                var windowed = audio[start + t] * (0.5 - (0.5 * Math.Cos(2 * Math.PI * t / n)));
                re += windowed * Math.Cos(2 * Math.PI * k * t / n);
                im -= windowed * Math.Sin(2 * Math.PI * k * t / n);
            }

            power[k] = (re * re) + (im * im);
        }

        static double Mel(double hz) => 2595 * Math.Log10(1 + (hz / 700));
        static double Hz(double mel) => 700 * (Math.Pow(10, mel / 2595) - 1);
        var result = new double[config.MelBins];
        var step = (Mel(config.FMax) - Mel(config.FMin)) / (config.MelBins + 1);
        for (var m = 0; m < config.MelBins; m++)
        {
            double lo = Hz(Mel(config.FMin) + (m * step)), mid = Hz(Mel(config.FMin) + ((m + 1) * step)), hi = Hz(Mel(config.FMin) + ((m + 2) * step));
            var sum = 0.0;
            for (var k = 0; k < power.Length; k++)
            {
                var f = k * (double)config.SampleRate / n;
                var weight = f <= lo || f >= hi ? 0 : f <= mid ? (f - lo) / (mid - lo) : (hi - f) / (hi - mid);
                sum += weight * power[k];
            }

            result[m] = 10 * Math.Log10(Math.Max(sum, 1e-10));
        }

        return result;
    }
}
