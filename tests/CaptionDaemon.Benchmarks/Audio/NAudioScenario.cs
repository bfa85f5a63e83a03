using System.Buffers.Binary;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using CaptionDaemon.Contracts;
using CaptionDaemon.Plugins.Audio.Wav;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Windowing;
using Microsoft.Extensions.Logging.Abstractions;
using NAudio.Dsp;
using NAudio.Wave;

namespace CaptionDaemon.Benchmarks.Audio;

/// <summary>
/// Scenario <c>naudio</c>: NAudio.Core against the project's own WAV and PCM code on what the project does with them:
/// the <c>wav</c> source's reading (RF64, WAVE_FORMAT_EXTENSIBLE, truncated, streamed and growing files, NaN), the
/// trainer's 16-bit WAV writing (clipping and rounding), and resampling on the daemon's push path (quality and
/// allocations). Prints the figures that docs/naudio.md records.
/// </summary>
internal static class NAudioScenario
{
    private const int ModelRate = 16000;

    public static Command CreateCommand()
    {
        var secondsOption = new Option<int>("--seconds") { Description = "Seconds of audio for the throughput and allocation figures.", DefaultValueFactory = _ => 60 };
        var command = new Command("naudio", "NAudio.Core against the project's WAV reading, WAV writing and push-path resampling: correctness, quality, speed, allocations.");
        command.Options.Add(secondsOption);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var seconds = Math.Max(1, parse.GetValue(secondsOption));
            var folder = Directory.CreateTempSubdirectory("captiond-naudio-");
            try
            {
                await ReadingAsync(folder.FullName, seconds, cancellationToken).ConfigureAwait(false);
                Writing();
                Resampling(seconds);
            }
            finally
            {
                folder.Delete(recursive: true);
            }

            return 0;
        });
        return command;
    }

    private static async Task ReadingAsync(string folder, int seconds, CancellationToken cancellationToken)
    {
        Console.WriteLine("== reading WAV: the wav source (WavHeader + SampleDecoder) vs NAudio.Core WaveFileReader + ToSampleProvider");
        Console.WriteLine($"{"case",-34} {"expected",9} | {"ours frames",11} {"max err",9} {"non-finite",10} | {"naudio frames",13} {"max err",9} {"non-finite",10}");
        var random = new Random(1);
        var mono16 = Enumerable.Range(0, 2 * 16000).Select(_ => (short)random.Next(short.MinValue, short.MaxValue + 1)).ToArray();
        var expected16 = mono16.Select(s => s / 32768f).ToArray();
        var pcm16 = WavBuilder.Pcm16(mono16);

        await CaseAsync(folder, "pcm16 mono", WavBuilder.Build(WavBuilder.Pcm, 1, 16000, 16, pcm16), expected16, 1, cancellationToken);
        await CaseAsync(folder, "RF64 pcm16 mono", WavBuilder.Build(WavBuilder.Pcm, 1, 16000, 16, pcm16, rf64: true), expected16, 1, cancellationToken);

        var stereo24 = Enumerable.Range(0, 2 * 48000 * 2).Select(_ => random.Next(-(1 << 23), 1 << 23)).ToArray();
        await CaseAsync(
            folder, "EXTENSIBLE pcm24 stereo", WavBuilder.Build(WavBuilder.Pcm, 2, 48000, 24, WavBuilder.Pcm24(stereo24), extensible: true),
            stereo24.Select(s => s / 8388608f).ToArray(), 2, cancellationToken);

        // A float file from a bad sender: NaN, infinities and values past full scale among ordinary samples.
        var floats = Enumerable.Range(0, 2 * 48000 * 2).Select(_ => (float)((random.NextDouble() * 2) - 1)).ToArray();
        floats[10] = float.NaN;
        floats[11] = float.PositiveInfinity;
        floats[12] = float.NegativeInfinity;
        floats[13] = 1.5f;
        floats[14] = -3f;
        var sane = floats.Select(f => float.IsFinite(f) ? Math.Clamp(f, -1f, 1f) : 0f).ToArray();
        await CaseAsync(folder, "EXTENSIBLE float32 with NaN/Inf/1.5", WavBuilder.Build(WavBuilder.IeeeFloat, 2, 48000, 32, WavBuilder.Float32(floats), extensible: true), sane, 2, cancellationToken);

        var truncated = WavBuilder.Build(WavBuilder.Pcm, 1, 16000, 16, pcm16, declaredData: (uint)pcm16.Length * 2);
        await CaseAsync(folder, "truncated (declares twice the data)", truncated, expected16, 1, cancellationToken);
        await CaseAsync(folder, "streamed (data size 0xFFFFFFFF)", WavBuilder.Build(WavBuilder.Pcm, 1, 16000, 16, pcm16, declaredData: uint.MaxValue), expected16, 1, cancellationToken);
        await CaseAsync(folder, "streamed (data size 0)", WavBuilder.Build(WavBuilder.Pcm, 1, 16000, 16, pcm16, declaredData: 0), expected16, 1, cancellationToken);

        // Growing: both readers open the file while it holds the first second; the second second is appended before they read.
        var firstHalf = WavBuilder.Build(WavBuilder.Pcm, 1, 16000, 16, pcm16.AsSpan(0, pcm16.Length / 2), declaredData: uint.MaxValue);
        var growing = Path.Combine(folder, "growing.wav");
        await File.WriteAllBytesAsync(growing, firstHalf, cancellationToken);
        var ours = OpenOurs(growing);
        var naudio = OpenNAudio(growing);
        await using (var append = new FileStream(growing, FileMode.Append, FileAccess.Write, FileShare.ReadWrite))
        {
            await append.WriteAsync(pcm16.AsMemory(pcm16.Length / 2), cancellationToken);
        }

        Print("growing (streamed, appended after open)", expected16.Length, Compare(await ReadOursAsync(ours, cancellationToken), expected16), Compare(ReadNAudio(naudio), expected16));

        // Throughput and allocations on a long 48 kHz stereo 16-bit file, as a capture would be.
        var longSamples = new short[seconds * 48000 * 2];
        for (var i = 0; i < longSamples.Length; i++)
        {
            longSamples[i] = (short)random.Next(short.MinValue, short.MaxValue + 1);
        }

        var longPath = Path.Combine(folder, "long.wav");
        await File.WriteAllBytesAsync(longPath, WavBuilder.Build(WavBuilder.Pcm, 2, 48000, 16, WavBuilder.Pcm16(longSamples)), cancellationToken);
        var megabytes = longSamples.Length * 2 / 1e6;
        var (oursMs, oursBytes) = await MeasureAsync(async () => await ReadOursAsync(OpenOurs(longPath), cancellationToken, keep: false));
        var (naudioMs, naudioBytes) = await MeasureAsync(() => Task.FromResult(ReadNAudio(OpenNAudio(longPath), keep: false)));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"throughput, {seconds} s of 48 kHz stereo pcm16: ours {megabytes / (oursMs / 1000):F0} MB/s, {oursBytes / (double)seconds:F0} B allocated per audio second; naudio {megabytes / (naudioMs / 1000):F0} MB/s, {naudioBytes / (double)seconds:F0} B per audio second"));
    }

    private static async Task CaseAsync(string folder, string name, byte[] file, float[] expected, int channels, CancellationToken cancellationToken)
    {
        var path = Path.Combine(folder, $"{name.Split(' ')[0]}-{Guid.NewGuid():N}.wav");
        await File.WriteAllBytesAsync(path, file, cancellationToken);
        Outcome ours;
        try
        {
            ours = Compare(await ReadOursAsync(OpenOurs(path), cancellationToken), expected);
        }
        catch (InvalidDataException e)
        {
            ours = Outcome.Refused(e.Message);
        }

        Outcome naudio;
        try
        {
            naudio = Compare(ReadNAudio(OpenNAudio(path)), expected);
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or ArgumentException or EndOfStreamException or IOException or InvalidOperationException)
        {
            naudio = Outcome.Refused(e.Message);
        }

        Print(name, expected.Length / channels, ours with { Frames = ours.Frames / channels }, naudio with { Frames = naudio.Frames / channels });
    }

    private static WavFileSource OpenOurs(string path)
    {
        using var stream = WavFileSource.Open(path);
        var header = WavHeader.Read(stream, path);
        return new WavFileSource("naudio-bench", path, header, loop: false, realtime: false, chunkMilliseconds: 100, NullLogger.Instance, new IgnoredStatus());
    }

    private static async Task<float[]> ReadOursAsync(WavFileSource source, CancellationToken cancellationToken, bool keep = true)
    {
        var samples = new List<float>();
        await using (source.ConfigureAwait(false))
        {
            await foreach (var chunk in source.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                if (keep)
                {
                    samples.AddRange(chunk.Samples.Span);
                }
            }
        }

        return [.. samples];
    }

    private static WaveFileReader OpenNAudio(string path) => new(path);

    private static float[] ReadNAudio(WaveFileReader reader, bool keep = true)
    {
        using (reader)
        {
            var provider = reader.ToSampleProvider();
            var buffer = new float[4800 * reader.WaveFormat.Channels];
            var samples = new List<float>();
            int read;
            while ((read = provider.Read(buffer)) > 0)
            {
                if (keep)
                {
                    samples.AddRange(buffer.AsSpan(0, read));
                }
            }

            return [.. samples];
        }
    }

    private static Outcome Compare(float[] actual, float[] expected)
    {
        var maxError = 0.0;
        var nonFinite = 0;
        for (var i = 0; i < actual.Length; i++)
        {
            if (!float.IsFinite(actual[i]))
            {
                nonFinite++;
                continue;
            }

            if (i < expected.Length)
            {
                maxError = Math.Max(maxError, Math.Abs(actual[i] - expected[i]));
            }
        }

        return new Outcome(actual.Length, maxError, nonFinite, null);
    }

    private static void Print(string name, int expectedFrames, Outcome ours, Outcome naudio) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-34} {expectedFrames,9} | {Describe(ours, 11)} | {Describe(naudio, 13)}"));

    private static string Describe(Outcome outcome, int width) => outcome.Error is { } error
        ? ("refused: " + error).PadRight(width + 21)[..(width + 21)]
        : string.Create(CultureInfo.InvariantCulture, $"{outcome.Frames.ToString(CultureInfo.InvariantCulture).PadLeft(width)} {outcome.MaxError,9:G3} {outcome.NonFinite,10}");

    private static void Writing()
    {
        Console.WriteLine();
        Console.WriteLine("== writing 16-bit WAV: the trainer's WavFile.Write vs NAudio.Core WaveFileWriter.WriteSamples (1,000,000 samples)");
        var random = new Random(2);
        var samples = new float[1_000_000];
        for (var i = 0; i < samples.Length; i++)
        {
            samples[i] = (float)((random.NextDouble() * 2.6) - 1.3);
        }

        float[] special = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 1f, -1f, 0.5f / 32767, -0.5f / 32767, 1.0001f, -1.0001f];
        special.CopyTo(samples, 0);

        var (ourMs, ourBytes, ours) = Write(stream => WavFile.Write(stream, samples, ModelRate));
        var (naudioMs, naudioBytes, theirs) = Write(stream =>
        {
            using var writer = new WaveFileWriter(new NonClosingStream(stream), new WaveFormat(ModelRate, 16, 1));
            writer.WriteSamples(samples, 0, samples.Length);
        });
        Console.WriteLine($"{"writer",-8} {"max err in range (LSB)",22} {"over-range kept sign",20} {"over-range clipped",18} {"NaN->0, Inf->full",17} {"ms",6} {"bytes alloc",11}");
        foreach (var (name, pcm, ms, bytes) in new[] { ("ours", ours, ourMs, ourBytes), ("naudio", theirs, naudioMs, naudioBytes) })
        {
            var maxError = 0.0;
            int overRange = 0, keptSign = 0, clipped = 0, nonFiniteZero = 0, nonFinite = 0;
            for (var i = 0; i < samples.Length; i++)
            {
                var x = samples[i];
                var written = pcm[i];
                if (!float.IsFinite(x))
                {
                    nonFinite++;
                    nonFiniteZero += float.IsNaN(x) ? (written == 0 ? 1 : 0) : (Math.Sign(written) == Math.Sign(x) && Math.Abs((int)written) >= 32767 ? 1 : 0);
                    continue;
                }

                if (Math.Abs(x) > 1)
                {
                    overRange++;
                    keptSign += Math.Sign(written) == Math.Sign(x) ? 1 : 0;
                    clipped += Math.Abs((int)written) >= 32767 ? 1 : 0;
                    continue;
                }

                maxError = Math.Max(maxError, Math.Abs(written - (x * 32767.0)));
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name,-8} {maxError,22:F3} {$"{keptSign}/{overRange}",20} {$"{clipped}/{overRange}",18} {$"{nonFiniteZero}/{nonFinite}",17} {ms,6:F1} {bytes,11}"));
        }

    }

    private static (double Ms, long Bytes, short[] Pcm) Write(Action<Stream> write)
    {
        using var warm = new MemoryStream();
        write(warm);
        using var stream = new MemoryStream(2_000_100);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        write(stream);
        var ms = clock.Elapsed.TotalMilliseconds;
        var bytes = GC.GetAllocatedBytesForCurrentThread() - before;
        var data = stream.ToArray().AsSpan(44);
        var pcm = new short[data.Length / 2];
        for (var i = 0; i < pcm.Length; i++)
        {
            pcm[i] = BinaryPrimitives.ReadInt16LittleEndian(data[(i * 2)..]);
        }

        return (ms, bytes, pcm);
    }

    private static void Resampling(int seconds)
    {
        Console.WriteLine();
        Console.WriteLine("== push-path resampling to 16 kHz mono in 20 ms chunks: the daemon's Resampler vs NAudio.Core WdlResampler in feed mode,");
        Console.WriteLine("   as WdlResamplingSampleProvider sets it up (naudio: interpolation + 2 IIR passes) and in its windowed-sinc mode (naudio-sinc: 64 taps, 32 interpolated)");
        Console.WriteLine($"{"rate",6} {"resampler",-10} {"1 kHz SNR dB",12} {"6 kHz gain dB",13} {"7.5 kHz gain dB",15} {"10 kHz alias dB",15} {"12 kHz alias dB",15} {"x realtime",10} {"B alloc/s",9}");
        foreach (var rate in new[] { 44100, 48000 })
        {
            foreach (var kind in new[] { "ours", "naudio", "naudio-sinc" })
            {
                Func<IPushResampler> create = kind switch
                {
                    "ours" => () => new OursResampler(rate),
                    "naudio" => () => new WdlPushResampler(rate, sinc: false),
                    _ => () => new WdlPushResampler(rate, sinc: true),
                };
                var snr = SineSnr(create(), rate, 1000);
                var gain6 = Gain(create(), rate, 6000);
                var gain75 = Gain(create(), rate, 7500);
                var alias10 = Gain(create(), rate, 10000);
                var alias12 = Gain(create(), rate, 12000);
                var (realtime, allocated) = Cost(create(), rate, seconds);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{rate,6} {kind,-10} {snr,12:F1} {gain6,13:F2} {gain75,15:F2} {alias10,15:F1} {alias12,15:F1} {realtime,10:F0} {allocated / seconds,9:F0}"));
            }
        }

        Console.WriteLine("(gain: output amplitude of a 0.5 sine relative to its input, at its own frequency below 8 kHz and as its alias above; SNR: residual after a least-squares sine fit.)");
    }

    /// <summary>Resamples 3 s of a 0.5 sine of <paramref name="hertz"/> and returns 16 kHz output from 0.5 s to 2.5 s.</summary>
    private static float[] Tone(IPushResampler resampler, int rate, double hertz)
    {
        var input = new float[3 * rate];
        for (var i = 0; i < input.Length; i++)
        {
            input[i] = (float)(0.5 * Math.Sin(2 * Math.PI * hertz * i / rate));
        }

        var output = Push(resampler, input, rate);
        return output[(ModelRate / 2)..(ModelRate * 5 / 2)];
    }

    private static double SineSnr(IPushResampler resampler, int rate, double hertz)
    {
        var y = Tone(resampler, rate, hertz);
        var (fit, residual) = Fit(y, hertz);
        return 10 * Math.Log10(fit / residual);
    }

    private static double Gain(IPushResampler resampler, int rate, double hertz)
    {
        var y = Tone(resampler, rate, hertz);
        // Above the output's Nyquist a tone can only appear as its alias, at 16 kHz - f.
        var seen = hertz < ModelRate / 2 ? hertz : ModelRate - hertz;
        var (fit, _) = Fit(y, seen);
        return 10 * Math.Log10(fit / (0.5 * 0.5 / 2));
    }

    /// <summary>Power of the least-squares sine at <paramref name="hertz"/> in <paramref name="y"/>, and of what is left.</summary>
    private static (double Fit, double Residual) Fit(float[] y, double hertz)
    {
        double ss = 0, cc = 0, sc = 0, ys = 0, yc = 0;
        for (var n = 0; n < y.Length; n++)
        {
            var s = Math.Sin(2 * Math.PI * hertz * n / ModelRate);
            var c = Math.Cos(2 * Math.PI * hertz * n / ModelRate);
            ss += s * s;
            cc += c * c;
            sc += s * c;
            ys += y[n] * s;
            yc += y[n] * c;
        }

        var det = (ss * cc) - (sc * sc);
        var a = ((ys * cc) - (yc * sc)) / det;
        var b = ((yc * ss) - (ys * sc)) / det;
        double fitPower = 0, residualPower = 0;
        for (var n = 0; n < y.Length; n++)
        {
            var model = (a * Math.Sin(2 * Math.PI * hertz * n / ModelRate)) + (b * Math.Cos(2 * Math.PI * hertz * n / ModelRate));
            fitPower += model * model;
            residualPower += (y[n] - model) * (y[n] - model);
        }

        return (fitPower / y.Length, Math.Max(residualPower / y.Length, 1e-30));
    }

    private static float[] Push(IPushResampler resampler, float[] input, int rate)
    {
        var chunk = rate / 50;
        var output = new List<float>();
        var buffer = new float[resampler.MaxOutputFor(chunk)];
        for (var start = 0; start + chunk <= input.Length; start += chunk)
        {
            var written = resampler.Process(input.AsSpan(start, chunk), buffer);
            output.AddRange(buffer.AsSpan(0, written));
        }

        return [.. output];
    }

    private static (double Realtime, long Allocated) Cost(IPushResampler resampler, int rate, int seconds)
    {
        var random = new Random(3);
        var chunk = new float[rate / 50];
        var output = new float[resampler.MaxOutputFor(chunk.Length)];
        for (var i = 0; i < chunk.Length; i++)
        {
            chunk[i] = (float)((random.NextDouble() * 2) - 1);
        }

        for (var i = 0; i < 50; i++)
        {
            resampler.Process(chunk, output);
        }

        var chunks = seconds * 50;
        var before = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < chunks; i++)
        {
            resampler.Process(chunk, output);
        }

        var elapsed = clock.Elapsed.TotalSeconds;
        return (seconds / elapsed, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static async Task<(double Ms, long Bytes)> MeasureAsync(Func<Task> action)
    {
        await action().ConfigureAwait(false);
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        const int Runs = 3;
        for (var i = 0; i < Runs; i++)
        {
            await action().ConfigureAwait(false);
        }

        return (clock.Elapsed.TotalMilliseconds / Runs, (GC.GetTotalAllocatedBytes(precise: true) - before) / Runs);
    }

    private readonly record struct Outcome(int Frames, double MaxError, int NonFinite, string? Error)
    {
        public static Outcome Refused(string error) => new(0, 0, 0, error);
    }

    private sealed class IgnoredStatus : ISourceStatusReporter
    {
        public void Report(SourceState state, string? detail = null)
        {
        }
    }

    /// <summary>WaveFileWriter closes its stream when disposed; the figures read the bytes afterwards.</summary>
    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => inner.CanSeek;

        public override bool CanWrite => true;

        public override long Length => inner.Length;

        public override long Position { get => inner.Position; set => inner.Position = value; }

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

        public override void SetLength(long value) => inner.SetLength(value);

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    }

    /// <summary>A mono push resampler to 16 kHz: the daemon's, or NAudio's WDL one.</summary>
    private interface IPushResampler
    {
        int MaxOutputFor(int frames);

        int Process(ReadOnlySpan<float> input, Span<float> output);
    }

    private sealed class OursResampler(int rate) : IPushResampler
    {
        private readonly Resampler _resampler = new(rate, 1, ModelRate);

        public int MaxOutputFor(int frames) => _resampler.MaxOutputFor(frames);

        public int Process(ReadOnlySpan<float> input, Span<float> output) => _resampler.Process(input, output);
    }

    private sealed class WdlPushResampler : IPushResampler
    {
        private readonly WdlResampler _resampler = new();

        public WdlPushResampler(int rate, bool sinc)
        {
            // The settings of NAudio's WdlResamplingSampleProvider (or WDL's sinc filter), fed by input (push) instead of asked for output.
            if (sinc)
            {
                _resampler.SetMode(true, 0, true, 64, 32);
            }
            else
            {
                _resampler.SetMode(true, 2, false);
            }

            _resampler.SetFilterParms();
            _resampler.SetFeedMode(true);
            _resampler.SetRates(rate, ModelRate);
        }

        public int MaxOutputFor(int frames) => (frames * ModelRate / 44100) + 64;

        public int Process(ReadOnlySpan<float> input, Span<float> output)
        {
            var wanted = _resampler.ResamplePrepare(input.Length, 1, out var inBuffer);
            input[..wanted].CopyTo(inBuffer);
            return _resampler.ResampleOut(output, wanted, output.Length, 1);
        }
    }
}
