using System.Buffers.Binary;

namespace CaptionDaemon.Plugins.Audio.Tests.TestSupport;

/// <summary>Headerless little-endian PCM, as network senders put it on the wire.</summary>
public static class PcmBytes
{
    public static byte[] S16(params short[] samples)
    {
        var bytes = new byte[samples.Length * 2];
        for (var i = 0; i < samples.Length; i++)
            BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(i * 2), samples[i]);
        return bytes;
    }

    public static byte[] F32(params float[] samples)
    {
        var bytes = new byte[samples.Length * 4];
        for (var i = 0; i < samples.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), samples[i]);
        return bytes;
    }
}
