using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace CaptionDaemon.Training.Models;

/// <summary>
/// Multi-head scaled dot-product attention with separate query, key, value and output projections (with bias).
/// Keys and values are handled in the split-head layout <c>[B, heads, S, head_dim]</c>, the layout of the KV cache
/// and of the ONNX decoder step, so one code path serves teacher forcing, incremental steps and cross-attention.
/// </summary>
internal sealed class MultiHeadAttention : Module
{
    private readonly Linear _query;
    private readonly Linear _key;
    private readonly Linear _value;
    private readonly Linear _output;
    private readonly int _heads;
    private readonly int _headDim;
    private readonly TorchSharp.Scalar _scoreScale;

    public MultiHeadAttention(int dModel, int heads)
        : base(nameof(MultiHeadAttention))
    {
        _heads = heads;
        _headDim = dModel / heads;
        _scoreScale = (1.0 / Math.Sqrt(_headDim)).ToScalar();
        _query = Linear(dModel, dModel);
        _key = Linear(dModel, dModel);
        _value = Linear(dModel, dModel);
        _output = Linear(dModel, dModel);
        RegisterComponents();
    }

    internal Linear Query => _query;

    internal Linear Key => _key;

    internal Linear Value => _value;

    internal Linear Output => _output;

    internal int Heads => _heads;

    internal int HeadDim => _headDim;

    /// <summary>Projects <c>[B, S, d]</c> to keys <c>[B, heads, S, head_dim]</c>.</summary>
    public Tensor Keys(Tensor source) => SplitHeads(_key.forward(source));

    /// <summary>Projects <c>[B, S, d]</c> to values <c>[B, heads, S, head_dim]</c>.</summary>
    public Tensor Values(Tensor source) => SplitHeads(_value.forward(source));

    /// <summary>
    /// Attends queries from <paramref name="x"/> <c>[B, L, d]</c> over split-head <paramref name="keys"/> and
    /// <paramref name="values"/> <c>[B, heads, S, head_dim]</c>; <paramref name="mask"/> is added to the scores
    /// (<c>[L, S]</c>, -inf where a query must not look) or null. Returns <c>[B, L, d]</c>.
    /// </summary>
    public Tensor Attend(Tensor x, Tensor keys, Tensor values, Tensor? mask)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(keys);
        using var scope = NewDisposeScope();
        var queries = SplitHeads(_query.forward(x));
        var scores = matmul(queries, keys.transpose(-2, -1)).mul(_scoreScale);
        if (mask is not null)
        {
            scores = scores.Plus(mask);
        }

        var context = matmul(functional.softmax(scores, -1), values);        // [B, heads, L, head_dim]
        var merged = context.transpose(1, 2).reshape(x.shape[0], x.shape[1], _heads * _headDim);
        return _output.forward(merged).MoveToOuterDisposeScope();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _scoreScale.Dispose();
        }

        base.Dispose(disposing);
    }

    private Tensor SplitHeads(Tensor x) => x.view(x.shape[0], x.shape[1], _heads, _headDim).transpose(1, 2);
}
