using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace CaptionDaemon.Training.Data;

/// <summary>
/// Decodes any audio file ffmpeg can read into mono float32 samples at a chosen rate. ffmpeg resamples and writes
/// float32 WAV to its standard output, which is read straight into the sample array (no temporary files); the channels
/// are then averaged in place. The average is done here rather than by ffmpeg's <c>-ac 1</c> because ffmpeg's float
/// downmix depends on the channel layout (a stereo file without a layout came out at 0.707 (L+R), which can exceed 1),
/// while the captioning data sets (and librosa, which the Clotho and AudioCaps baselines use) take the plain mean.
/// </summary>
internal static class AudioDecoder
{
    /// <summary>The sample rate of the whole captioning core.</summary>
    public const int DefaultSampleRate = 16000;

    /// <summary>
    /// ffmpeg's options for reading <paramref name="path"/>, put before its <c>-i</c>: none, except for a headerless
    /// <c>.au</c> (no ".snd" magic), the raw 8 kHz mono µ-law of the old Sun /dev/audio that some packages still ship
    /// (saytime's spoken numbers), which ffmpeg cannot probe.
    /// </summary>
    public static string[] InputOptions(string path)
    {
        if (!string.Equals(Path.GetExtension(path), ".au", StringComparison.OrdinalIgnoreCase) || !File.Exists(path))
        {
            return [];
        }

        Span<byte> magic = stackalloc byte[4];
        using (var stream = File.OpenRead(path))
        {
            if (stream.Length >= 4 && stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4 && magic.SequenceEqual(".snd"u8))
            {
                return [];
            }
        }

        return ["-f", "mulaw", "-ar", "8000", "-ac", "1"];
    }

