using System.Buffers.Binary;
using System.IO.Compression;

namespace CaptionDaemon.Training.Reporting;

/// <summary>
/// Writes 8-bit RGB or RGBA images as PNG: one IHDR, one zlib-compressed IDAT with filter type 0 (None) on every row,
/// IEND. Filter 0 keeps the encoder trivial; charts are mostly flat colour, which deflate handles well without it.
/// </summary>
internal static class PngEncoder
{
    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Encodes <paramref name="pixels"/>: rows top to bottom, 3 (RGB) or 4 (RGBA) bytes a pixel.</summary>
    /// <exception cref="ArgumentException">The size is not positive or <paramref name="pixels"/> has the wrong length.</exception>
    public static byte[] Encode(ReadOnlySpan<byte> pixels, int width, int height, bool hasAlpha)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        var channels = hasAlpha ? 4 : 3;
        var stride = (long)width * channels;
        if (pixels.Length != stride * height)
        {
            throw new ArgumentException(
                $"Expected {stride * height} bytes for {width}x{height} with {channels} channels, got {pixels.Length}.", nameof(pixels));
        }

        using var png = new MemoryStream();
        png.Write(Signature);

        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height);
        header[8] = 8; // bits per channel
        header[9] = hasAlpha ? (byte)6 : (byte)2; // colour type: truecolour with / without alpha
        header[10] = 0; // compression: deflate
        header[11] = 0; // filter method: adaptive (we always pick type 0)
        header[12] = 0; // no interlace
        WriteChunk(png, "IHDR"u8, header);

        WriteChunk(png, "IDAT"u8, Deflate(pixels, (int)stride, height));
        WriteChunk(png, "IEND"u8, []);
        return png.ToArray();
    }

    /// <summary>Encodes the canvas as an RGB PNG.</summary>
    public static byte[] Encode(RasterCanvas canvas)
    {
        ArgumentNullException.ThrowIfNull(canvas);
        return Encode(canvas.Pixels, canvas.Width, canvas.Height, hasAlpha: false);
    }

    private static byte[] Deflate(ReadOnlySpan<byte> pixels, int stride, int height)
    {
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            ReadOnlySpan<byte> filterNone = [0];
            for (var y = 0; y < height; y++)
            {
                zlib.Write(filterNone);
                zlib.Write(pixels.Slice(y * stride, stride));
            }
        }

        return compressed.ToArray();
    }

    private static void WriteChunk(Stream png, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        png.Write(word);
        png.Write(type);
        png.Write(data);
        // The CRC covers the chunk type and data, not the length.
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc32.Finish(Crc32.Append(Crc32.Append(Crc32.Start, type), data)));
        png.Write(word);
    }
}
