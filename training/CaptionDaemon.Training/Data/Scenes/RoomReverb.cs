using System.Numerics;

namespace CaptionDaemon.Training.Data.Scenes;

/// <summary>
/// A synthetic room: an impulse response of exponentially decaying noise (amplitude falls 60 dB in RT60 seconds) after a
/// direct path, convolved with a segment by FFT and mixed wet/dry. Not a room simulation; enough for a model to hear
/// events in rooms of different sizes rather than only dry game sounds.
/// </summary>
internal static class RoomReverb
{
    public const double MinRt60 = 0.2;
    public const double MaxRt60 = 0.9;

    // The two transform buffers of this thread (up to 2^18 points, 4 MiB each): allocating them per event cost more in
    // page faults and collections than the transforms themselves, since every one lands on the large object heap.
    [ThreadStatic]
    private static Complex[]? t_signal;

    [ThreadStatic]
    private static Complex[]? t_response;

    /// <summary>
    /// Reverberates <paramref name="segment"/> in place (same length; the tail past its end is dropped, as the segment's
    /// own fade-out ends it). <paramref name="wet"/> 0..1 is the share of reverberant sound; levels are set afterwards.
    /// </summary>
    public static void Apply(float[] segment, int sampleRate, double rt60, double wet, Random random)
    {
        ArgumentNullException.ThrowIfNull(segment);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(rt60, 0);
        if (segment.Length == 0)
        {
            return;
        }

        var response = Impulse(sampleRate, rt60, random);
        var size = (int)BitOperations.RoundUpToPowerOf2((uint)(segment.Length + response.Length));
        var a = Buffer(ref t_signal, size);
        var b = Buffer(ref t_response, size);
        for (var i = 0; i < segment.Length; i++)
        {
            a[i] = segment[i];
        }

        for (var i = 0; i < response.Length; i++)
        {
            b[i] = response[i];
        }

        Transform(a, inverse: false);
        Transform(b, inverse: false);
        for (var i = 0; i < size; i++)
        {
            a[i] *= b[i];
        }

        Transform(a, inverse: true);

        // Match the reverberant part's energy to the dry one, so wet/dry is a mix ratio and not also a level change.
        double dryEnergy = 0, wetEnergy = 0;
        for (var i = 0; i < segment.Length; i++)
        {
            dryEnergy += (double)segment[i] * segment[i];
            wetEnergy += a[i].Real * a[i].Real;
        }

        var match = wetEnergy > 0 ? Math.Sqrt(dryEnergy / wetEnergy) : 0;
        for (var i = 0; i < segment.Length; i++)
        {
            segment[i] = (float)(((1 - wet) * segment[i]) + (wet * match * a[i].Real));
        }
    }

    /// <summary>This thread's buffer of at least <paramref name="size"/> points, its first <paramref name="size"/> zeroed.</summary>
    private static Span<Complex> Buffer(ref Complex[]? buffer, int size)
    {
        if (buffer is null || buffer.Length < size)
        {
            buffer = new Complex[size];
        }

        var span = buffer.AsSpan(0, size);
        span.Clear();
        return span;
    }

    /// <summary>Decaying white noise with a 2 ms pre-delay, normalised to unit energy.</summary>
    internal static double[] Impulse(int sampleRate, double rt60, Random random)
    {
        var length = Math.Max(1, (int)(rt60 * sampleRate));
        var delay = sampleRate / 500;
        var response = new double[delay + length];
        var decay = Math.Log(1000) / (rt60 * sampleRate); // -60 dB in amplitude after rt60
        double energy = 0;
        for (var i = 0; i < length; i++)
        {
            var value = ((random.NextDouble() * 2) - 1) * Math.Exp(-decay * i);
            response[delay + i] = value;
            energy += value * value;
        }

        var scale = 1 / Math.Sqrt(energy);
        for (var i = 0; i < response.Length; i++)
        {
            response[i] *= scale;
        }

        return response;
    }

    /// <summary>In-place iterative radix-2 FFT; the inverse is scaled by 1/n.</summary>
    private static void Transform(Span<Complex> data, bool inverse)
    {
        var n = data.Length;
        for (int i = 1, j = 0; i < n; i++)
        {
            var bit = n >> 1;
            for (; (j & bit) != 0; bit >>= 1)
            {
                j ^= bit;
            }

            j ^= bit;
            if (i < j)
            {
                (data[i], data[j]) = (data[j], data[i]);
            }
        }

        for (var length = 2; length <= n; length <<= 1)
        {
            var angle = 2 * Math.PI / length * (inverse ? 1 : -1);
            var step = new Complex(Math.Cos(angle), Math.Sin(angle));
            var half = length / 2;
            for (var start = 0; start < n; start += length)
            {
                var w = Complex.One;
                for (var k = 0; k < half; k++)
                {
                    var u = data[start + k];
                    var v = data[start + k + half] * w;
                    data[start + k] = u + v;
                    data[start + k + half] = u - v;
                    w *= step;
                }
            }
        }

        if (inverse)
        {
            for (var i = 0; i < n; i++)
            {
                data[i] /= n;
            }
        }
    }
}
