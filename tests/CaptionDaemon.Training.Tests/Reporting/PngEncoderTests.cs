using System.Diagnostics;
using System.Text;
using CaptionDaemon.Training.Reporting;

namespace CaptionDaemon.Training.Tests.Reporting;

public sealed class PngEncoderTests
{
    /// <summary>3x2 RGB: red, green, blue / white, black, grey.</summary>
    private static readonly byte[] _rgb3x2 = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 128, 128, 128];

    [Fact]
    public void Crc32_CheckString_MatchesPublishedValue()
    {
        // The catalogued check value of CRC-32/ISO-HDLC, and the CRC every PNG's empty IEND chunk carries.
        Assert.Equal(0xCBF43926u, Crc32.Compute("123456789"u8));
        Assert.Equal(0xAE426082u, Crc32.Compute("IEND"u8));
    }

    [Fact]
    public void Encode_Rgb_DecodesToTheSamePixels()
    {
        var png = PngReader.Read(PngEncoder.Encode(_rgb3x2, 3, 2, hasAlpha: false));

        Assert.Equal((3, 2, 3), (png.Width, png.Height, png.Channels));
        Assert.Equal(_rgb3x2, png.Pixels);
        Assert.Equal(["IHDR", "IDAT", "IEND"], png.ChunkTypes);
    }

    [Fact]
    public void Encode_Rgba_KeepsAlpha()
    {
        byte[] rgba = [10, 20, 30, 0, 40, 50, 60, 128, 70, 80, 90, 255, 1, 2, 3, 4];

        var png = PngReader.Read(PngEncoder.Encode(rgba, 2, 2, hasAlpha: true));

        Assert.Equal(4, png.Channels);
        Assert.Equal(rgba, png.Pixels);
        Assert.Equal(128, png.Alpha(1, 0));
    }

    [Fact]
    public void Encode_WrongPixelCount_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => PngEncoder.Encode(new byte[17], 3, 2, hasAlpha: false));

        Assert.Contains("18", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_Canvas_WritesItsSizeAndPixels()
    {
        var canvas = new RasterCanvas(7, 5, Rgb.White);
        canvas.SetPixel(6, 4, Rgb.FromHex(0x123456));

        var png = PngReader.Read(PngEncoder.Encode(canvas));

        Assert.Equal((7, 5), (png.Width, png.Height));
        Assert.Equal(Rgb.FromHex(0x123456), png.Pixel(6, 4));
        Assert.Equal(Rgb.White, png.Pixel(0, 0));
    }

    [Fact]
    public void Encode_ReadByPythonZlib_ChunksAndPixelsAgree()
    {
        // A second, independent decoder: Python's zlib checks the CRCs and inflates the image data.
        const string script = """
            import struct, sys, zlib
            data = open(sys.argv[1], 'rb').read()
            assert data[:8] == b'\x89PNG\r\n\x1a\n'
            pos, idat, out = 8, b'', []
            while pos < len(data):
                n, kind = struct.unpack('>I4s', data[pos:pos + 8])
                body = data[pos + 8:pos + 8 + n]
                assert struct.unpack('>I', data[pos + 8 + n:pos + 12 + n])[0] == zlib.crc32(kind + body), kind
                if kind == b'IHDR':
                    out.append('%d %d %d %d' % struct.unpack('>IIBB', body[:10]))
                if kind == b'IDAT':
                    idat += body
                pos += 12 + n
            raw = zlib.decompress(idat)
            out.append(raw.hex())
            print(' '.join(out))
            """;
        var path = Path.Combine(Path.GetTempPath(), $"captiond-png-{Guid.NewGuid():N}.png");
        try
        {
            File.WriteAllBytes(path, PngEncoder.Encode(_rgb3x2, 3, 2, hasAlpha: false));

            var output = Run("python3", "-c", script, path);

            // Width, height, bit depth, colour type 2; then each row as filter byte 0 and its pixels.
            Assert.Equal("3 2 8 2 00ff000000ff000000ff00ffffff000000808080", output.Trim());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Encode_ReadByFileCommand_IsRecognisedAsPng()
    {
        var path = Path.Combine(Path.GetTempPath(), $"captiond-png-{Guid.NewGuid():N}.png");
        try
        {
            File.WriteAllBytes(path, PngEncoder.Encode(new byte[640 * 400 * 3], 640, 400, hasAlpha: false));

            var output = Run("file", "-b", path);

            Assert.StartsWith("PNG image data, 640 x 400, 8-bit/color RGB, non-interlaced", output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(30_000), $"{program} did not finish");
        Assert.True(process.ExitCode == 0, $"{program} exited {process.ExitCode}: {stderr.Result}");
        return stdout;
    }
}
