namespace CaptionDaemon.Training.Reporting;

/// <summary>
/// CRC-32 (ISO-HDLC, reflected polynomial 0xEDB88320) as PNG chunks need it. Our own because System.IO.Hashing is a
/// package the mirror may not hold, and the table is a few lines.
/// </summary>
internal static class Crc32
{
    /// <summary>The running value before any byte; feed it to <see cref="Append"/> and end with <see cref="Finish"/>.</summary>
    public const uint Start = 0xFFFFFFFFu;

    private static readonly uint[] _table = BuildTable();

    public static uint Compute(ReadOnlySpan<byte> data) => Finish(Append(Start, data));

    public static uint Append(uint running, ReadOnlySpan<byte> data)
    {
        foreach (var b in data)
        {
            running = _table[(running ^ b) & 0xFF] ^ (running >> 8);
        }

        return running;
    }

    public static uint Finish(uint running) => running ^ 0xFFFFFFFFu;

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
