using CaptionDaemon.Training.Data;
using CaptionDaemon.Training.Distillation;
using CaptionDaemon.Training.Incremental;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Text;
using CaptionDaemon.Training.Training;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Tests.Incremental;

/// <summary>
/// The KD terms of an update on rehearsal clips whose targets the trained base computed itself (greedy captions, encoder
/// output sequences, full next-token distributions): with the student equal to the teacher, audio-KD is zero and token-KD is
/// at its minimum, the teacher's entropy (its KL part is zero); sequence-KD is the teacher's own negative
/// log-likelihood of its captions. A perturbed student makes audio-KD positive and both cross-entropies larger.
/// </summary>
public sealed class IncrementalKdTests(IncrementalFixture fixture) : IClassFixture<IncrementalFixture>
{
    private const int WindowSamples = 32000;

    [Fact]
    public void Loss_StudentIsTeacherThenPerturbed_AudioKdZeroThenPositiveTokenKdAtEntropyThenAbove()
    {
        using var teacher = CaptionModel.LoadCheckpoint(fixture.BaseCheckpoint);
        teacher.eval();
        var vocabulary = Vocabulary.Load(Path.Combine(fixture.BaseCheckpoint, Vocabulary.FileName));
        var clips = ClipSet.Load(ClothoDataset.Load(fixture.TaskA, ClothoDataset.Development), vocabulary, 10, 2, CancellationToken.None);
        var (targets, entropy, ownNll) = OwnTargets(teacher, clips);
        var pool = Enumerable.Range(0, clips.Count).Select(i => new PoolClip(clips, targets, i, Labelled: true)).ToArray();
        var weights = new DistillationWeights(0, 1, 1, 1);
        using var audioKd = new EncoderOutputMse();

        var same = Terms(teacher, audioKd, pool, weights);
        using var student = VocabularyGrowth.Widen(teacher, vocabulary.Count);
        using (no_grad())
        {
            manual_seed(3);
            foreach (var parameter in student.parameters())
            {
                parameter.add_(randn_like(parameter) * 0.3);
            }
        }

        student.eval();
        var perturbed = Terms(student, audioKd, pool, weights);

        Assert.Equal(0, same.Encoder, 1e-9);
        Assert.Equal(entropy, same.Token, 1e-4);
        Assert.Equal(ownNll, same.Sequence, 1e-4);
        Assert.True(perturbed.Encoder > 1e-4, $"audio-KD of a perturbed student: {perturbed.Encoder}");
        Assert.True(perturbed.Token > entropy + 1e-3, $"token-KD {perturbed.Token} against the entropy {entropy}");
        Assert.True(perturbed.Sequence > ownNll + 1e-3, $"sequence-KD {perturbed.Sequence} against the teacher's own {ownNll}");
    }

    [Fact]
    public void Loss_NewClipsOnly_HasNoKdTerms()
    {
        using var model = CaptionModel.LoadCheckpoint(fixture.BaseCheckpoint);
        model.eval();
        var vocabulary = Vocabulary.Load(Path.Combine(fixture.BaseCheckpoint, Vocabulary.FileName));
        var clips = ClipSet.Load(ClothoDataset.Load(fixture.TaskA, ClothoDataset.Development), vocabulary, 10, 2, CancellationToken.None);
        var pool = Enumerable.Range(0, clips.Count).Select(i => new PoolClip(clips, null, i, Labelled: true)).ToArray();
        using var audioKd = new EncoderOutputMse();

        var terms = Terms(model, audioKd, pool, new DistillationWeights(1, 1, 1, 1));

        Assert.True(terms.Supervised > 0);
        Assert.Equal(terms.Supervised, terms.Loss, 1e-5);
        Assert.Equal(0, terms.Sequence);
        Assert.Equal(0, terms.Encoder);
        Assert.Equal(0, terms.Token);
    }

    private static DistillationStepResult Terms(CaptionModel model, EncoderOutputMse audioKd, PoolClip[] pool, DistillationWeights weights)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var (loss, terms) = IncrementalStep.Loss(model, audioKd, pool, weights, WindowSamples, 10, new Random(1));
        return terms with { Loss = loss.item<float>() };
    }

    /// <summary>The model's greedy captions, encoder output sequences and full distributions; the mean entropy and NLL over the caption steps.</summary>
    private static (TeacherTargets Targets, double Entropy, double OwnNll) OwnTargets(CaptionModel model, ClipSet clips)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var vocab = model.Config.VocabSize;
        var audio = new float[clips.Count * WindowSamples];
        for (var i = 0; i < clips.Count; i++)
        {
            clips.CopyWindow(i, audio.AsSpan(i * WindowSamples, WindowSamples), random: null);
        }

        var batch = tensor(audio, [clips.Count, WindowSamples]);
        var captions = model.GreedyDecode(batch, 9);
        var embeddings = model.Encode(batch).Memory.flatten(1).data<float>().ToArray();
        var dim = embeddings.Length / clips.Count;
        var distributions = new (int[], float[])[clips.Count];
        double entropySum = 0, nllSum = 0;
        var steps = 0;
        for (var i = 0; i < clips.Count; i++)
        {
            var inputs = new long[] { Vocabulary.Start }.Concat(captions[i].Select(t => (long)t)).ToArray();
            var probabilities = nn.functional.softmax(model.forward(batch.narrow(0, i, 1), tensor(inputs, [1, inputs.Length])), -1).data<float>().ToArray();
            var ids = new int[inputs.Length * vocab];
            for (var s = 0; s < inputs.Length; s++)
            {
                for (var v = 0; v < vocab; v++)
                {
                    ids[(s * vocab) + v] = v;
                    var p = (double)probabilities[(s * vocab) + v];
                    entropySum -= p > 0 ? p * Math.Log(p) : 0;
                }

                var target = s < captions[i].Length ? captions[i][s] : Vocabulary.End;
                nllSum -= Math.Log(probabilities[(s * vocab) + target]);
                steps++;
            }

            distributions[i] = (ids, probabilities);
        }

        var targets = new TeacherTargets(
            "own", [.. clips.Clips.Select(c => c.Id)], captions, [.. Enumerable.Range(0, clips.Count).Select(i => embeddings.AsSpan(i * dim, dim).ToArray())], vocab, distributions, audioFrames: true);
        return (targets, entropySum / steps, nllSum / steps);
    }
}