    /// <summary>
    /// Decodes many files with one ffmpeg process per batch: a catalog of tens of thousands of short recordings is
    /// bound by starting ffmpeg, not by decoding. Each file comes out exactly as <see cref="Decode"/> gives it (same
    /// ffmpeg options, same downmix); when ffmpeg reports any problem with a batch, its files are decoded one by one, so
    /// a corrupt file fails alone with its own message. Returns, per path, the samples or the error.
    /// </summary>
    public static (float[]? Samples, AudioDecodeException? Error)[] DecodeMany(
        IReadOnlyList<string> paths, int sampleRate, string scratchDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var results = new (float[]?, AudioDecodeException?)[paths.Count];
        var scratch = Path.Combine(scratchDirectory, "decode-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        try
        {
            var rate = sampleRate.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var arguments = new List<string> { "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error" };
            foreach (var path in paths)
            {
                arguments.AddRange([.. InputOptions(path), "-i", "file:" + Path.GetFullPath(path)]);
            }

            for (var i = 0; i < paths.Count; i++)
            {
                arguments.AddRange([
                    "-map", $"{i}:a:0", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact",
                    "-ar", rate, "-f", "wav", "-c:a", "pcm_f32le", Path.Combine(scratch, $"{i}.wav"),
                ]);
            }

            var ok = paths.Count > 1 && paths.All(File.Exists);
            if (ok)
            {
                using var process = ExternalTool.Start("ffmpeg", arguments);
                using var registration = cancellationToken.Register(() => ExternalTool.Kill(process));
                var stderr = process.StandardError.ReadToEnd();
                process.WaitForExit();
                cancellationToken.ThrowIfCancellationRequested();
                ok = process.ExitCode == 0 && string.IsNullOrWhiteSpace(stderr);
            }

            for (var i = 0; i < paths.Count && ok; i++)
            {
                using var stream = File.OpenRead(Path.Combine(scratch, $"{i}.wav"));
                var channels = ReadWavHeader(stream, out var problem);
                if (channels <= 0 || problem is not null)
                {
                    ok = false;
                    break;
                }

                var (samples, count) = ReadSamples(stream, sampleRate * channels);
                count = DownmixInPlace(samples, count, channels);
                if (count == 0)
                {
                    ok = false;
                    break;
                }

                Array.Resize(ref samples, count);
                results[i] = (samples, null);
            }

            if (!ok)
            {
                for (var i = 0; i < paths.Count; i++)
                {
                    try
                    {
                        results[i] = (Decode(paths[i], sampleRate, cancellationToken), null);
                    }
                    catch (AudioDecodeException ex)
                    {
                        results[i] = (null, ex);
                    }
                }
            }

            return results;
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>Decodes the first audio stream of <paramref name="path"/> to mono float32 in [-1, 1] at <paramref name="sampleRate"/>.</summary>
    /// <exception cref="AudioDecodeException">The file is missing, unreadable, corrupt or has no audio; the message names the file and quotes ffmpeg.</exception>
    public static float[] Decode(string path, int sampleRate = DefaultSampleRate, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleRate, 1000);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sampleRate, 384000);
        cancellationToken.ThrowIfCancellationRequested();

        var fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new AudioDecodeException(fullPath, "the file does not exist");
        }

        // The data sets are mono 16-bit WAV at the model rate: read those directly, since starting ffmpeg costs far more
        // than reading a 10 s file (0.3-0.5 s per clip on a loaded 2-core machine against milliseconds).
        if (string.Equals(Path.GetExtension(fullPath), ".wav", StringComparison.OrdinalIgnoreCase)
            && WavFile.TryReadMono16(fullPath, sampleRate, cancellationToken) is { } direct)
        {
            return direct;
        }

        string[] arguments =
        [
            "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error",
            .. InputOptions(fullPath),
            // "file:" keeps ffmpeg from reading a colon in the name as a protocol prefix.
            "-i", "file:" + fullPath,
            "-map", "0:a:0", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact",
            "-ar", sampleRate.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // WAV rather than raw f32le only for its header, which carries the channel count.
            "-f", "wav", "-c:a", "pcm_f32le", "pipe:1",
        ];

        System.Diagnostics.Process process;
        try
        {
            process = ExternalTool.Start("ffmpeg", arguments);
        }
        catch (MissingToolException ex)
        {
            throw new AudioDecodeException(fullPath, ex.Message, ex);
        }

        using (process)
        {
            using var registration = cancellationToken.Register(() => ExternalTool.Kill(process));
            // stderr is drained concurrently so that a chatty ffmpeg never blocks on a full pipe while we read stdout.
            var stderrTask = process.StandardError.ReadToEndAsync(CancellationToken.None);
            float[] samples = [];
            var count = 0;
            string? formatProblem = null;
            try
            {
                var stdout = process.StandardOutput.BaseStream;
                var channels = ReadWavHeader(stdout, out formatProblem);
                if (channels > 0)
                {
                    (samples, count) = ReadSamples(stdout, sampleRate * channels);
                    count = DownmixInPlace(samples, count, channels);
                }
                else
                {
                    // Unexpected output is not read, so ffmpeg must not be left blocked on a full pipe.
                    ExternalTool.Kill(process);
                }
            }
            catch (EndOfStreamException)
            {
                // ffmpeg failed before writing a whole header; its exit code and message are reported below.
            }
            catch (IOException ex) when (!cancellationToken.IsCancellationRequested)
            {
                ExternalTool.Kill(process);
                throw new AudioDecodeException(fullPath, "reading ffmpeg's output failed: " + ex.Message, ex);
            }

            process.WaitForExit();
            var stderr = stderrTask.GetAwaiter().GetResult();
            cancellationToken.ThrowIfCancellationRequested();

            if (process.ExitCode != 0)
            {
                throw new AudioDecodeException(fullPath, $"ffmpeg exited with code {process.ExitCode}: {ExternalTool.Tail(stderr)}");
            }

            // With -loglevel error anything on stderr is a decoding error (e.g. a truncated FLAC frame), even when
            // ffmpeg still exits with 0; a partly decoded recording must not pass silently into a data set.
            if (!string.IsNullOrWhiteSpace(stderr))
            {
                throw new AudioDecodeException(fullPath, "ffmpeg reported decoding errors: " + ExternalTool.Tail(stderr));
            }

            if (formatProblem is not null)
            {
                throw new AudioDecodeException(fullPath, formatProblem);
            }

            if (count == 0)
            {
                throw new AudioDecodeException(fullPath, "ffmpeg decoded no audio samples");
            }

            if (count != samples.Length)
            {
                Array.Resize(ref samples, count);
            }

            return samples;
        }
    }

