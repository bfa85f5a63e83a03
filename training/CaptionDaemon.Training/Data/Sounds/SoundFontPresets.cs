using System.Buffers.Binary;
using System.Text;

namespace CaptionDaemon.Training.Data.Sounds;

/// <summary>One preset of a SoundFont 2 file: its MIDI bank (128 for drum kits) and program, and its name.</summary>
internal readonly record struct SoundFontPreset(int Bank, int Program, string Name);

/// <summary>
/// The preset headers (<c>phdr</c>) of a SoundFont 2 file, read by walking its RIFF chunks (SoundFont 2.04 spec, section
/// 7.2: 38-byte records, the last one the terminal "EOP"). <c>data music</c> asks it whether a soundfont has the bank and
/// program it is about to render, because fluidsynth falls back to another preset when one is missing: a drum-kit-only
/// soundfont plays a piano part with drums, audible and so not caught by the silence check, and labelled "piano".
/// Hand-written because no .NET SoundFont reader is served here, and the header table is all that is needed.
/// </summary>
internal static class SoundFontPresets
{
    private const int RecordSize = 38;

    /// <summary>The presets of <paramref name="path"/>, in file order.</summary>
    /// <exception cref="InvalidDataException">The file is not a SoundFont 2 or has no readable preset table.</exception>
    public static IReadOnlyList<SoundFontPreset> Read(string path)
    {
        using var stream = File.OpenRead(path);
        var header = ReadExactly(stream, 12, path);
        if (Encoding.ASCII.GetString(header, 0, 4) != "RIFF" || Encoding.ASCII.GetString(header, 8, 4) != "sfbk")
        {
            throw new InvalidDataException($"{path} is not a SoundFont 2 file (no RIFF 'sfbk' header).");
        }

        var end = Math.Min(stream.Length, 8L + BinaryPrimitives.ReadUInt32LittleEndian(header.AsSpan(4)));
        while (stream.Position + 12 <= end)
        {
            var chunk = ReadExactly(stream, 12, path);
            var id = Encoding.ASCII.GetString(chunk, 0, 4);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(chunk.AsSpan(4));
            var next = stream.Position - 4 + size + (size & 1);
            if (id == "LIST" && Encoding.ASCII.GetString(chunk, 8, 4) == "pdta")
            {
                return ReadPresetTable(stream, stream.Position - 4 + size, path);
            }

            stream.Position = next;
        }

        throw new InvalidDataException($"{path} has no 'pdta' list, so no preset table.");
    }

    /// <summary>True when <paramref name="presets"/> hold <paramref name="bank"/>:<paramref name="program"/>.</summary>
    public static bool Has(IEnumerable<SoundFontPreset> presets, int bank, int program) =>
        presets.Any(p => p.Bank == bank && p.Program == program);

    private static List<SoundFontPreset> ReadPresetTable(Stream stream, long end, string path)
    {
        while (stream.Position + 8 <= end)
        {
            var chunk = ReadExactly(stream, 8, path);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(chunk.AsSpan(4));
            if (Encoding.ASCII.GetString(chunk, 0, 4) != "phdr")
            {
                stream.Position += size + (size & 1);
                continue;
            }

            if (size % RecordSize != 0 || size < 2 * RecordSize)
            {
                throw new InvalidDataException($"{path}: the 'phdr' chunk is {size} bytes, not a whole number of at least two {RecordSize}-byte records.");
            }

            var table = ReadExactly(stream, (int)size, path);
            var presets = new List<SoundFontPreset>();
            for (var offset = 0; offset + RecordSize < table.Length; offset += RecordSize)
            {
                var record = table.AsSpan(offset, RecordSize);
                var name = Encoding.Latin1.GetString(record[..20]).Split('\0')[0].TrimEnd();
                presets.Add(new SoundFontPreset(
                    BinaryPrimitives.ReadUInt16LittleEndian(record[22..]), BinaryPrimitives.ReadUInt16LittleEndian(record[20..]), name));
            }

            return presets;
        }

        throw new InvalidDataException($"{path}: the 'pdta' list has no 'phdr' chunk.");
    }

    private static byte[] ReadExactly(Stream stream, int count, string path)
    {
        var buffer = new byte[count];
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException($"{path} ends inside a chunk (truncated SoundFont).", ex);
        }

        return buffer;
    }
}
