using CaptionDaemon.Training.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CaptionDaemon.Training.Distillation;

/// <summary>
/// Encoder-level KD of Xu et al. (2024): the student's pooled embedding f_s (time-mean of its CNN features) and the
/// teacher's embedding f_t are each projected by their own linear head to a shared size; the loss compares the
/// projections. The heads are trained with the student and are not part of the exported model.
/// </summary>
internal static class EncoderDistillation
{
    public const string None = "none";
    public const string Mse = "mse";
    public const string Contrastive = "contrastive";

    /// <summary>The projection size of the authors' code.</summary>
    public const int DefaultSharedDim = 1024;

    public static readonly string[] Kinds = [None, Mse, Contrastive];

    /// <summary>The loss module of <paramref name="kind"/>; null for <see cref="None"/>.</summary>
    public static Module<Tensor, Tensor, Tensor>? Create(string kind, int studentDim, int teacherDim, int sharedDim = DefaultSharedDim) => kind switch
    {
        None => null,
        Mse => new MseEncoderDistillation(studentDim, teacherDim, sharedDim),
        Contrastive => new ContrastiveEncoderDistillation(studentDim, teacherDim, sharedDim),
        _ => throw new ArgumentException($"--enc-kd must be one of {string.Join(", ", Kinds)}, not '{kind}'."),
    };
}

/// <summary>
/// MSE encoder KD: mean over batch and projection of (W_s f_s - W_t f_t)^2, i.e. the paper's squared distance divided
/// by the shared size (the scale of PyTorch's <c>mse_loss</c>). The teacher embedding is detached.
/// </summary>
internal sealed class MseEncoderDistillation : Module<Tensor, Tensor, Tensor>
{
    private readonly Linear _studentHead;
    private readonly Linear _teacherHead;

    public MseEncoderDistillation(int studentDim, int teacherDim, int sharedDim)
        : base(nameof(MseEncoderDistillation))
    {
        _studentHead = Linear(studentDim, sharedDim);
        _teacherHead = Linear(teacherDim, sharedDim);
        RegisterComponents();
    }

    internal Linear StudentHead => _studentHead;

    internal Linear TeacherHead => _teacherHead;

    public override Tensor forward(Tensor studentEmbedding, Tensor teacherEmbedding)
    {
        ArgumentNullException.ThrowIfNull(studentEmbedding);
        ArgumentNullException.ThrowIfNull(teacherEmbedding);
        using var scope = NewDisposeScope();
        var student = _studentHead.forward(studentEmbedding);
        var teacher = _teacherHead.forward(teacherEmbedding.detach());
        return functional.mse_loss(student, teacher).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Contrastive encoder KD: z_s and z_t are the L2-normalised projections, logits = s z_s z_t^T over the batch with a
/// learnable scale s = exp(log s) (initialised to 1/0.07 and clamped at 100 as in CLIP, so it cannot blow up), and the
/// loss is the symmetric cross-entropy against the identity: each clip's student embedding must pick its own teacher
/// embedding among the batch's, and the other way round. The teacher embedding is detached.
/// </summary>
internal sealed class ContrastiveEncoderDistillation : Module<Tensor, Tensor, Tensor>
{
    /// <summary>Upper bound of the logit scale.</summary>
    public const double MaxScale = 100;

    private readonly Linear _studentHead;
    private readonly Linear _teacherHead;
    private readonly Parameter _logScale;
    private readonly Scalar _maxLogScale = Math.Log(MaxScale).ToScalar();

    public ContrastiveEncoderDistillation(int studentDim, int teacherDim, int sharedDim, double initialScale = 1 / 0.07)
        : base(nameof(ContrastiveEncoderDistillation))
    {
        _studentHead = Linear(studentDim, sharedDim);
        _teacherHead = Linear(teacherDim, sharedDim);
        _logScale = Parameter(tensor((float)Math.Log(initialScale)));
        RegisterComponents();
    }

    internal Linear StudentHead => _studentHead;

    internal Linear TeacherHead => _teacherHead;

    /// <summary>log s, the learnable logit scale.</summary>
    internal Parameter LogScale => _logScale;

    public override Tensor forward(Tensor studentEmbedding, Tensor teacherEmbedding)
    {
        ArgumentNullException.ThrowIfNull(studentEmbedding);
        ArgumentNullException.ThrowIfNull(teacherEmbedding);
        using var scope = NewDisposeScope();
        var student = functional.normalize(_studentHead.forward(studentEmbedding), p: 2, dim: 1);
        var teacher = functional.normalize(_teacherHead.forward(teacherEmbedding.detach()), p: 2, dim: 1);
        var scale = _logScale.clamp(max: _maxLogScale).exp();
        var logits = scale * student.matmul(teacher.t());
        var identity = arange(logits.shape[0], dtype: ScalarType.Int64, device: logits.device);
        var loss = functional.cross_entropy(logits, identity).Plus(functional.cross_entropy(logits.t(), identity)).mul(HeldScalars.Half);
        return loss.MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _maxLogScale.Dispose();
        }

        base.Dispose(disposing);
    }
}