    /// <summary>
    /// Reads the RIFF header ffmpeg writes to a pipe (sizes unknown, 0xFFFFFFFF) up to the start of the data chunk and
    /// returns the channel count, or 0 with <paramref name="problem"/> set when it is not the float32 WAV asked for.
    /// </summary>
    private static int ReadWavHeader(Stream stream, out string? problem)
    {
        Span<byte> head = stackalloc byte[12];
        stream.ReadExactly(head);
        if (!head[..4].SequenceEqual("RIFF"u8) || !head[8..12].SequenceEqual("WAVE"u8))
        {
            problem = "ffmpeg did not write the expected WAV header";
            return 0;
        }

        var channels = 0;
        Span<byte> chunk = stackalloc byte[8];
        while (true)
        {
            stream.ReadExactly(chunk);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(chunk[4..]);
            if (chunk[..4].SequenceEqual("data"u8))
            {
                break;
            }

            if (size > 1 << 20)
            {
                problem = "ffmpeg's WAV header has an implausible chunk size";
                return 0;
            }

            var body = new byte[size + (size & 1)];
            stream.ReadExactly(body);
            if (chunk[..4].SequenceEqual("fmt "u8) && size >= 16)
            {
                channels = BinaryPrimitives.ReadUInt16LittleEndian(body.AsSpan(2));
                var bits = BinaryPrimitives.ReadUInt16LittleEndian(body.AsSpan(14));
                if (bits != 32 || channels == 0)
                {
                    problem = $"ffmpeg wrote {bits}-bit audio with {channels} channels instead of 32-bit float";
                    return 0;
                }
            }
        }

        problem = channels == 0 ? "ffmpeg's WAV header has no format chunk" : null;
        return channels;
    }

    /// <summary>Averages interleaved channels into the first frames of the same array; returns the frame count.</summary>
    private static int DownmixInPlace(float[] samples, int count, int channels)
    {
        if (channels == 1)
        {
            return count;
        }

        var frames = count / channels;
        var scale = 1f / channels;
        for (var frame = 0; frame < frames; frame++)
        {
            var sum = 0f;
            var first = frame * channels;
            for (var c = 0; c < channels; c++)
            {
                sum += samples[first + c];
            }

            samples[frame] = sum * scale;
        }

        return frames;
    }

    /// <summary>Reads f32le samples into a float array that grows by doubling; returns the array and the sample count.</summary>
    private static (float[] Samples, int Count) ReadSamples(Stream stdout, int samplesPerSecond)
    {
        // Four seconds first: most recordings in the data sets are shorter, and doubling keeps long ones cheap.
        var samples = new float[samplesPerSecond * 4];
        long byteCount = 0;
        while (true)
        {
            var bytes = MemoryMarshal.AsBytes(samples.AsSpan());
            if (byteCount == bytes.Length)
            {
                // A span of bytes is limited to int.MaxValue, i.e. about 9 hours at 16 kHz.
                if (samples.Length > int.MaxValue / sizeof(float) / 2)
                {
                    throw new IOException("the decoded audio is too long to hold in memory as one array");
                }

                Array.Resize(ref samples, samples.Length * 2);
                bytes = MemoryMarshal.AsBytes(samples.AsSpan());
            }

            var read = stdout.Read(bytes[(int)byteCount..]);
            if (read == 0)
            {
                break;
            }

            byteCount += read;
        }

        var count = (int)(byteCount / sizeof(float));
        if (!BitConverter.IsLittleEndian)
        {
            var words = MemoryMarshal.Cast<float, int>(samples.AsSpan(0, count));
            BinaryPrimitives.ReverseEndianness(words, words);
        }

        return (samples, count);
    }
}
