using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;

namespace CaptionDaemon.Training.Training.Features;

/// <summary>
/// Streams a <see cref="LogMelCacheFile"/>: clips are appended one at a time (the file never has to fit in memory), the
/// index and the final header follow in <see cref="Complete"/>. It writes next to the destination and moves the file
/// into place only when complete, so an interrupted build leaves no cache that looks valid.
/// </summary>
internal sealed class LogMelCacheWriter : IDisposable
{
    private readonly string _path;
    private readonly string _staging;
    private readonly FrontendParameters _frontend;
    private readonly FileStream _stream;
    private readonly BinaryWriter _writer;
    private readonly List<LogMelCacheEntry> _entries = [];
    private bool _completed;

    public LogMelCacheWriter(string path, FrontendParameters frontend)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(frontend);
        _path = path;
        _frontend = frontend;
        _staging = path + ".writing";
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _stream = new FileStream(_staging, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        _writer = new BinaryWriter(_stream, Encoding.UTF8);
        WriteHeader(count: 0, indexOffset: 0);
    }

    public int Count => _entries.Count;

    /// <summary>Appends one clip's log-mel, time-major <c>[frames, MelBins]</c> in dB.</summary>
    public void Append(string sourcePath, int samples, ReadOnlySpan<float> timeMajorLogMel)
    {
        ArgumentNullException.ThrowIfNull(sourcePath);
        if (timeMajorLogMel.Length % _frontend.MelBins != 0)
        {
            throw new ArgumentException($"{timeMajorLogMel.Length} values are not whole frames of {_frontend.MelBins} mel bins.", nameof(timeMajorLogMel));
        }

        var (name, bytes, ticks) = LogMelCacheFile.Fingerprint(sourcePath);
        var offset = _stream.Position;
        var halves = ArrayPool<Half>.Shared.Rent(timeMajorLogMel.Length);
        try
        {
            for (var i = 0; i < timeMajorLogMel.Length; i++)
            {
                halves[i] = (Half)timeMajorLogMel[i];
            }

            // The file is little-endian, as are the machines TorchSharp runs on.
            _writer.Write(MemoryMarshal.AsBytes(halves.AsSpan(0, timeMajorLogMel.Length)));
        }
        finally
        {
            ArrayPool<Half>.Shared.Return(halves);
        }

        _entries.Add(new LogMelCacheEntry(name, bytes, ticks, samples, timeMajorLogMel.Length / _frontend.MelBins, offset));
    }

    /// <summary>Writes the index and header and moves the file to its place; returns the file's size in bytes.</summary>
    public long Complete()
    {
        var indexOffset = _stream.Position;
        foreach (var entry in _entries)
        {
            _writer.Write(entry.FileName);
            _writer.Write(entry.SourceBytes);
            _writer.Write(entry.SourceModifiedTicks);
            _writer.Write(entry.Samples);
            _writer.Write(entry.Frames);
            _writer.Write(entry.Offset);
        }

        var size = _stream.Position;
        _stream.Position = 0;
        WriteHeader(_entries.Count, indexOffset);
        _writer.Flush();
        _stream.Flush(flushToDisk: true);
        _writer.Dispose();
        File.Move(_staging, _path, overwrite: true);
        _completed = true;
        return size;
    }

    public void Dispose()
    {
        _writer.Dispose();
        if (!_completed && File.Exists(_staging))
        {
            File.Delete(_staging);
        }
    }

    private void WriteHeader(int count, long indexOffset)
    {
        _writer.Write(LogMelCacheFile.Magic);
        _writer.Write(LogMelCacheFile.Version);
        _writer.Write(_frontend.SampleRate);
        _writer.Write(_frontend.NFft);
        _writer.Write(_frontend.Hop);
        _writer.Write(_frontend.MelBins);
        _writer.Write(_frontend.FMin);
        _writer.Write(_frontend.FMax);
        _writer.Write(LogMelCacheFile.Float16);
        _writer.Write(count);
        _writer.Write(indexOffset);
        _writer.Write(new byte[LogMelCacheFile.HeaderBytes - 60]);
    }
}
