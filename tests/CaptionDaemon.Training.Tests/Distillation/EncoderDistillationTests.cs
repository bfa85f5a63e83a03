using CaptionDaemon.Training.Distillation;
using CaptionDaemon.Training.Models;
using CaptionDaemon.Training.Tests.Models;
using static TorchSharp.torch;

namespace CaptionDaemon.Training.Tests.Distillation;

public sealed class EncoderDistillationTests
{
    [Fact]
    public void Mse_IdentityHeads_IsTheMeanSquaredDifference()
    {
        using var scope = NewDisposeScope();
        using var kd = new MseEncoderDistillation(2, 2, 2);
        SetIdentity(kd.StudentHead);
        SetIdentity(kd.TeacherHead);

        var loss = kd.forward(tensor(new float[,] { { 1, 2 }, { 3, 4 } }), tensor(new float[,] { { 0, 2 }, { 3, 2 } }));

        // Differences 1, 0, 0, 2: squares sum to 5 over 4 elements.
        Assert.Equal(1.25f, loss.item<float>(), 5);
    }

    [Fact]
    public void Contrastive_KnownTwoByTwoCaseWithScaleOne_IsTheSymmetricInfoNce()
    {
        using var scope = NewDisposeScope();
        using var kd = new ContrastiveEncoderDistillation(2, 2, 2, initialScale: 1);
        SetIdentity(kd.StudentHead);
        SetIdentity(kd.TeacherHead);

        // Student rows normalise to (1,0), (0,1); teacher rows to (1,0), (0.6,0.8): logits [[1, 0.6], [0, 0.8]].
        var loss = kd.forward(tensor(new float[,] { { 2, 0 }, { 0, 5 } }), tensor(new float[,] { { 3, 0 }, { 3, 4 } }));

        static double Ce(double own, double other) => -own + Math.Log(Math.Exp(own) + Math.Exp(other));
        var rows = (Ce(1, 0.6) + Ce(0.8, 0)) / 2;
        var columns = (Ce(1, 0) + Ce(0.8, 0.6)) / 2;
        Assert.Equal((rows + columns) / 2, loss.item<float>(), 5);
    }

    [Fact]
    public void Contrastive_LargeLogScale_IsClampedAtMaxScale()
    {
        using var scope = NewDisposeScope();
        using var kd = new ContrastiveEncoderDistillation(2, 2, 2, initialScale: 1e6);
        SetIdentity(kd.StudentHead);
        SetIdentity(kd.TeacherHead);

        var loss = kd.forward(tensor(new float[,] { { 1, 0 }, { 0, 1 } }), tensor(new float[,] { { 0, 1 }, { 1, 0 } }));

        // Every clip matches the other clip's teacher: CE = -0 + log(e^0 + e^100) ~ 100 in both directions.
        Assert.Equal(ContrastiveEncoderDistillation.MaxScale, loss.item<float>(), 2);
    }

    [Fact]
    public void Contrastive_Backward_ReachesStudentEncoderHeadsAndScaleButNotTheTeacher()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(5);
        using var student = new CaptionModel(TinyModels.Config());
        using var teacher = new CaptionModel(TinyModels.Config() with { EncoderChannels = [8, 16] });
        using var kd = new ContrastiveEncoderDistillation(student.Config.EmbeddingDim, teacher.Config.EmbeddingDim, 32);
        var audio = stack([tensor(TinyModels.SinesAndNoise(8000, 1, 300)), tensor(TinyModels.SinesAndNoise(8000, 2, 2000)), tensor(TinyModels.SinesAndNoise(8000, 3, 5000))]);
        var (_, teacherEmbedding) = teacher.Encode(audio);
        var (_, studentEmbedding) = student.Encode(audio);
        Assert.True(teacherEmbedding.requires_grad, "the teacher's embedding carries a graph, so detaching is what keeps gradients out");

        kd.forward(studentEmbedding, teacherEmbedding).backward();

        Assert.All(teacher.parameters(), p => Assert.True(p.grad is null || p.grad.abs().sum().item<float>() == 0));
        Assert.True(student.Encoder!.Convs[0].weight!.grad!.abs().sum().item<float>() > 0);
        Assert.True(kd.StudentHead.weight!.grad!.abs().sum().item<float>() > 0);
        Assert.True(kd.TeacherHead.weight!.grad!.abs().sum().item<float>() > 0);
        Assert.NotEqual(0f, kd.LogScale.grad!.item<float>());
        Assert.True(student.Decoder.parameters().All(p => p.grad is null), "L_enc does not touch the decoder");
    }

    [Fact]
    public void Contrastive_OptimizerStep_ChangesTheLearnableScale()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(2);
        using var kd = new ContrastiveEncoderDistillation(4, 6, 8);
        using var optimizer = optim.Adam(kd.parameters(), 0.01);
        var before = kd.LogScale.item<float>();

        kd.forward(randn(4, 4), randn(4, 6)).backward();
        optimizer.step();

        Assert.NotEqual(before, kd.LogScale.item<float>());
    }

    [Fact]
    public void TokenLoss_KnownDistributions_IsTheCrossEntropyToTheRenormalisedTopK()
    {
        using var scope = NewDisposeScope();
        // One row, two steps, vocabulary 3; the second step is padding (probability 0) and must not count.
        var logits = tensor(new float[] { 0, 1, 2, 5, 5, 5 }, [1, 2, 3]);
        var ids = tensor(new long[] { 2, 1, 0, 0 }, [1, 2, 2]);
        var probabilities = tensor(new float[] { 0.6f, 0.2f, 0, 0 }, [1, 2, 2]);

        var loss = DistillationStep.TokenLoss(logits, ids, probabilities);

        var logZ = Math.Log(Math.Exp(0) + Math.Exp(1) + Math.Exp(2));
        var expected = -((0.75 * (2 - logZ)) + (0.25 * (1 - logZ)));
        Assert.Equal(expected, loss.item<float>(), 5);
    }

    [Fact]
    public void Create_None_GivesNoModuleAndUnknownKindIsRefused()
    {
        Assert.Null(EncoderDistillation.Create(EncoderDistillation.None, 4, 4));
        using var mse = EncoderDistillation.Create(EncoderDistillation.Mse, 4, 4);
        Assert.IsType<MseEncoderDistillation>(mse);
        Assert.Throws<ArgumentException>(() => EncoderDistillation.Create("cosine", 4, 4));
    }

    private static void SetIdentity(TorchSharp.Modules.Linear head)
    {
        using var noGrad = no_grad();
        head.weight!.copy_(eye(2));
        head.bias!.zero_();
    }
}
