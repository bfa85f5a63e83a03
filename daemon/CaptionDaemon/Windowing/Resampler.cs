using System.Numerics;

namespace CaptionDaemon.Windowing;

/// <summary>
/// Streaming sample-rate converter from a source's rate and channel count to the model's mono rate: channels are
/// averaged, then a polyphase windowed-sinc filter (Kaiser window, about 80 dB stop band) converts by the reduced
/// ratio <c>up/down</c> of the two rates. The cut-off sits at 92% of the lower Nyquist frequency so that the stop
/// band begins just below it: content above the output's Nyquist is removed before it can alias (downsampling), and
/// images are removed when upsampling. At 16 kHz out the pass band is flat to about 6 kHz and -6 dB at 7.4 kHz.
/// </summary>
/// <remarks>
/// Output sample <c>n</c> lies exactly at input time <c>n / outputRate</c>: the filter is symmetric (zero phase) and
/// the converter waits for the samples it needs after that time, so it holds back about 32 input samples' worth of
/// the lower rate's cycles (a few milliseconds) until more input or <see cref="Flush"/> arrives. Equal rates pass
/// through (downmix only) without delay. State lives in buffers sized at construction: calls allocate nothing.
/// Not thread-safe: one instance per source, used by its reader.
/// </remarks>
internal sealed class Resampler
{
    /// <summary>Input frames handled per internal step; bounds the working buffer.</summary>
    public const int BlockFrames = 4096;

    private const int ZeroCrossings = 32;
    private const double KaiserBeta = 8.0;
    private const double CutoffFraction = 0.92;
    private const int MaxPhases = 1024;

    private readonly int _channels;
    private readonly int _up;
    private readonly int _down;
    private readonly int _phases;
    private readonly int _half;
    private readonly int _taps;
    private readonly float[] _coefficients;
    private readonly float[] _buffer;
    private long _bufferStart;
    private int _count;
    private long _nextOutput;
    private long _inputFrames;

