using System.Text;

namespace CaptionDaemon.Training.Distillation;

/// <summary>
/// What a teacher said about each clip of a clip set, in clip order: its beam-search caption (word ids, no
/// &lt;start&gt;/&lt;end&gt;), its audio target (the pooled embedding, or the encoder's whole output sequence when
/// <see cref="AudioFrames"/>) and, when asked for, its top-k next-token distribution at
/// every step of that caption (caption length + 1 steps, the last one predicting &lt;end&gt;). Written and read by
/// <see cref="TeacherTargetCache"/>.
/// </summary>
internal sealed class TeacherTargets
{
    private const string Magic = "captiond-kd-targets";
    /// <summary>2 added <see cref="AudioFrames"/>; files of version 1 hold pooled embeddings and are still read.</summary>
    private const int FormatVersion = 2;

    private readonly int[][] _captions;
    private readonly float[][] _embeddings;
    private readonly (int[] Ids, float[] Probabilities)[]? _distributions;

    public TeacherTargets(string key, IReadOnlyList<string> clipIds, int[][] captions, float[][] embeddings, int topK, (int[] Ids, float[] Probabilities)[]? distributions, bool audioFrames = false)
    {
        ArgumentNullException.ThrowIfNull(clipIds);
        ArgumentNullException.ThrowIfNull(captions);
        ArgumentNullException.ThrowIfNull(embeddings);
        if (captions.Length != clipIds.Count || embeddings.Length != clipIds.Count || (distributions is not null && distributions.Length != clipIds.Count))
        {
            throw new ArgumentException($"Teacher targets need one caption, embedding and distribution per clip ({clipIds.Count} clips).");
        }

        if ((topK > 0) != (distributions is not null))
        {
            throw new ArgumentException("Token distributions are given exactly when top-k is positive.", nameof(distributions));
        }

        Key = key;
        ClipIds = clipIds;
        _captions = captions;
        _embeddings = embeddings;
        TopK = topK;
        _distributions = distributions;
        AudioFrames = audioFrames;
        EmbeddingDim = embeddings.Length == 0 ? 0 : embeddings[0].Length;
    }

    /// <summary>The cache key these targets were computed under (teacher identity, clips, settings).</summary>
    public string Key { get; }

    public IReadOnlyList<string> ClipIds { get; }

    public int Count => ClipIds.Count;

    /// <summary>Size of each clip's audio target (<see cref="Embedding"/>).</summary>
    public int EmbeddingDim { get; }

    /// <summary>The audio targets are encoder output sequences (frames x d_model, flattened), not pooled embeddings.</summary>
    public bool AudioFrames { get; }

    /// <summary>Token probabilities kept per step; 0 when no distributions were computed.</summary>
    public int TopK { get; }

    public bool HasDistributions => _distributions is not null;

    /// <summary>The teacher's beam caption of clip <paramref name="clip"/>.</summary>
    public int[] Caption(int clip) => _captions[clip];

    /// <summary>The teacher's audio target of clip <paramref name="clip"/>: pooled embedding or flattened output sequence.</summary>
    public float[] Embedding(int clip) => _embeddings[clip];

    /// <summary>Top-k ids and probabilities, row-major <c>[Caption(clip).Length + 1, TopK]</c>.</summary>
    public (int[] Ids, float[] Probabilities) Distribution(int clip) =>
        _distributions?[clip] ?? throw new InvalidOperationException("These teacher targets hold no token distributions (computed without top-k).");

    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var staging = path + ".writing";
        using (var stream = File.Create(staging))
        using (var writer = new BinaryWriter(stream, Encoding.UTF8))
        {
            writer.Write(Magic);
            writer.Write(FormatVersion);
            writer.Write(Key);
            writer.Write(Count);
            writer.Write(EmbeddingDim);
            writer.Write(TopK);
            writer.Write(AudioFrames);
            for (var i = 0; i < Count; i++)
            {
                writer.Write(ClipIds[i]);
                writer.Write(_captions[i].Length);
                foreach (var id in _captions[i])
                {
                    writer.Write(id);
                }

                foreach (var value in _embeddings[i])
                {
                    writer.Write(value);
                }

                if (_distributions is not null)
                {
                    var (ids, probabilities) = _distributions[i];
                    foreach (var id in ids)
                    {
                        writer.Write(id);
                    }

                    foreach (var p in probabilities)
                    {
                        writer.Write(p);
                    }
                }
            }
        }

        File.Move(staging, path, overwrite: true);
    }

    /// <summary>Reads a file written by <see cref="Save"/>; null when it is missing or was written under another key.</summary>
    /// <exception cref="InvalidDataException">The file is not a targets file or is truncated.</exception>
    public static TeacherTargets? TryLoad(string path, string expectedKey)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            using var stream = File.OpenRead(path);
            using var reader = new BinaryReader(stream, Encoding.UTF8);
            var version = reader.ReadString() == Magic ? reader.ReadInt32() : -1;
            if (version is not (1 or FormatVersion))
            {
                throw new InvalidDataException($"{path} is not a teacher targets file of format 1 or {FormatVersion}.");
            }

            var key = reader.ReadString();
            if (key != expectedKey)
            {
                return null;
            }

            var count = reader.ReadInt32();
            var embeddingDim = reader.ReadInt32();
            var topK = reader.ReadInt32();
            var audioFrames = version >= 2 && reader.ReadBoolean();
            var ids = new string[count];
            var captions = new int[count][];
            var embeddings = new float[count][];
            var distributions = topK > 0 ? new (int[], float[])[count] : null;
            for (var i = 0; i < count; i++)
            {
                ids[i] = reader.ReadString();
                captions[i] = new int[reader.ReadInt32()];
                for (var j = 0; j < captions[i].Length; j++)
                {
                    captions[i][j] = reader.ReadInt32();
                }

                embeddings[i] = new float[embeddingDim];
                for (var j = 0; j < embeddingDim; j++)
                {
                    embeddings[i][j] = reader.ReadSingle();
                }

                if (distributions is not null)
                {
                    var size = (captions[i].Length + 1) * topK;
                    var top = new int[size];
                    var probabilities = new float[size];
                    for (var j = 0; j < size; j++)
                    {
                        top[j] = reader.ReadInt32();
                    }

                    for (var j = 0; j < size; j++)
                    {
                        probabilities[j] = reader.ReadSingle();
                    }

                    distributions[i] = (top, probabilities);
                }
            }

            return new TeacherTargets(key, ids, captions, embeddings, topK, distributions, audioFrames);
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException($"{path} is truncated; delete it to recompute the teacher targets.", ex);
        }
    }
}
