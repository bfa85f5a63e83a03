using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using CaptionDaemon.Training.Reporting;

namespace CaptionDaemon.Training.Tests.Reporting;

/// <summary>A decoded 8-bit RGB or RGBA PNG.</summary>
internal sealed record DecodedPng(int Width, int Height, int Channels, byte[] Pixels, IReadOnlyList<string> ChunkTypes)
{
    public Rgb Pixel(int x, int y)
    {
        Assert.InRange(x, 0, Width - 1);
        Assert.InRange(y, 0, Height - 1);
        var i = ((y * Width) + x) * Channels;
        return new Rgb(Pixels[i], Pixels[i + 1], Pixels[i + 2]);
    }

    public byte Alpha(int x, int y) => Channels == 4 ? Pixels[(((y * Width) + x) * 4) + 3] : (byte)255;

    /// <summary>How many pixels inside the rectangle have exactly <paramref name="colour"/>.</summary>
    public int Count(Rgb colour, PixelRect area)
    {
        var count = 0;
        for (var y = Math.Max(0, area.Y); y < Math.Min(Height, area.Bottom); y++)
        {
            for (var x = Math.Max(0, area.X); x < Math.Min(Width, area.Right); x++)
            {
                var i = ((y * Width) + x) * Channels;
                count += Pixels[i] == colour.R && Pixels[i + 1] == colour.G && Pixels[i + 2] == colour.B ? 1 : 0;
            }
        }

        return count;
    }

    public int Count(Rgb colour) => Count(colour, new PixelRect(0, 0, Width, Height));
}

/// <summary>
/// A PNG reader written apart from the encoder, to check what the encoder writes: signature, chunk order and
/// CRCs (with a bit-by-bit CRC, not the encoder's table), IHDR fields, the zlib stream and its filter bytes. It reads
/// only what <see cref="PngEncoder"/> claims to write (8-bit RGB/RGBA, filter type 0) and fails on anything else.
/// </summary>
internal static class PngReader
{
    private static readonly byte[] _signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static DecodedPng Read(byte[] png)
    {
        Assert.True(png.Length > 8 && png.AsSpan(0, 8).SequenceEqual(_signature), "PNG signature");
        var types = new List<string>();
        var idat = new MemoryStream();
        int width = 0, height = 0, channels = 0;
        var offset = 8;
        while (offset < png.Length)
        {
            Assert.True(offset + 12 <= png.Length, $"chunk header at {offset} runs past the end");
            var length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(offset));
            var type = Encoding.ASCII.GetString(png, offset + 4, 4);
            Assert.True(offset + 12 + length <= png.Length, $"{type} chunk runs past the end");
            var data = png.AsSpan(offset + 8, length);
            var crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(offset + 8 + length));
            Assert.Equal(BitwiseCrc32(png.AsSpan(offset + 4, 4 + length)), crc);
            types.Add(type);
            switch (type)
            {
                case "IHDR":
                    Assert.Equal(13, length);
                    width = BinaryPrimitives.ReadInt32BigEndian(data);
                    height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                    Assert.Equal(8, data[8]);
                    channels = data[9] switch
                    {
                        2 => 3,
                        6 => 4,
                        var other => throw new Xunit.Sdk.XunitException($"colour type {other}"),
                    };
                    Assert.Equal(0, data[10]);
                    Assert.Equal(0, data[11]);
                    Assert.Equal(0, data[12]);
                    break;
                case "IDAT":
                    idat.Write(data);
                    break;
                case "IEND":
                    Assert.Equal(0, length);
                    break;
                default:
                    break;
            }

            offset += 12 + length;
        }

        Assert.Equal(png.Length, offset);
        Assert.Equal("IHDR", types[0]);
        Assert.Equal("IEND", types[^1]);

        idat.Position = 0;
        using var zlib = new ZLibStream(idat, CompressionMode.Decompress);
        var raw = new MemoryStream();
        zlib.CopyTo(raw);
        var stride = width * channels;
        Assert.Equal((long)(stride + 1) * height, raw.Length);
        var bytes = raw.ToArray();
        var pixels = new byte[stride * height];
        for (var y = 0; y < height; y++)
        {
            Assert.Equal(0, bytes[y * (stride + 1)]);
            Array.Copy(bytes, (y * (stride + 1)) + 1, pixels, y * stride, stride);
        }

        return new DecodedPng(width, height, channels, pixels, types);
    }

    /// <summary>The PNG specification's CRC, one bit at a time.</summary>
    private static uint BitwiseCrc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }
}
