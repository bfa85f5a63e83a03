using System.Buffers.Binary;

namespace CaptionDaemon.Benchmarks.Audio;

/// <summary>WAV files of the shapes the <c>wav</c> source must read: plain, WAVE_FORMAT_EXTENSIBLE, RF64, streamed, truncated.</summary>
internal static class WavBuilder
{
    public const ushort Pcm = 1;
    public const ushort IeeeFloat = 3;

    /// <summary>A whole file; <paramref name="declaredData"/> is the data chunk's size field (null: the true size).</summary>
    public static byte[] Build(ushort format, int channels, int rate, int bits, ReadOnlySpan<byte> data, bool extensible = false, bool rf64 = false, uint? declaredData = null)
    {
        var fmtSize = extensible ? 40 : 16;
        var ds64 = rf64 ? 8 + 28 : 0;
        var total = 12 + ds64 + 8 + fmtSize + 8 + data.Length;
        var bytes = new byte[total];
        var span = bytes.AsSpan();
        (rf64 ? "RF64"u8 : "RIFF"u8).CopyTo(span);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], rf64 ? uint.MaxValue : (uint)(total - 8));
        "WAVE"u8.CopyTo(span[8..]);
        var at = 12;
        if (rf64)
        {
            "ds64"u8.CopyTo(span[at..]);
            BinaryPrimitives.WriteUInt32LittleEndian(span[(at + 4)..], 28);
            BinaryPrimitives.WriteInt64LittleEndian(span[(at + 8)..], total - 8);
            BinaryPrimitives.WriteInt64LittleEndian(span[(at + 16)..], data.Length);
            BinaryPrimitives.WriteInt64LittleEndian(span[(at + 24)..], data.Length / (channels * bits / 8));
            at += ds64;
        }

        "fmt "u8.CopyTo(span[at..]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(at + 4)..], (uint)fmtSize);
        var fmt = span[(at + 8)..];
        BinaryPrimitives.WriteUInt16LittleEndian(fmt, extensible ? (ushort)0xFFFE : format);
        BinaryPrimitives.WriteUInt16LittleEndian(fmt[2..], (ushort)channels);
        BinaryPrimitives.WriteUInt32LittleEndian(fmt[4..], (uint)rate);
        BinaryPrimitives.WriteUInt32LittleEndian(fmt[8..], (uint)(rate * channels * bits / 8));
        BinaryPrimitives.WriteUInt16LittleEndian(fmt[12..], (ushort)(channels * bits / 8));
        BinaryPrimitives.WriteUInt16LittleEndian(fmt[14..], (ushort)bits);
        if (extensible)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(fmt[16..], 22);
            BinaryPrimitives.WriteUInt16LittleEndian(fmt[18..], (ushort)bits);
            BinaryPrimitives.WriteUInt32LittleEndian(fmt[20..], channels == 2 ? 3u : 4u);
            // KSDATAFORMAT_SUBTYPE_PCM / _IEEE_FLOAT: the format code, then the fixed tail of the GUID.
            BinaryPrimitives.WriteUInt16LittleEndian(fmt[24..], format);
            byte[] tail = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71];
            tail.CopyTo(fmt[26..]);
        }

        at += 8 + fmtSize;
        "data"u8.CopyTo(span[at..]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(at + 4)..], rf64 ? uint.MaxValue : declaredData ?? (uint)data.Length);
        data.CopyTo(span[(at + 8)..]);
        return bytes;
    }

    public static byte[] Pcm16(ReadOnlySpan<short> samples)
    {
        var bytes = new byte[samples.Length * 2];
        for (var i = 0; i < samples.Length; i++)
        {
            BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(i * 2), samples[i]);
        }

        return bytes;
    }

    public static byte[] Pcm24(ReadOnlySpan<int> samples)
    {
        var bytes = new byte[samples.Length * 3];
        for (var i = 0; i < samples.Length; i++)
        {
            bytes[i * 3] = (byte)samples[i];
            bytes[(i * 3) + 1] = (byte)(samples[i] >> 8);
            bytes[(i * 3) + 2] = (byte)(samples[i] >> 16);
        }

        return bytes;
    }

    public static byte[] Float32(ReadOnlySpan<float> samples)
    {
        var bytes = new byte[samples.Length * 4];
        for (var i = 0; i < samples.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), samples[i]);
        }

        return bytes;
    }
}
