using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace CaptionDaemon.Training.Data;

/// <summary>
/// Decodes any audio file ffmpeg can read into mono float32 samples at a chosen rate. ffmpeg writes raw f32le to its
/// standard output, which is read straight into the sample array: no temporary files, one copy at the end to trim.
/// </summary>
internal static class AudioDecoder
{
    /// <summary>The sample rate of the whole captioning core.</summary>
    public const int DefaultSampleRate = 16000;

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

        string[] arguments =
        [
            "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error",
            // "file:" keeps ffmpeg from reading a colon in the name as a protocol prefix.
            "-i", "file:" + fullPath,
            "-map", "0:a:0", "-ac", "1", "-ar", sampleRate.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-f", "f32le", "-c:a", "pcm_f32le", "pipe:1",
        ];

        System.Diagnostics.Process process;
        try
        {
            process = ExternalTool.Start("ffmpeg", arguments);
        }
        catch (InvalidOperationException ex)
        {
            throw new AudioDecodeException(fullPath, ex.Message, ex);
        }

        using (process)
        {
            using var registration = cancellationToken.Register(() => ExternalTool.Kill(process));
            // stderr is drained concurrently so that a chatty ffmpeg never blocks on a full pipe while we read stdout.
            var stderrTask = process.StandardError.ReadToEndAsync(CancellationToken.None);
            float[] samples;
            int count;
            try
            {
                (samples, count) = ReadSamples(process.StandardOutput.BaseStream, sampleRate);
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

    /// <summary>Reads f32le samples into a float array that grows by doubling; returns the array and the sample count.</summary>
    private static (float[] Samples, int Count) ReadSamples(Stream stdout, int sampleRate)
    {
        // Four seconds first: most recordings in the data sets are shorter, and doubling keeps long ones cheap.
        var samples = new float[sampleRate * 4];
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
