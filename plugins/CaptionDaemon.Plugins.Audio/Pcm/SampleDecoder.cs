using System.Buffers.Binary;

namespace CaptionDaemon.Plugins.Audio.Pcm;

/// <summary>
/// Converts little-endian PCM to floats in [-1, 1] with the same scaling as ffmpeg (integers divided by 2^(bits-1)),
/// so that a decoded file matches ffmpeg's own f32 decode sample for sample.
/// </summary>
internal static class SampleDecoder
{
    public static int BytesPerSample(SampleEncoding encoding) => encoding switch
    {
        SampleEncoding.Unsigned8 => 1,
        SampleEncoding.Signed16 => 2,
        SampleEncoding.Signed24 => 3,
        SampleEncoding.Signed32 => 4,
        SampleEncoding.Float32 => 4,
        SampleEncoding.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(encoding), encoding, null),
    };

    /// <summary>
    /// Decodes <paramref name="source"/> (a whole number of samples) into <paramref name="destination"/>. Floats that are
    /// not finite become 0 and floats outside [-1, 1] are clipped, so that a bad sender cannot poison the model input.
    /// </summary>
    /// <returns>How many non-finite samples were replaced by 0.</returns>
    public static int Decode(SampleEncoding encoding, ReadOnlySpan<byte> source, Span<float> destination)
    {
        var count = source.Length / BytesPerSample(encoding);
        if (destination.Length < count)
            throw new ArgumentException("The destination is shorter than the decoded samples.", nameof(destination));
        switch (encoding)
        {
            case SampleEncoding.Unsigned8:
                for (var i = 0; i < count; i++)
                    destination[i] = (source[i] - 128) * (1f / 128);
                return 0;
            case SampleEncoding.Signed16:
                for (var i = 0; i < count; i++)
                    destination[i] = BinaryPrimitives.ReadInt16LittleEndian(source[(i * 2)..]) * (1f / 32768);
                return 0;
            case SampleEncoding.Signed24:
                for (var i = 0; i < count; i++)
                {
                    var b = source.Slice(i * 3, 3);
                    // Put the 24 bits at the top of an int so that the sign comes along, as ffmpeg does.
                    var value = (b[0] << 8) | (b[1] << 16) | (b[2] << 24);
                    destination[i] = value * (1f / 2147483648f);
                }
                return 0;
            case SampleEncoding.Signed32:
                for (var i = 0; i < count; i++)
                    destination[i] = BinaryPrimitives.ReadInt32LittleEndian(source[(i * 4)..]) * (1f / 2147483648f);
                return 0;
            case SampleEncoding.Float32:
            {
                var nonFinite = 0;
                for (var i = 0; i < count; i++)
                    destination[i] = Sanitize(BinaryPrimitives.ReadSingleLittleEndian(source[(i * 4)..]), ref nonFinite);
                return nonFinite;
            }
            case SampleEncoding.Float64:
            {
                var nonFinite = 0;
                for (var i = 0; i < count; i++)
                {
                    var value = BinaryPrimitives.ReadDoubleLittleEndian(source[(i * 8)..]);
                    // Clip before narrowing: a huge finite double would otherwise become an infinite float.
                    destination[i] = Sanitize((float)(double.IsFinite(value) ? Math.Clamp(value, -1d, 1d) : value), ref nonFinite);
                }
                return nonFinite;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(encoding), encoding, null);
        }
    }

    private static float Sanitize(float value, ref int nonFinite)
    {
        if (!float.IsFinite(value))
        {
            nonFinite++;
            return 0f;
        }
        return Math.Clamp(value, -1f, 1f);
    }
}
