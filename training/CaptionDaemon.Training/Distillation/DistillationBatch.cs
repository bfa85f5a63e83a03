using CaptionDaemon.Training.Training;

namespace CaptionDaemon.Training.Distillation;

/// <summary>One clip of a distillation pool: a clip of a <see cref="ClipSet"/>, its teacher targets, and whether its human captions are used.</summary>
internal readonly record struct PoolClip(ClipSet Set, TeacherTargets? Targets, int Index, bool Labelled);

/// <summary>
/// The examples of one distillation step: the audio windows of its clips (labelled and audio-only together, so the
/// encoder sees them in one pass), the human caption rows of the labelled clips, one teacher-caption row per clip, the
/// teacher's embeddings and, for token-level KD, the teacher's top-k distributions aligned with the teacher rows.
/// </summary>
internal sealed class DistillationBatch
{
    private DistillationBatch(float[] audio, int clips, CaptionBatch? human, CaptionBatch? teacher, float[]? teacherEmbeddings, int teacherEmbeddingDim, bool teacherAudioFrames, long[]? topIds, float[]? topProbabilities, int topK)
    {
        TeacherAudioFrames = teacherAudioFrames;
        Audio = audio;
        Clips = clips;
        Human = human;
        Teacher = teacher;
        TeacherEmbeddings = teacherEmbeddings;
        TeacherEmbeddingDim = teacherEmbeddingDim;
        TopIds = topIds;
        TopProbabilities = topProbabilities;
        TopK = topK;
    }

    /// <summary>Windows, row-major <c>[Clips, WindowSamples]</c>.</summary>
    public float[] Audio { get; }

    public int Clips { get; }

    public int WindowSamples => Audio.Length / Clips;

    /// <summary>Rows of the human captions (null when no clip is labelled); <see cref="CaptionBatch.ClipOfRow"/> indexes <see cref="Audio"/>.</summary>
    public CaptionBatch? Human { get; }

    /// <summary>One row per clip with the teacher's beam caption; null without teacher targets.</summary>
    public CaptionBatch? Teacher { get; }

    /// <summary>Row-major <c>[Clips, TeacherEmbeddingDim]</c>; null without teacher targets.</summary>
    public float[]? TeacherEmbeddings { get; }

    public int TeacherEmbeddingDim { get; }

    /// <summary>The teacher's audio targets are encoder output sequences (<see cref="TeacherTargets.AudioFrames"/>), to compare with the student's.</summary>
    public bool TeacherAudioFrames { get; }

    /// <summary>Row-major <c>[Teacher.Rows, Teacher.Length, TopK]</c>, padded steps with probability 0; null without distributions.</summary>
    public long[]? TopIds { get; }

    public float[]? TopProbabilities { get; }

    public int TopK { get; }

    /// <summary>
    /// A batch of <paramref name="clips"/> (random crops from <paramref name="random"/>); teacher rows and embeddings are
    /// included when every clip has targets, distributions when <paramref name="withDistributions"/>.
    /// Captions are cut to <paramref name="maxWords"/> words.
    /// </summary>
    public static DistillationBatch Create(IReadOnlyList<PoolClip> clips, int windowSamples, int maxWords, bool withDistributions, Random random)
    {
        ArgumentNullException.ThrowIfNull(clips);
        ArgumentOutOfRangeException.ThrowIfZero(clips.Count);
        var audio = new float[clips.Count * windowSamples];
        var human = new List<(int Clip, int[] Words)>();
        var teacher = new List<(int Clip, int[] Words)>();
        var withTargets = clips.All(c => c.Targets is not null);
        var embeddingDim = withTargets ? clips[0].Targets!.EmbeddingDim : 0;
        var audioFrames = withTargets && clips[0].Targets!.AudioFrames;
        var embeddings = withTargets ? new float[clips.Count * embeddingDim] : null;
        for (var i = 0; i < clips.Count; i++)
        {
            var clip = clips[i];
            // Frame targets were computed on the clip's first window; a random crop would no longer line up with them.
            clip.Set.CopyWindow(clip.Index, audio.AsSpan(i * windowSamples, windowSamples), audioFrames ? null : random);
            if (clip.Labelled)
            {
                foreach (var words in clip.Set.CaptionIds[clip.Index])
                {
                    human.Add((i, words));
                }
            }

            if (withTargets)
            {
                teacher.Add((i, clip.Targets!.Caption(clip.Index).Take(maxWords).ToArray()));
                clip.Targets.Embedding(clip.Index).CopyTo(embeddings.AsSpan(i * embeddingDim, embeddingDim));
            }
        }

        var teacherBatch = withTargets ? CaptionBatch.Create(audio, clips.Count, teacher) : null;
        long[]? topIds = null;
        float[]? topProbabilities = null;
        var topK = 0;
        if (withDistributions && teacherBatch is not null)
        {
            topK = clips[0].Targets!.TopK;
            if (topK == 0)
            {
                throw new ArgumentException("Token-level KD was asked for but the teacher targets hold no distributions.");
            }

            var length = teacherBatch.Length;
            topIds = new long[teacherBatch.Rows * length * topK];
            topProbabilities = new float[topIds.Length];
            for (var r = 0; r < teacherBatch.Rows; r++)
            {
                var clip = clips[r];
                var (ids, probabilities) = clip.Targets!.Distribution(clip.Index);
                var steps = Math.Min(teacher[r].Words.Length + 1, ids.Length / topK);
                for (var s = 0; s < steps * topK; s++)
                {
                    topIds[(r * length * topK) + s] = ids[s];
                    topProbabilities[(r * length * topK) + s] = probabilities[s];
                }
            }
        }

        return new DistillationBatch(
            audio, clips.Count, human.Count > 0 ? CaptionBatch.Create(audio, clips.Count, human) : null, teacherBatch, embeddings, embeddingDim, audioFrames, topIds, topProbabilities, topK);
    }
}