    /// <summary>Creates a converter.</summary>
    /// <param name="inputRate">The source's sample rate (Hz).</param>
    /// <param name="channels">Interleaved channels of the input; averaged to mono.</param>
    /// <param name="outputRate">The model's sample rate (Hz).</param>
    public Resampler(int inputRate, int channels, int outputRate)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputRate, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outputRate, 1);
        InputRate = inputRate;
        OutputRate = outputRate;
        _channels = channels;
        var gcd = Gcd(inputRate, outputRate);
        _up = outputRate / gcd;
        _down = inputRate / gcd;
        if (IsPassThrough)
        {
            _coefficients = [];
            _buffer = [];
            return;
        }

        // Cut-off in cycles per input sample; the filter spans ZeroCrossings sinc lobes on each side of its centre.
        var cutoff = CutoffFraction * 0.5 * Math.Min(inputRate, outputRate) / inputRate;
        var halfLength = ZeroCrossings / (2 * cutoff);
        _half = (int)Math.Ceiling(halfLength);
        _taps = 2 * _half;

        // Very unusual ratios (coprime rates) would need thousands of phases; the nearest of 1024 fractional
        // positions is within 1/2048 of an input sample, far below what the window's captions can notice.
        _phases = Math.Min(_up, MaxPhases);
        _coefficients = new float[(_phases + 1) * _taps];
        var besselBeta = BesselI0(KaiserBeta);
        for (var row = 0; row <= _phases; row++)
        {
            var fraction = (double)row / _phases;
            var coefficients = _coefficients.AsSpan(row * _taps, _taps);
            var sum = 0.0;
            for (var k = 0; k < _taps; k++)
            {
                var tau = fraction + (_half - 1) - k;
                var value = Kernel(tau, cutoff, halfLength, besselBeta);
                coefficients[k] = (float)value;
                sum += value;
            }

            // Unity gain at DC for every phase, so that no phase-dependent ripple appears in the output.
            for (var k = 0; k < _taps; k++)
            {
                coefficients[k] = (float)(coefficients[k] / sum);
            }
        }

        _buffer = new float[_taps + BlockFrames];

        // The signal is zero before the stream starts: the first output needs _half - 1 samples of that history.
        _bufferStart = -(_half - 1);
        _count = _half - 1;
    }

    /// <summary>The source's sample rate.</summary>
    public int InputRate { get; }

    /// <summary>The model's sample rate.</summary>
    public int OutputRate { get; }

    /// <summary>True when the rates are equal: samples are only mixed down.</summary>
    public bool IsPassThrough => _up == _down;

    /// <summary>Output samples written so far.</summary>
    public long OutputSamples => _nextOutput;

    /// <summary>Input frames consumed so far.</summary>
    public long InputFrames => _inputFrames;

    /// <summary>The most output samples one <see cref="Process"/> call of <paramref name="frames"/> frames can write.</summary>
    public int MaxOutputFor(int frames) =>
        IsPassThrough ? frames : checked((int)((((long)frames * _up) + _down - 1) / _down) + 1);

    /// <summary>The most output samples <see cref="Flush"/> can write.</summary>
    public int MaxFlushOutput => IsPassThrough ? 0 : MaxOutputFor(_half);

    /// <summary>Converts interleaved input and writes the mono output samples that are complete.</summary>
    /// <param name="interleaved">Frames of <c>channels</c> samples each.</param>
    /// <param name="output">At least <see cref="MaxOutputFor"/>(frames) long.</param>
    /// <returns>Samples written to <paramref name="output"/>.</returns>
    public int Process(ReadOnlySpan<float> interleaved, Span<float> output)
    {
        if (interleaved.Length % _channels != 0)
        {
            throw new ArgumentException($"{interleaved.Length} samples is not a whole number of {_channels}-channel frames.", nameof(interleaved));
        }

        var frames = interleaved.Length / _channels;
        if (output.Length < MaxOutputFor(frames))
        {
            throw new ArgumentException($"The output must hold {MaxOutputFor(frames)} samples for {frames} frames.", nameof(output));
        }

        _inputFrames += frames;
        if (IsPassThrough)
        {
            Downmix(interleaved, output[..frames]);
            _nextOutput += frames;
            return frames;
        }

        var written = 0;
        while (!interleaved.IsEmpty)
        {
            var blockFrames = Math.Min(frames, BlockFrames);
            Downmix(interleaved[..(blockFrames * _channels)], _buffer.AsSpan(_count, blockFrames));
            _count += blockFrames;
            interleaved = interleaved[(blockFrames * _channels)..];
            frames -= blockFrames;
            written += Produce(output[written..], long.MaxValue);
        }

        return written;
    }

    /// <summary>
    /// Ends the stream: the samples held back for the filter's look-ahead are computed against silence, so that the
    /// output covers the whole input (<c>ceil(inputFrames * outputRate / inputRate)</c> samples in total).
    /// </summary>
    /// <param name="output">At least <see cref="MaxFlushOutput"/> long.</param>
    /// <returns>Samples written.</returns>
    public int Flush(Span<float> output)
    {
        if (IsPassThrough)
        {
            return 0;
        }

        var limit = ((_inputFrames * _up) + _down - 1) / _down;
        var written = 0;
        var zeros = _half;
        while (zeros > 0 && _nextOutput < limit)
        {
            var block = Math.Min(zeros, BlockFrames);
            _buffer.AsSpan(_count, block).Clear();
            _count += block;
            zeros -= block;
            written += Produce(output[written..], limit);
        }

        return written;
    }

    private static double Kernel(double tau, double cutoff, double halfLength, double besselBeta)
    {
        var ratio = tau / halfLength;
        if (Math.Abs(ratio) >= 1)
        {
            return 0;
        }

        var x = 2 * cutoff * tau;
        var sinc = Math.Abs(x) < 1e-12 ? 1.0 : Math.Sin(Math.PI * x) / (Math.PI * x);
        var window = BesselI0(KaiserBeta * Math.Sqrt(1 - (ratio * ratio))) / besselBeta;
        return 2 * cutoff * sinc * window;
    }

    /// <summary>Modified Bessel function of the first kind, order 0 (power series; converges fast for the betas used).</summary>
    private static double BesselI0(double x)
    {
        var sum = 1.0;
        var term = 1.0;
        var quarter = x * x / 4;
        for (var k = 1; k < 64 && term > sum * 1e-17; k++)
        {
            term *= quarter / ((double)k * k);
            sum += term;
        }

        return sum;
    }

    private static int Gcd(int a, int b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var i = 0;
        var sum = 0f;
        if (Vector.IsHardwareAccelerated && a.Length >= Vector<float>.Count)
        {
            var acc = Vector<float>.Zero;
            for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                acc += new Vector<float>(a[i..]) * new Vector<float>(b[i..]);
            }

            sum = Vector.Sum(acc);
        }

        for (; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    private void Downmix(ReadOnlySpan<float> interleaved, Span<float> mono)
    {
        if (_channels == 1)
        {
            interleaved.CopyTo(mono);
            return;
        }

        var scale = 1f / _channels;
        for (var f = 0; f < mono.Length; f++)
        {
            var frame = interleaved.Slice(f * _channels, _channels);
            var sum = 0f;
            foreach (var sample in frame)
            {
                sum += sample;
            }

            mono[f] = sum * scale;
        }
    }

    /// <summary>Writes every output (below <paramref name="limit"/>) whose filter support is in the buffer, then drops consumed input.</summary>
    private int Produce(Span<float> output, long limit)
    {
        var written = 0;
        var available = _bufferStart + _count;
        while (_nextOutput < limit)
        {
            var position = _nextOutput * _down;
            var index = position / _up;
            var remainder = position - (index * _up);
            var first = index - (_half - 1);
            if (first + _taps > available)
            {
                break;
            }

            var row = _phases == _up ? (int)remainder : (int)(((remainder * _phases) + (_up / 2)) / _up);
            output[written++] = Dot(_buffer.AsSpan((int)(first - _bufferStart), _taps), _coefficients.AsSpan(row * _taps, _taps));
            _nextOutput++;
        }

        var nextFirst = (_nextOutput * _down / _up) - (_half - 1);
        var discard = (int)Math.Clamp(nextFirst - _bufferStart, 0, _count);
        if (discard > 0)
        {
            _buffer.AsSpan(discard, _count - discard).CopyTo(_buffer);
            _count -= discard;
            _bufferStart += discard;
        }

        return written;
    }
}
