using Microsoft.ML.OnnxRuntime;

namespace CaptionDaemon.Inference.Decoding;

/// <summary>
/// Views and I/O bindings of a <see cref="DecodeWorkspace"/> for one number of hypotheses. The binding of decoder
/// step t is built once (past = cache t % 2 with length t, present = the other cache with length t + 1) and reused by
/// every later decode of the same size, so a step is a bare <see cref="InferenceSession.RunWithBinding"/>: no managed
/// allocation per token.
/// </summary>
internal sealed class StepPlan : IDisposable
{
    private const string TokensName = "tokens";
    private const string BeamIndexName = "beam_index";

    private readonly DecodeWorkspace _ws;
    private readonly List<IDisposable> _owned = [];
    private readonly OrtValue[] _cacheK;
    private readonly OrtValue[] _cacheV;
    private readonly OrtIoBinding?[] _steps;
    private readonly OrtValue _memory;
    private readonly OrtValue _crossK;
    private readonly OrtValue _crossV;
    private readonly OrtValue _tokens;
    private readonly OrtValue _beamIndex;
    private readonly OrtValue _logprobs;
    private OrtIoBinding? _crossBinding;

    public StepPlan(DecodeWorkspace ws, int hyps)
    {
        _ws = ws;
        Hyps = hyps;
        var d = ws.Dims;
        try
        {
            _memory = Own(ws.Memory.View([hyps, d.Frames, d.DModel]));
            _crossK = Own(ws.CrossK.View([d.Layers, hyps, d.Heads, d.Frames, d.HeadDim]));
            _crossV = Own(ws.CrossV.View([d.Layers, hyps, d.Heads, d.Frames, d.HeadDim]));
            _tokens = Own(ws.Tokens.View([hyps]));
            _beamIndex = Own(ws.BeamIndex.View([hyps]));
            _logprobs = Own(ws.Logprobs.View([hyps, d.Vocab]));
            _cacheK = new OrtValue[d.MaxTokens + 1];
            _cacheV = new OrtValue[d.MaxTokens + 1];
            for (var len = 0; len <= d.MaxTokens; len++)
            {
                long[] shape = [d.Layers, hyps, d.Heads, len, d.HeadDim];
                _cacheK[len] = Own(ws.CacheK[len % 2].View(shape));
                _cacheV[len] = Own(ws.CacheV[len % 2].View(shape));
            }

            _steps = new OrtIoBinding?[d.MaxTokens];
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int Hyps { get; }

    /// <summary>Runs cross_kv on the first <see cref="Hyps"/> rows of the workspace memory into the cross keys/values.</summary>
    public void RunCrossKv(RunOptions runOptions)
    {
        if (_crossBinding is null)
        {
            _crossBinding = Own(_ws.CrossKvSession.CreateIoBinding());
            _crossBinding.BindInput("memory", _memory);
            _crossBinding.BindOutput("cross_k", _crossK);
            _crossBinding.BindOutput("cross_v", _crossV);
        }
        else if (_ws.OnDevice)
        {
            // A host input bound to a device session is copied when bound: bind again to send this call's memory.
            _crossBinding.BindInput("memory", _memory);
        }

        _ws.CrossKvSession.RunWithBinding(runOptions, _crossBinding);
    }

    /// <summary>Runs decoder step <paramref name="step"/> (past length = step) with the current tokens and beam indices.</summary>
    public void RunStep(int step, RunOptions runOptions)
    {
        var binding = _steps[step];
        if (binding is null)
        {
            binding = Own(CreateBinding(step, this));
            _steps[step] = binding;
        }
        else if (_ws.OnDevice)
        {
            BindHostInputs(binding);
        }

        _ws.DecoderStepSession.RunWithBinding(runOptions, binding);
    }

    /// <summary>
    /// Runs the first step after the batch was compacted: past has <paramref name="previous"/>'s number of rows and
    /// beam_index picks this plan's rows from it. Built for this one step (compactions are rare).
    /// </summary>
    public void RunTransitionStep(int step, StepPlan previous, RunOptions runOptions)
    {
        using var binding = CreateBinding(step, previous);
        _ws.DecoderStepSession.RunWithBinding(runOptions, binding);
    }

    public void Dispose()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            _owned[i].Dispose();
        }

        _owned.Clear();
    }

    private OrtIoBinding CreateBinding(int step, StepPlan past)
    {
        var binding = _ws.DecoderStepSession.CreateIoBinding();
        try
        {
            BindHostInputs(binding);
            binding.BindInput("past_k", past._cacheK[step]);
            binding.BindInput("past_v", past._cacheV[step]);
            binding.BindInput("cross_k", _crossK);
            binding.BindInput("cross_v", _crossV);
            binding.BindOutput("logprobs", _logprobs);
            binding.BindOutput("present_k", _cacheK[step + 1]);
            binding.BindOutput("present_v", _cacheV[step + 1]);
            return binding;
        }
        catch
        {
            binding.Dispose();
            throw;
        }
    }

    private void BindHostInputs(OrtIoBinding binding)
    {
        binding.BindInput(TokensName, _tokens);
        binding.BindInput(BeamIndexName, _beamIndex);
    }

    private T Own<T>(T disposable)
        where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }
}
