using System.Buffers.Binary;
using System.Globalization;
using CaptionDaemon.Contracts;
using CaptionDaemon.Plugins.Audio.Pcm;

namespace CaptionDaemon.Plugins.Audio.Wav;

/// <summary>What a WAV file's RIFF chunks say about its audio: the encoding, the format and where the samples are.</summary>
/// <param name="Encoding">How each sample is stored.</param>
/// <param name="Format">The file's own rate and channel count (the host resamples and mixes down).</param>
/// <param name="BlockAlign">Bytes per frame (one sample of every channel).</param>
/// <param name="DataOffset">Where the first sample is.</param>
/// <param name="DeclaredDataLength">The data chunk's size, or null when the file says "to the end" (0 or 0xFFFFFFFF, as streamed WAVs do).</param>
internal sealed record WavHeader(SampleEncoding Encoding, AudioFormat Format, int BlockAlign, long DataOffset, long? DeclaredDataLength)
{
    private const ushort FormatPcm = 0x0001;
    private const ushort FormatIeeeFloat = 0x0003;
    private const ushort FormatExtensible = 0xFFFE;

    // The 12 bytes that follow the format code in a WAVE_FORMAT_EXTENSIBLE sub-format GUID (KSDATAFORMAT_SUBTYPE_*).
    private static readonly byte[] _subFormatTail = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71];

    /// <summary>Reads the header of a RIFF/WAVE (or RF64) file; leaves the stream's position undefined.</summary>
    /// <exception cref="InvalidDataException">Not a WAVE file, an encoding we do not decode, or a missing chunk; the message names the file and the byte offset.</exception>
    public static WavHeader Read(Stream stream, string path)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var fileLength = stream.Length;
        Span<byte> buffer = stackalloc byte[40];
        stream.Position = 0;
        var got = stream.ReadAtLeast(buffer[..12], 12, throwOnEndOfStream: false);
        if (got < 12)
            throw Bad(path, 0, $"not a RIFF/WAVE file: it is only {got} bytes long");
        var riff = FourCc(buffer[..4]);
        var isRf64 = riff == "RF64";
        if (riff != "RIFF" && !isRf64)
            throw Bad(path, 0, $"not a RIFF/WAVE file: it starts with '{riff}', not 'RIFF'");
        var form = FourCc(buffer.Slice(8, 4));
        if (form != "WAVE")
            throw Bad(path, 8, $"a RIFF file of form '{form}', not 'WAVE'");

        (SampleEncoding Encoding, AudioFormat Format, int BlockAlign)? fmt = null;
        (long Offset, long? Declared)? data = null;
        long? ds64DataLength = null;
        long position = 12;
        while (position + 8 <= fileLength)
        {
            stream.Position = position;
            stream.ReadExactly(buffer[..8]);
            var id = FourCc(buffer[..4]);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(buffer.Slice(4, 4));
            switch (id)
            {
                case "ds64" when isRf64:
                    if (size < 16 || stream.ReadAtLeast(buffer[..16], 16, throwOnEndOfStream: false) < 16)
                        throw Bad(path, position, "the RF64 ds64 chunk is shorter than 16 bytes");
                    ds64DataLength = BinaryPrimitives.ReadInt64LittleEndian(buffer.Slice(8, 8));
                    break;
                case "fmt ":
                    fmt = ReadFmt(stream, path, position, size, buffer);
                    break;
                case "data" when data is null:
                    long? declared = size switch
                    {
                        uint.MaxValue when ds64DataLength is { } length => length,
                        0 or uint.MaxValue => null,
                        _ => size,
                    };
                    data = (position + 8, declared);
                    // RIFF allows the data before the fmt chunk; only a data chunk of unknown size hides what follows it.
                    if (fmt is null && declared is null)
                        throw Bad(path, position, "a data chunk of unknown size (streamed) comes before any fmt chunk, so the samples cannot be decoded");
                    break;
                default:
                    break;
            }
            if (fmt is { } f && data is { } d)
                return new WavHeader(f.Encoding, f.Format, f.BlockAlign, d.Offset, d.Declared);
            // Chunks are word-aligned: an odd-sized chunk is followed by one pad byte.
            position += 8L + size + (size & 1);
        }

        // The last chunk may declare more bytes than the file holds: the search ends at the file's end, not past it.
        var end = Math.Min(position, fileLength);
        return fmt is null
            ? throw Bad(path, end, "no fmt chunk before the end of the file")
            : throw Bad(path, end, "no data chunk before the end of the file");
    }

    /// <summary>Where this pass over the samples ends, given the file's current length.</summary>
    /// <returns>The end offset, and the number of bytes missing when the data chunk declares more than the file holds.</returns>
    public (long End, long Missing) DataEnd(long fileLength)
    {
        var available = Math.Max(0, fileLength - DataOffset);
        if (DeclaredDataLength is not { } declared)
            return (fileLength, 0);
        return declared <= available ? (DataOffset + declared, 0) : (fileLength, declared - available);
    }

    private static (SampleEncoding, AudioFormat, int) ReadFmt(Stream stream, string path, long position, uint size, Span<byte> buffer)
    {
        if (size < 16)
            throw Bad(path, position, $"the fmt chunk is {size} bytes long, at least 16 are needed");
        var length = (int)Math.Min(size, 40u);
        if (stream.ReadAtLeast(buffer[..length], length, throwOnEndOfStream: false) < length)
            throw Bad(path, position, "the file ends inside the fmt chunk");
        var tag = BinaryPrimitives.ReadUInt16LittleEndian(buffer);
        var channels = BinaryPrimitives.ReadUInt16LittleEndian(buffer[2..]);
        var sampleRate = BinaryPrimitives.ReadUInt32LittleEndian(buffer[4..]);
        var blockAlign = BinaryPrimitives.ReadUInt16LittleEndian(buffer[12..]);
        var bits = BinaryPrimitives.ReadUInt16LittleEndian(buffer[14..]);
        var fieldOffset = position + 8;
        var formatTag = tag;
        if (tag == FormatExtensible)
        {
            if (size < 40)
                throw Bad(path, fieldOffset, $"a WAVE_FORMAT_EXTENSIBLE fmt chunk of {size} bytes, 40 are needed");
            var guid = buffer.Slice(24, 16);
            if (!guid[2..].SequenceEqual(_subFormatTail))
                throw Bad(path, fieldOffset + 24, $"unsupported encoding: WAVE_FORMAT_EXTENSIBLE sub-format {new Guid(guid)}; supported: PCM and IEEE float");
            formatTag = BinaryPrimitives.ReadUInt16LittleEndian(guid);
        }

        SampleEncoding? encoding = (formatTag, bits) switch
        {
            (FormatPcm, 8) => SampleEncoding.Unsigned8,
            (FormatPcm, 16) => SampleEncoding.Signed16,
            (FormatPcm, 24) => SampleEncoding.Signed24,
            (FormatPcm, 32) => SampleEncoding.Signed32,
            (FormatIeeeFloat, 32) => SampleEncoding.Float32,
            (FormatIeeeFloat, 64) => SampleEncoding.Float64,
            _ => null,
        };
        if (encoding is not { } e)
        {
            throw Bad(path, fieldOffset, string.Create(CultureInfo.InvariantCulture,
                $"unsupported encoding: format 0x{formatTag:X4} ({FormatName(formatTag)}) with {bits} bits per sample; supported: PCM unsigned 8-bit, signed 16/24/32-bit, IEEE float 32/64-bit (the ffmpeg source reads the others)"));
        }
        if (channels == 0)
            throw Bad(path, fieldOffset + 2, "the fmt chunk declares 0 channels");
        if (sampleRate == 0 || sampleRate > int.MaxValue)
            throw Bad(path, fieldOffset + 4, string.Create(CultureInfo.InvariantCulture, $"the fmt chunk declares an impossible sample rate of {sampleRate} Hz"));
        var frameBytes = channels * SampleDecoder.BytesPerSample(e);
        if (blockAlign != frameBytes)
        {
            throw Bad(path, fieldOffset + 12, string.Create(CultureInfo.InvariantCulture,
                $"the fmt chunk declares {blockAlign} bytes per frame, but {channels} channels of {bits} bits take {frameBytes}"));
        }
        return (e, new AudioFormat((int)sampleRate, channels), blockAlign);
    }

    private static string FormatName(ushort tag) => tag switch
    {
        FormatPcm => "PCM",
        FormatIeeeFloat => "IEEE float",
        0x0002 => "Microsoft ADPCM",
        0x0006 => "A-law",
        0x0007 => "mu-law",
        0x0011 => "IMA ADPCM",
        0x0031 => "GSM 6.10",
        0x0055 => "MPEG layer 3",
        _ => "unknown",
    };

    private static string FourCc(ReadOnlySpan<byte> bytes)
    {
        Span<char> chars = stackalloc char[4];
        for (var i = 0; i < 4; i++)
            chars[i] = bytes[i] is >= 0x20 and < 0x7F ? (char)bytes[i] : '?';
        return new string(chars);
    }

    private static InvalidDataException Bad(string path, long offset, string problem) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{path}: at byte offset {offset}: {problem}"));
}
