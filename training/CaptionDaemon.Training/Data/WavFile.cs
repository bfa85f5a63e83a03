using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace CaptionDaemon.Training.Data;

/// <summary>What the header of a PCM WAV file says.</summary>
internal sealed record WavInfo(int SampleRate, int Channels, int BitsPerSample, long Frames)
{
    public double DurationSeconds => (double)Frames / SampleRate;
}

/// <summary>Writes mono 16-bit PCM WAV files (the format of the data sets) and reads WAV headers.</summary>
internal static class WavFile
{
    private const int HeaderBytes = 44;

    /// <summary>Writes <paramref name="samples"/> (float, clipped to [-1, 1]) as mono 16-bit PCM WAV to a stream.</summary>
    public static void Write(Stream stream, ReadOnlySpan<float> samples, int sampleRate)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleRate, 1);
        var dataBytes = (long)samples.Length * 2;
        if (dataBytes > uint.MaxValue - HeaderBytes)
        {
            throw new ArgumentException($"{samples.Length} samples do not fit in one WAV file (4 GiB limit).", nameof(samples));
        }

        Span<byte> header = stackalloc byte[HeaderBytes];
        "RIFF"u8.CopyTo(header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)(36 + dataBytes));
        "WAVE"u8.CopyTo(header[8..]);
        "fmt "u8.CopyTo(header[12..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 16);
        BinaryPrimitives.WriteUInt16LittleEndian(header[20..], 1); // PCM
        BinaryPrimitives.WriteUInt16LittleEndian(header[22..], 1); // mono
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], (uint)sampleRate);
        BinaryPrimitives.WriteUInt32LittleEndian(header[28..], (uint)sampleRate * 2); // byte rate
        BinaryPrimitives.WriteUInt16LittleEndian(header[32..], 2); // block align
        BinaryPrimitives.WriteUInt16LittleEndian(header[34..], 16); // bits per sample
        "data"u8.CopyTo(header[36..]);
        BinaryPrimitives.WriteUInt32LittleEndian(header[40..], (uint)dataBytes);
        stream.Write(header);

        var buffer = ArrayPool<byte>.Shared.Rent(16384);
        try
        {
            var chunkSamples = buffer.Length / 2;
            for (var start = 0; start < samples.Length; start += chunkSamples)
            {
                var chunk = samples.Slice(start, Math.Min(chunkSamples, samples.Length - start));
                for (var i = 0; i < chunk.Length; i++)
                {
                    BinaryPrimitives.WriteInt16LittleEndian(buffer.AsSpan(i * 2), ToPcm16(chunk[i]));
                }

                stream.Write(buffer, 0, chunk.Length * 2);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Writes a mono 16-bit WAV file through a temporary file and a rename, so that an interrupted run never leaves a
    /// truncated file that a later, idempotent run would take for a finished one.
    /// </summary>
    public static void Write(string path, ReadOnlySpan<float> samples, int sampleRate, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        cancellationToken.ThrowIfCancellationRequested();
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var temporary = path + ".partial";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 65536))
        {
            Write(stream, samples, sampleRate);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Reads the format and length of a PCM WAV file from its header, without reading the samples.</summary>
    /// <exception cref="InvalidDataException">The file is not a PCM WAV file; the message names it.</exception>
    public static WavInfo ReadInfo(string path, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ReadHeader(path).Info;
    }

    /// <summary>
    /// SHA-256 of the sample data (the bytes of the data chunk, i.e. the 16-bit samples) as its first 32 lower-case hex
    /// digits: the index's content hash. Equal samples give equal hashes whatever else the header holds.
    /// </summary>
    /// <exception cref="InvalidDataException">The file is not a PCM WAV file; the message names it.</exception>
    public static string ContentHash(string path, CancellationToken cancellationToken = default)
    {
        var (info, dataOffset, _) = ReadHeader(path);
        var remaining = info.Frames * info.Channels * (info.BitsPerSample / 8);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        stream.Position = dataOffset;
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(65536);
        try
        {
            while (remaining > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, remaining));
                if (read == 0)
                {
                    break;
                }

                hash.AppendData(buffer, 0, read);
                remaining -= read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..32];
    }

    private static (WavInfo Info, long DataOffset, bool Truncated) ReadHeader(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096);
        using var reader = new BinaryReader(stream, Encoding.ASCII);
        if (stream.Length < 12 || Encoding.ASCII.GetString(reader.ReadBytes(4)) != "RIFF")
        {
            throw new InvalidDataException($"'{path}' is not a WAV file (no RIFF header).");
        }

        reader.ReadUInt32();
        if (Encoding.ASCII.GetString(reader.ReadBytes(4)) != "WAVE")
        {
            throw new InvalidDataException($"'{path}' is not a WAV file (RIFF type is not WAVE).");
        }

        int? sampleRate = null;
        var channels = 0;
        var bits = 0;
        while (stream.Position + 8 <= stream.Length)
        {
            var id = Encoding.ASCII.GetString(reader.ReadBytes(4));
            var size = reader.ReadUInt32();
            if (id == "fmt ")
            {
                var format = reader.ReadUInt16();
                channels = reader.ReadUInt16();
                sampleRate = (int)reader.ReadUInt32();
                reader.ReadUInt32();
                reader.ReadUInt16();
                bits = reader.ReadUInt16();
                if (format != 1)
                {
                    throw new InvalidDataException($"'{path}' is not PCM (WAV format tag {format}).");
                }

                stream.Seek(size - 16 + (size & 1), SeekOrigin.Current);
            }
            else if (id == "data")
            {
                if (sampleRate is null || channels == 0 || bits == 0)
                {
                    throw new InvalidDataException($"'{path}' has its data chunk before a valid fmt chunk.");
                }

                // A header may claim more data than the file holds (an interrupted writer); trust the file.
                var available = Math.Min(size, stream.Length - stream.Position);
                return (new WavInfo(sampleRate.Value, channels, bits, available / (channels * bits / 8)), stream.Position, available < size);
            }
            else
            {
                stream.Seek(size + (size & 1), SeekOrigin.Current);
            }
        }

        throw new InvalidDataException($"'{path}' has no data chunk.");
    }

    /// <summary>
    /// Reads a mono 16-bit PCM WAV at <paramref name="sampleRate"/> (what <c>data fetch</c> writes) without starting
    /// ffmpeg; null for any other format, which the caller then decodes with <see cref="AudioDecoder"/>. Starting
    /// ffmpeg costs far more than reading a short file, and scene generation reads hundreds of them.
    /// </summary>
    public static float[]? TryReadMono16(string path, int sampleRate, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        WavInfo info;
        long dataOffset;
        bool truncated;
        try
        {
            (info, dataOffset, truncated) = ReadHeader(path);
        }
        catch (InvalidDataException)
        {
            return null;
        }

        // A truncated file goes to ffmpeg too, which reports it.
        if (truncated || info.Channels != 1 || info.BitsPerSample != 16 || info.SampleRate != sampleRate || info.Frames > int.MaxValue)
        {
            return null;
        }

        var bytes = new byte[info.Frames * 2];
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1))
        {
            stream.Position = dataOffset;
            stream.ReadExactly(bytes);
        }

        var samples = new float[info.Frames];
        for (var i = 0; i < samples.Length; i++)
        {
            samples[i] = BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan(i * 2)) / 32768f;
        }

        return samples;
    }

    private static short ToPcm16(float sample)
    {
        var clipped = float.IsNaN(sample) ? 0f : Math.Clamp(sample, -1f, 1f);
        return (short)MathF.Round(clipped * 32767f);
    }
}
