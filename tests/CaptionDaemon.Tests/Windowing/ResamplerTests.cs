using CaptionDaemon.Windowing;

namespace CaptionDaemon.Tests.Windowing;

public sealed class ResamplerTests
{
    private const int ModelRate = 16000;

    [Theory]
    [InlineData(48000)]
    [InlineData(44100)]
    [InlineData(22050)]
    [InlineData(8000)]
    public void Process_Sine1kHz_KeepsFrequencyAmplitudeAndTiming(int inputRate)
    {
        var input = Sine(1000, 0.5, inputRate, inputRate * 2, channels: 1);

        var output = ResampleOneShot(input, inputRate, 1);

        // The whole stream comes out, sample n at input time n / 16000 s.
        Assert.Equal((int)Math.Ceiling(input.Length * (double)ModelRate / inputRate), output.Length);
        var middle = output.AsSpan(2000, 16000);
        var (amplitude, phase, residual) = FitSine(middle, 1000, ModelRate, firstIndex: 2000);
        Assert.InRange(amplitude, 0.495, 0.505);
        Assert.InRange(phase, -0.01, 0.01);
        Assert.True(residual < 1e-3 * amplitude, $"residual RMS {residual} besides the 1 kHz sine");
    }

    [Theory]
    [InlineData(8500)]
    [InlineData(10000)]
    [InlineData(12000)]
    [InlineData(15000)]
    [InlineData(20000)]
    public void Process_ToneAboveOutputNyquistFrom48k_IsAttenuatedAtLeast60dB(int frequency)
    {
        var input = Sine(frequency, 0.5, 48000, 48000, channels: 1);

        var output = ResampleOneShot(input, 48000, 1);

        // Anything left would alias into the band as a spurious tone; compare to the input's RMS (0.5 / sqrt 2).
        var rms = Rms(output.AsSpan(1000, output.Length - 2000));
        var attenuationDb = 20 * Math.Log10(rms / (0.5 / Math.Sqrt(2)));
        Assert.True(attenuationDb < -60, $"{frequency} Hz only attenuated by {-attenuationDb:F1} dB");
    }

    [Theory]
    [InlineData(6000, 48000)]
    [InlineData(4000, 44100)]
    [InlineData(3000, 8000)]
    public void Process_ToneInPassBand_KeepsItsLevel(int frequency, int inputRate)
    {
        var input = Sine(frequency, 0.5, inputRate, inputRate, channels: 1);

        var output = ResampleOneShot(input, inputRate, 1);

        var (amplitude, _, _) = FitSine(output.AsSpan(2000, 8000), frequency, ModelRate, firstIndex: 2000);
        Assert.InRange(amplitude, 0.49, 0.51);
    }

    [Theory]
    [InlineData(48000, 1)]
    [InlineData(44100, 2)]
    [InlineData(8000, 1)]
    [InlineData(22050, 2)]
    [InlineData(16000, 2)]
    public void Process_OddSizedChunks_EqualsOneShot(int inputRate, int channels)
    {
        var random = new Random(7);
        var input = new float[inputRate * channels * 3 / 2];
        for (var i = 0; i < input.Length; i++)
        {
            input[i] = (float)((random.NextDouble() * 2) - 1);
        }

        var oneShot = ResampleOneShot(input, inputRate, channels);

        var resampler = new Resampler(inputRate, channels, ModelRate);
        var streamed = new List<float>();
        int[] sizes = [1, 7, 333, 4097, 5000, 2, 12345, 64];
        var frames = input.Length / channels;
        for (int offset = 0, k = 0; offset < frames; k++)
        {
            var take = Math.Min(sizes[k % sizes.Length], frames - offset);
            var buffer = new float[resampler.MaxOutputFor(take)];
            var written = resampler.Process(input.AsSpan(offset * channels, take * channels), buffer);
            streamed.AddRange(buffer.AsSpan(0, written).ToArray());
            offset += take;
        }

        var tail = new float[resampler.MaxFlushOutput];
        streamed.AddRange(tail.AsSpan(0, resampler.Flush(tail)).ToArray());

        Assert.Equal(oneShot.Length, streamed.Count);
        for (var i = 0; i < oneShot.Length; i++)
        {
            Assert.True(Math.Abs(oneShot[i] - streamed[i]) < 1e-6, $"sample {i}: {oneShot[i]} one-shot, {streamed[i]} streamed");
        }
    }

