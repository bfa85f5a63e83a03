using CaptionDaemon.Training.Data;

namespace CaptionDaemon.Benchmarks.Streams;

/// <summary>
/// The real demo scenes of a bundle, end to end, played in a loop: every simulated source reads the tape from its own
/// starting point, so that different sources send different audio (another scene, or the same scene shifted).
/// </summary>
internal sealed class SceneTape
{
    private readonly float[] _samples;

    private SceneTape(float[] samples, int chunkSamples, int files)
    {
        _samples = samples;
        ChunkSamples = chunkSamples;
        Files = files;
    }

    /// <summary>Samples per chunk (100 ms).</summary>
    public int ChunkSamples { get; }

    /// <summary>Chunks on the tape before it loops.</summary>
    public int Chunks => _samples.Length / ChunkSamples;

    /// <summary>Scene files on the tape.</summary>
    public int Files { get; }

    /// <summary>Reads every WAV of <paramref name="folder"/> (in name order) at <paramref name="sampleRate"/>, cut to whole chunks.</summary>
    public static SceneTape Load(string folder, int sampleRate, int chunkSamples)
    {
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"The bundle has no samples/ folder ({folder}); the streams scenario plays its demo scenes.");
        }

        var files = Directory.EnumerateFiles(folder, "*.wav").Order(StringComparer.Ordinal).ToList();
        var scenes = files.Select(f => AudioDecoder.Decode(f, sampleRate)).ToList();
        var total = scenes.Sum(s => (long)s.Length) / chunkSamples * chunkSamples;
        if (total == 0)
        {
            throw new InvalidDataException($"No audio in {folder}: the streams scenario needs at least one 16 kHz WAV scene.");
        }

        var samples = new float[total];
        var at = 0;
        foreach (var scene in scenes)
        {
            var take = (int)Math.Min(scene.Length, total - at);
            scene.AsSpan(0, take).CopyTo(samples.AsSpan(at));
            at += take;
        }

        return new SceneTape(samples, chunkSamples, files.Count);
    }

    /// <summary>Chunk number <paramref name="index"/> of the looped tape (a view, no copy).</summary>
    public ReadOnlySpan<float> Chunk(long index) =>
        _samples.AsSpan((int)(index % Chunks) * ChunkSamples, ChunkSamples);

    /// <summary>A window's worth of tape from chunk <paramref name="firstChunk"/> on, copied into <paramref name="window"/>.</summary>
    public void CopyWindow(long firstChunk, Span<float> window)
    {
        var chunk = firstChunk;
        while (!window.IsEmpty)
        {
            var part = Chunk(chunk++);
            var take = Math.Min(part.Length, window.Length);
            part[..take].CopyTo(window);
            window = window[take..];
        }
    }
}
