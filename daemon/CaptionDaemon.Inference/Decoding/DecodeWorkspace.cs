using Microsoft.ML.OnnxRuntime;

namespace CaptionDaemon.Inference.Decoding;

/// <summary>Sizes of the decoder tensors, from the manifest and the encoder's frame count.</summary>
internal readonly record struct DecoderDims(int Layers, int Heads, int HeadDim, int DModel, int Vocab, int Frames, int MaxTokens);

/// <summary>
/// The preallocated buffers of one captioner, sized for up to <see cref="Capacity"/> hypotheses: the repeated encoder
/// memory, the cross-attention keys/values, two key/value caches used in turn (step t reads one and writes the
/// other, so past length t lives in buffer t % 2), the token and beam-index inputs and the log-probability output.
/// With CUDA the caches and cross keys/values live on the device. <see cref="StepPlan"/>s bind views of them per
/// number of hypotheses.
/// </summary>
internal sealed class DecodeWorkspace : IDisposable
{
    private const int MaxCachedPlans = 8;

    private readonly Dictionary<int, StepPlan> _plans = [];
    private readonly OrtAllocator? _deviceAllocator;
    private readonly OrtMemoryInfo? _deviceMemory;

    public DecodeWorkspace(int capacity, DecoderDims dims, InferenceSession crossKv, InferenceSession decoderStep, ExecutionProvider provider, int cudaDevice)
    {
        Capacity = capacity;
        Dims = dims;
        CrossKvSession = crossKv;
        DecoderStepSession = decoderStep;
        OnDevice = provider == ExecutionProvider.Cuda;

        long rowCross = (long)dims.Heads * dims.Frames * dims.HeadDim;
        long rowCache = (long)dims.Heads * dims.MaxTokens * dims.HeadDim;
        Memory = new HostTensor<float>(checked(capacity * dims.Frames * dims.DModel));
        Tokens = new HostTensor<long>(capacity);
        BeamIndex = new HostTensor<long>(capacity);
        Logprobs = new HostTensor<float>(checked(capacity * dims.Vocab));
        if (OnDevice)
        {
            _deviceMemory = new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, cudaDevice, OrtMemType.Default);
            _deviceAllocator = new OrtAllocator(decoderStep, _deviceMemory);
        }

        CrossK = Storage(dims.Layers * capacity * rowCross);
        CrossV = Storage(dims.Layers * capacity * rowCross);
        CacheK = [Storage(dims.Layers * capacity * rowCache), Storage(dims.Layers * capacity * rowCache)];
        CacheV = [Storage(dims.Layers * capacity * rowCache), Storage(dims.Layers * capacity * rowCache)];
    }

    public int Capacity { get; }

    public DecoderDims Dims { get; }

    /// <summary>True when caches live on a CUDA device: host inputs must then be re-bound (copied) before each run.</summary>
    public bool OnDevice { get; }

    public InferenceSession CrossKvSession { get; }

    public InferenceSession DecoderStepSession { get; }

    public HostTensor<float> Memory { get; }

    public HostTensor<long> Tokens { get; }

    public HostTensor<long> BeamIndex { get; }

    public HostTensor<float> Logprobs { get; }

    public ITensorStorage CrossK { get; }

    public ITensorStorage CrossV { get; }

    public ITensorStorage[] CacheK { get; }

    public ITensorStorage[] CacheV { get; }

    /// <summary>The bindings for <paramref name="hyps"/> hypotheses, created on first use and kept for the next calls.</summary>
    public StepPlan Plan(int hyps)
    {
        if (!_plans.TryGetValue(hyps, out var plan))
        {
            plan = new StepPlan(this, hyps);
            _plans.Add(hyps, plan);
        }

        return plan;
    }

    /// <summary>Bounds the plan cache; called between decodes, when no plan is in use.</summary>
    public void TrimPlans()
    {
        if (_plans.Count <= MaxCachedPlans)
        {
            return;
        }

        foreach (var plan in _plans.Values)
        {
            plan.Dispose();
        }

        _plans.Clear();
    }

    /// <summary>
    /// Moves the cross keys/values of the kept slots (each <paramref name="beam"/> consecutive rows) to the front, from
    /// the layout [layers, oldSlots*beam, ...] to [layers, kept*beam, ...], in place (host caches only). Every
    /// destination precedes its source and later sources, so a forward pass of overlapping moves is safe.
    /// </summary>
    public void CompactCross(int oldSlots, ReadOnlySpan<int> keptSlots, int beam)
    {
        if (OnDevice)
        {
            throw new InvalidOperationException("Cross keys/values on a device are not compacted.");
        }

        var row = Dims.Heads * Dims.Frames * Dims.HeadDim;
        var block = beam * row;
        foreach (var storage in (ReadOnlySpan<ITensorStorage>)[CrossK, CrossV])
        {
            var data = ((HostTensor<float>)storage).Span;
            var oldLayer = oldSlots * block;
            var newLayer = keptSlots.Length * block;
            for (var l = 0; l < Dims.Layers; l++)
            {
                for (var s = 0; s < keptSlots.Length; s++)
                {
                    data.Slice((l * oldLayer) + (keptSlots[s] * block), block).CopyTo(data.Slice((l * newLayer) + (s * block), block));
                }
            }
        }
    }

    public void Dispose()
    {
        foreach (var plan in _plans.Values)
        {
            plan.Dispose();
        }

        _plans.Clear();
        foreach (var s in (ReadOnlySpan<ITensorStorage>)[CrossK, CrossV, CacheK[0], CacheK[1], CacheV[0], CacheV[1], Memory, Tokens, BeamIndex, Logprobs])
        {
            s.Dispose();
        }

        _deviceAllocator?.Dispose();
        _deviceMemory?.Dispose();
    }

    private ITensorStorage Storage(long elements) =>
        _deviceAllocator is null ? new HostTensor<float>(checked((int)elements)) : new DeviceTensor(_deviceAllocator, elements);
}