    [Theory]
    [InlineData(48000)]
    [InlineData(16000)]
    public void Process_Stereo_AveragesTheChannels(int inputRate)
    {
        var left = Sine(1000, 0.6, inputRate, inputRate / 2, channels: 1);
        var right = Sine(440, 0.2, inputRate, inputRate / 2, channels: 1);
        var stereo = new float[left.Length * 2];
        var mono = new float[left.Length];
        for (var i = 0; i < left.Length; i++)
        {
            stereo[2 * i] = left[i];
            stereo[(2 * i) + 1] = right[i];
            mono[i] = (left[i] + right[i]) / 2;
        }

        var fromStereo = ResampleOneShot(stereo, inputRate, 2);
        var fromMono = ResampleOneShot(mono, inputRate, 1);

        Assert.Equal(fromMono.Length, fromStereo.Length);
        for (var i = 0; i < fromMono.Length; i++)
        {
            Assert.True(Math.Abs(fromMono[i] - fromStereo[i]) < 1e-6, $"sample {i}");
        }

        var (amplitude, _, _) = FitSine(fromStereo.AsSpan(1000, 6000), 1000, ModelRate, firstIndex: 1000);
        Assert.InRange(amplitude, 0.29, 0.31);
    }

    [Fact]
    public void Process_SameRateMono_PassesSamplesThrough()
    {
        var input = Sine(523, 0.3, ModelRate, 5000, channels: 1);
        var resampler = new Resampler(ModelRate, 1, ModelRate);
        var output = new float[resampler.MaxOutputFor(input.Length)];

        var written = resampler.Process(input, output);

        Assert.True(resampler.IsPassThrough);
        Assert.Equal(input, output.AsSpan(0, written).ToArray());
        Assert.Equal(0, resampler.Flush(output));
    }

    [Fact]
    public void Process_SteadyState_AllocatesNothing()
    {
        var resampler = new Resampler(44100, 2, ModelRate);
        var input = Sine(1000, 0.5, 44100, 441, channels: 2);
        var output = new float[resampler.MaxOutputFor(441)];
        resampler.Process(input, output);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 200; i++)
        {
            resampler.Process(input, output);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    internal static float[] Sine(double frequency, double amplitude, int rate, int frames, int channels)
    {
        var samples = new float[frames * channels];
        for (var i = 0; i < frames; i++)
        {
            var value = (float)(amplitude * Math.Sin(2 * Math.PI * frequency * i / rate));
            for (var c = 0; c < channels; c++)
            {
                samples[(i * channels) + c] = value;
            }
        }

        return samples;
    }

    private static float[] ResampleOneShot(float[] interleaved, int inputRate, int channels)
    {
        var resampler = new Resampler(inputRate, channels, ModelRate);
        var output = new float[resampler.MaxOutputFor(interleaved.Length / channels) + resampler.MaxFlushOutput];
        var written = resampler.Process(interleaved, output);
        written += resampler.Flush(output.AsSpan(written));
        return output.AsSpan(0, written).ToArray();
    }

    private static double Rms(ReadOnlySpan<float> samples)
    {
        var sum = 0.0;
        foreach (var s in samples)
        {
            sum += (double)s * s;
        }

        return Math.Sqrt(sum / samples.Length);
    }

    /// <summary>Least-squares fit of a*sin(wt + phase) (whole periods); returns amplitude, phase and the RMS of what is left.</summary>
    private static (double Amplitude, double Phase, double Residual) FitSine(ReadOnlySpan<float> samples, double frequency, int rate, int firstIndex)
    {
        double s = 0, c = 0;
        for (var i = 0; i < samples.Length; i++)
        {
            var angle = 2 * Math.PI * frequency * (firstIndex + i) / rate;
            s += samples[i] * Math.Sin(angle);
            c += samples[i] * Math.Cos(angle);
        }

        s *= 2.0 / samples.Length;
        c *= 2.0 / samples.Length;
        var amplitude = Math.Sqrt((s * s) + (c * c));
        var phase = Math.Atan2(c, s);
        var residual = 0.0;
        for (var i = 0; i < samples.Length; i++)
        {
            var angle = 2 * Math.PI * frequency * (firstIndex + i) / rate;
            var e = samples[i] - (amplitude * Math.Sin(angle + phase));
            residual += e * e;
        }

        return (amplitude, phase, Math.Sqrt(residual / samples.Length));
    }
}
