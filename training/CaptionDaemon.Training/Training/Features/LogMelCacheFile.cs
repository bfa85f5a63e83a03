using System.Buffers;
using System.Globalization;
using System.IO.MemoryMappedFiles;
using System.Text;
using CaptionDaemon.Training.Data;

namespace CaptionDaemon.Training.Training.Features;

/// <summary>One clip in a cache: its source file (name, size, modification time), its length and where its frames are.</summary>
internal readonly record struct LogMelCacheEntry(string FileName, long SourceBytes, long SourceModifiedTicks, int Samples, int Frames, long Offset);

/// <summary>
/// A split's log-mel features in one file (<c>&lt;data&gt;/features/&lt;split&gt;.logmel</c>), memory-mapped for reading.
/// <para>
/// Layout, little-endian: a 64-byte header (magic <c>CDLOGMEL</c>, version, the <see cref="FrontendParameters"/>, the
/// element type (1 = float16), the clip count and the offset of the index); then per clip its frames, time-major
/// <c>[Frames, MelBins]</c> float16 so that a window is one contiguous read; then the index, one
/// <see cref="LogMelCacheEntry"/> per clip. Values are <see cref="Models.LogMelFrontend.LogMel"/> in dB (before the
/// trainable BatchNorm) of the clip as training would see it (16-bit PCM) followed by NFft zeros, so the frames that
/// straddle a short clip's end are stored too; float16 keeps them to 0.03 dB.
/// </para>
/// </summary>
internal sealed class LogMelCacheFile : IDisposable
{
    public const string Extension = ".logmel";
    public const string FolderName = "features";
    public const int Version = 1;
    internal const int HeaderBytes = 64;
    internal const int Float16 = 1;
    internal static readonly byte[] Magic = "CDLOGMEL"u8.ToArray();

    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly Dictionary<string, int> _byFileName;

