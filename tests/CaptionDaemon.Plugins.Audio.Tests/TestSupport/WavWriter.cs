using System.Buffers.Binary;
using System.Text;

namespace CaptionDaemon.Plugins.Audio.Tests.TestSupport;

/// <summary>
/// Writes WAV layouts that ffmpeg's muxer does not produce (plain float fmt, extensible 8/16-bit, odd-sized unknown
/// chunks, data before fmt), around sample bytes that ffmpeg encoded.
/// </summary>
public static class WavWriter
{
    public const ushort Pcm = 1;
    public const ushort IeeeFloat = 3;

    public static void Write(
        string path,
        ushort formatTag,
        int channels,
        int sampleRate,
        int bits,
        ReadOnlySpan<byte> data,
        bool extensible = false,
        bool oddChunks = false,
        uint? declaredDataSize = null,
        bool dataBeforeFmt = false,
        bool omitFmt = false,
        bool omitData = false)
    {
        using var stream = new MemoryStream();
        var fmt = new MemoryStream();
        var blockAlign = channels * bits / 8;
        WriteUInt16(fmt, extensible ? (ushort)0xFFFE : formatTag);
        WriteUInt16(fmt, (ushort)channels);
        WriteUInt32(fmt, (uint)sampleRate);
        WriteUInt32(fmt, (uint)(sampleRate * blockAlign));
        WriteUInt16(fmt, (ushort)blockAlign);
        WriteUInt16(fmt, (ushort)bits);
        if (extensible)
        {
            WriteUInt16(fmt, 22);
            WriteUInt16(fmt, (ushort)bits);
            WriteUInt32(fmt, 0);
            WriteUInt16(fmt, formatTag);
            fmt.Write([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]);
        }

        stream.Write("RIFF"u8);
        WriteUInt32(stream, 0);
        stream.Write("WAVE"u8);
        if (oddChunks)
            Chunk(stream, "junk", [1, 2, 3]);
        if (!dataBeforeFmt && !omitFmt)
            Chunk(stream, "fmt ", fmt.ToArray());
        if (oddChunks)
            Chunk(stream, "note", Encoding.ASCII.GetBytes("odd sized chunk"));
        if (!omitData)
        {
            stream.Write("data"u8);
            WriteUInt32(stream, declaredDataSize ?? (uint)data.Length);
            stream.Write(data);
            if (data.Length % 2 == 1)
                stream.WriteByte(0);
        }
        if (dataBeforeFmt)
            Chunk(stream, "fmt ", fmt.ToArray());
        var bytes = stream.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), (uint)(bytes.Length - 8));
        File.WriteAllBytes(path, bytes);
    }

    private static void Chunk(Stream stream, string id, byte[] body)
    {
        stream.Write(Encoding.ASCII.GetBytes(id));
        WriteUInt32(stream, (uint)body.Length);
        stream.Write(body);
        if (body.Length % 2 == 1)
            stream.WriteByte(0);
    }

    private static void WriteUInt16(Stream stream, ushort value)
    {
        Span<byte> b = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(b, value);
        stream.Write(b);
    }

    private static void WriteUInt32(Stream stream, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        stream.Write(b);
    }
}
