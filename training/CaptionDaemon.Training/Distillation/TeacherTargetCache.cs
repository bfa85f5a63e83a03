using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Training;

namespace CaptionDaemon.Training.Distillation;

/// <summary>How teacher targets are computed: beam width, top-k of the token distributions (0: none), windows per run.</summary>
internal sealed record TeacherTargetSettings
{
    /// <summary>Beam width of the pseudo-captions (the paper's teacher decodes with beam 3).</summary>
    public int Beam { get; init; } = 3;

    /// <summary>Token probabilities kept per decoding step for token-level KD; 0 computes none.</summary>
    public int TopK { get; init; }

    public int BatchSize { get; init; } = 16;

    /// <summary>
    /// The audio target is the encoder's output sequence (<c>memory</c>, frames x d_model, flattened) rather than the
    /// pooled embedding: audio-KD between an old and a new model of one architecture (Cappellazzo et al. 2023).
    /// </summary>
    public bool AudioFrames { get; init; }

    /// <summary>The settings as one line, for cache keys.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture, $"beam={Beam} top_k={TopK}{(AudioFrames ? " audio=frames" : string.Empty)}");
}

/// <summary>
/// Teacher targets computed once per (teacher, clip set, settings) and kept in a folder as
/// <c>targets-&lt;key&gt;.bin</c> (plus a readable <c>.json</c> description). The key hashes the teacher's identity
/// (its weights), its window, the settings, and every clip's id, path, size and modification time: a retrained
/// teacher, another data set or changed audio gives another key, so stale targets are never used. Any model that
/// <see cref="CaptionTeacher"/> opens can be the teacher, e.g. the previous student of an incremental update computing
/// captions and embeddings for its rehearsal clips.
/// </summary>
internal static class TeacherTargetCache
{
    /// <summary>The folder under the teacher's folder used when no cache folder is given.</summary>
    public const string DefaultFolderName = "kd-targets";

    public static string KeyOf(CaptionTeacher teacher, IReadOnlyList<CaptionedClip> clips, TeacherTargetSettings settings)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(clips);
        ArgumentNullException.ThrowIfNull(settings);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string value) => hash.AppendData(Encoding.UTF8.GetBytes(value + "\n"));
        Add(teacher.Identity);
        Add(string.Create(CultureInfo.InvariantCulture, $"window={teacher.WindowSamples} {settings.Describe()}"));
        foreach (var clip in clips)
        {
            var file = new FileInfo(clip.AudioPath);
            Add(string.Create(CultureInfo.InvariantCulture, $"{clip.Id}|{file.FullName}|{(file.Exists ? file.Length : -1)}|{(file.Exists ? file.LastWriteTimeUtc.Ticks : 0)}"));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..32];
    }

    /// <summary>The targets file of <paramref name="key"/> in <paramref name="cacheDirectory"/>.</summary>
    public static string PathOf(string cacheDirectory, string key) => Path.Combine(cacheDirectory, $"targets-{key}.bin");

    /// <summary>
    /// The targets of every clip of <paramref name="clips"/>: read from <paramref name="cacheDirectory"/> when computed
    /// before under the same key, otherwise computed with <paramref name="teacher"/> and saved there.
    /// </summary>
    public static TeacherTargets LoadOrCompute(
        CaptionTeacher teacher, ClipSet clips, TeacherTargetSettings settings, string cacheDirectory, Action<string>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        ArgumentNullException.ThrowIfNull(clips);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentException.ThrowIfNullOrEmpty(cacheDirectory);
        var key = KeyOf(teacher, clips.Clips, settings);
        var path = PathOf(cacheDirectory, key);
        if (TeacherTargets.TryLoad(path, key) is { } cached)
        {
            progress?.Invoke($"teacher targets of {cached.Count} clips read from {path}");
            return cached;
        }

        progress?.Invoke($"computing teacher targets (beam {settings.Beam}{(settings.TopK > 0 ? $", top-{settings.TopK} token distributions" : string.Empty)}) of {clips.Count} clips");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var targets = Compute(teacher, clips, settings, key, progress, cancellationToken);
        Directory.CreateDirectory(cacheDirectory);
        targets.Save(path);
        File.WriteAllText(Path.ChangeExtension(path, ".json"), JsonSerializer.Serialize(
            new
            {
                key,
                teacher = teacher.Source,
                teacher_identity = teacher.Identity,
                clips = clips.Count,
                first_clip = clips.Clips.Count > 0 ? clips.Clips[0].AudioPath : null,
                beam = settings.Beam,
                top_k = settings.TopK,
                audio_frames = settings.AudioFrames,
                seconds = Math.Round(clock.Elapsed.TotalSeconds, 1),
                created = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
            },
            _json));
        progress?.Invoke(FormattableString.Invariant($"teacher targets of {clips.Count} clips computed in {clock.Elapsed.TotalSeconds:0.0} s and saved to {path}"));
        return targets;
    }

    /// <summary>Runs the teacher over the first window of every clip (zero-padded when shorter).</summary>
    internal static TeacherTargets Compute(
        CaptionTeacher teacher, ClipSet clips, TeacherTargetSettings settings, string key, Action<string>? progress, CancellationToken cancellationToken)
    {
        if (settings.TopK > 0 && !teacher.HasTokenDistributions)
        {
            throw new ArgumentException($"Token-level KD needs the teacher's TorchSharp weights; {teacher.Source} has none (a bundle without checkpoint/).");
        }

        var window = teacher.WindowSamples;
        var captions = new int[clips.Count][];
        var embeddings = new float[clips.Count][];
        var distributions = settings.TopK > 0 ? new (int[], float[])[clips.Count] : null;
        var buffer = new float[settings.BatchSize * window];
        var reportEvery = Math.Max(settings.BatchSize, clips.Count / 10);
        for (var first = 0; first < clips.Count; first += settings.BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var count = Math.Min(settings.BatchSize, clips.Count - first);
            for (var i = 0; i < count; i++)
            {
                clips.CopyWindow(first + i, buffer.AsSpan(i * window, window), random: null);
            }

            var batchCaptions = teacher.Caption(buffer, count, settings.Beam, cancellationToken);
            var batchEmbeddings = teacher.Embed(buffer, count, settings.AudioFrames);
            var audioDim = batchEmbeddings.Length / count;
            var batchDistributions = distributions is null ? null : teacher.TokenDistributions(buffer, count, batchCaptions, settings.TopK);
            for (var i = 0; i < count; i++)
            {
                captions[first + i] = batchCaptions[i];
                embeddings[first + i] = batchEmbeddings.AsSpan(i * audioDim, audioDim).ToArray();
                if (distributions is not null)
                {
                    distributions[first + i] = batchDistributions![i];
                }
            }

            if ((first / settings.BatchSize) % Math.Max(1, reportEvery / settings.BatchSize) == 0 && first > 0)
            {
                progress?.Invoke($"  teacher targets {first + count}/{clips.Count}");
            }
        }

        return new TeacherTargets(key, clips.Clips.Select(c => c.Id).ToArray(), captions, embeddings, settings.TopK, distributions, settings.AudioFrames);
    }

    private static readonly JsonSerializerOptions _json = new() { WriteIndented = true };
}