    private LogMelCacheFile(string path, FrontendParameters frontend, IReadOnlyList<LogMelCacheEntry> entries, MemoryMappedFile map, MemoryMappedViewAccessor view)
    {
        Path = path;
        Frontend = frontend;
        Entries = entries;
        _map = map;
        _view = view;
        _byFileName = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < entries.Count; i++)
        {
            _byFileName[entries[i].FileName] = i;
        }
    }

    public string Path { get; }

    public FrontendParameters Frontend { get; }

    public IReadOnlyList<LogMelCacheEntry> Entries { get; }

    /// <summary>Where the cache of <paramref name="split"/> of the data set in <paramref name="dataDirectory"/> lives.</summary>
    public static string PathOf(string dataDirectory, string split) =>
        System.IO.Path.Combine(dataDirectory, FolderName, split + Extension);

    /// <summary>The file name and fingerprint (size, modification time) under which a clip's source is indexed.</summary>
    public static (string FileName, long Bytes, long ModifiedTicks) Fingerprint(string audioPath)
    {
        var info = new FileInfo(audioPath);
        return (info.Name, info.Length, info.LastWriteTimeUtc.Ticks);
    }

    /// <summary>Maps <paramref name="path"/> and reads its header and index.</summary>
    /// <exception cref="FeatureCacheException">The file is not a cache of this version or is truncated; the message names it.</exception>
    public static LogMelCacheFile Open(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var length = new FileInfo(path).Length;
        if (length < HeaderBytes)
        {
            throw new FeatureCacheException($"{path} is not a log-mel cache: {length} bytes is shorter than its header.");
        }

        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            var (frontend, count, indexOffset) = ReadHeader(path, view);
            var entries = ReadIndex(path, count, indexOffset, length, frontend.MelBins);
            return new LogMelCacheFile(path, frontend, entries, map, view);
        }
        catch
        {
            // Not swallowed: only releases the mapping of a file that failed to open before rethrowing.
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The entry of every clip, in order, after checking that the cache was made by <paramref name="frontend"/> from these
    /// very files (same name, size and modification time).
    /// </summary>
    /// <exception cref="FeatureCacheException">The front end differs or a clip is missing or changed; the message names the cache, the clip and what differs.</exception>
    public int[] Match(IReadOnlyList<CaptionedClip> clips, FrontendParameters frontend, string rebuildHint)
    {
        ArgumentNullException.ThrowIfNull(clips);
        ArgumentNullException.ThrowIfNull(frontend);
        var differences = Frontend.Differences(frontend);
        if (differences.Count > 0)
        {
            throw new FeatureCacheException($"{Path} was computed by another front end ({string.Join(", ", differences)}); {rebuildHint}.");
        }

        var indices = new int[clips.Count];
        for (var i = 0; i < clips.Count; i++)
        {
            var (name, bytes, ticks) = Fingerprint(clips[i].AudioPath);
            if (!_byFileName.TryGetValue(name, out var index))
            {
                throw new FeatureCacheException($"{Path} has no features for {clips[i].AudioPath} (the cache holds {Entries.Count} clips); {rebuildHint}.");
            }

            var entry = Entries[index];
            if (entry.SourceBytes != bytes || entry.SourceModifiedTicks != ticks)
            {
                throw new FeatureCacheException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{Path} is stale for {clips[i].AudioPath}: the file is {bytes} bytes, modified {new DateTime(ticks, DateTimeKind.Utc):O}, the cache was made from {entry.SourceBytes} bytes, modified {new DateTime(entry.SourceModifiedTicks, DateTimeKind.Utc):O}; {rebuildHint}."));
            }

            indices[i] = index;
        }

        return indices;
    }

    /// <summary>
    /// Writes <paramref name="count"/> frames of entry <paramref name="index"/> from <paramref name="firstFrame"/> into
    /// <paramref name="destination"/> mel-major (<c>destination[m * stride + t]</c>, the model's <c>[MelBins, T]</c> layout).
    /// </summary>
    public void ReadFrames(int index, int firstFrame, int count, Span<float> destination, int stride)
    {
        var entry = Entries[index];
        ArgumentOutOfRangeException.ThrowIfGreaterThan(firstFrame + count, entry.Frames);
        var mels = Frontend.MelBins;
        var values = count * mels;
        var buffer = ArrayPool<Half>.Shared.Rent(values);
        try
        {
            _view.ReadArray(entry.Offset + ((long)firstFrame * mels * sizeof(ushort)), buffer, 0, values);
            for (var t = 0; t < count; t++)
            {
                for (var m = 0; m < mels; m++)
                {
                    destination[(m * stride) + t] = (float)buffer[(t * mels) + m];
                }
            }
        }
        finally
        {
            ArrayPool<Half>.Shared.Return(buffer);
        }
    }

    public void Dispose()
    {
        _view.Dispose();
        _map.Dispose();
    }

    private static (FrontendParameters Frontend, int Count, long IndexOffset) ReadHeader(string path, MemoryMappedViewAccessor view)
    {
        var magic = new byte[Magic.Length];
        view.ReadArray(0, magic, 0, magic.Length);
        if (!magic.AsSpan().SequenceEqual(Magic))
        {
            throw new FeatureCacheException($"{path} is not a log-mel cache (no {Encoding.ASCII.GetString(Magic)} header).");
        }

        var version = view.ReadInt32(8);
        if (version != Version)
        {
            throw new FeatureCacheException($"{path} is a version {version} log-mel cache; this trainer reads version {Version}: rebuild it with 'captiond-train data features'.");
        }

        var frontend = new FrontendParameters(view.ReadInt32(12), view.ReadInt32(16), view.ReadInt32(20), view.ReadInt32(24), view.ReadDouble(28), view.ReadDouble(36));
        var elementType = view.ReadInt32(44);
        if (elementType != Float16)
        {
            throw new FeatureCacheException($"{path} stores element type {elementType}; only float16 ({Float16}) is read.");
        }

        return (frontend, view.ReadInt32(48), view.ReadInt64(52));
    }

    private static LogMelCacheEntry[] ReadIndex(string path, int count, long indexOffset, long length, int mels)
    {
        if (count < 0 || indexOffset < HeaderBytes || indexOffset > length)
        {
            throw new FeatureCacheException($"{path} is truncated or was not finished (index at {indexOffset} of {length} bytes); rebuild it with 'captiond-train data features'.");
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        stream.Position = indexOffset;
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        var entries = new LogMelCacheEntry[count];
        try
        {
            for (var i = 0; i < count; i++)
            {
                entries[i] = new LogMelCacheEntry(reader.ReadString(), reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt64());
                if (entries[i].Offset + ((long)entries[i].Frames * mels * sizeof(ushort)) > indexOffset)
                {
                    throw new FeatureCacheException($"{path}: the frames of {entries[i].FileName} lie past the data; rebuild it with 'captiond-train data features'.");
                }
            }
        }
        catch (EndOfStreamException ex)
        {
            throw new FeatureCacheException($"{path} is truncated: its index ends before {count} clips; rebuild it with 'captiond-train data features'.", ex);
        }

        return entries;
    }
}
