using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Inference.Confidence;
using CaptionDaemon.Inference.Labels;
using CaptionDaemon.Inference.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CaptionDaemon.Inference;

/// <summary>
/// A caption bundle loaded on ONNX Runtime: the validated manifest, the vocabulary and one session per graph,
/// shared by every <see cref="Captioner"/> created from it. Thread-safe; dispose it only after its captioners.
/// </summary>
/// <example>
/// <code>
/// using var bundle = CaptionBundle.Load("models/default", new CaptionerOptions());
/// using var captioner = bundle.CreateCaptioner();
/// var captions = captioner.Caption(windows, count, DecodeOptions.Default);
/// </code>
/// </example>
public sealed class CaptionBundle : IDisposable
{
    private readonly BundleSessions _sessions;
    private bool _disposed;

    private CaptionBundle(string directory, BundleManifest manifest, string[] vocabulary, int[][] labelWordTokens, BundleSessions sessions, int cudaDeviceId)
    {
        LabelWordTokens = labelWordTokens;
        CudaDeviceId = cudaDeviceId;
        Directory = directory;
        Manifest = manifest;
        Vocabulary = vocabulary;
        LabelSelector = new LabelSelector(manifest.Labels);
        Calibration = ConfidenceCalibration.For(manifest);
        _sessions = sessions;
    }

    /// <summary>Full path of the bundle folder.</summary>
    public string Directory { get; }

    /// <summary>The bundle's manifest.</summary>
    public BundleManifest Manifest { get; }

    /// <summary>Words by id (index = id).</summary>
    public IReadOnlyList<string> Vocabulary { get; }

    /// <summary>The execution provider the sessions run on.</summary>
    public ExecutionProvider ExecutionProvider => _sessions.Provider;

    /// <summary>Samples in one audio window (<see cref="BundleManifest.WindowSamples"/>).</summary>
    public int WindowSamples => Manifest.WindowSamples;

    internal int CudaDeviceId { get; }

    internal LabelSelector LabelSelector { get; }

    /// <summary>Token ids of each label's words (<see cref="BundleLabel.Words"/>), for label fusion.</summary>
    internal int[][] LabelWordTokens { get; }

    /// <summary>The manifest's confidence block, resolved; null for an uncalibrated bundle.</summary>
    internal ConfidenceCalibration? Calibration { get; }

    internal BundleSessions Sessions
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return _sessions;
        }
    }

    /// <summary>
    /// Loads and validates a bundle: manifest fields, files, SHA-256 checksums, vocabulary, and the inputs and outputs
    /// of every graph against the manifest and the contract; then opens one ONNX Runtime session per graph on the
    /// execution provider chosen by <paramref name="options"/>.
    /// </summary>
    /// <param name="directory">The bundle folder (with <c>manifest.json</c>).</param>
    /// <param name="options">Execution provider and threads; defaults when null.</param>
    /// <param name="logger">Receives the CUDA fallback line and the load summary.</param>
    /// <exception cref="BundleException">The bundle does not match its manifest or the contract; the message names the file.</exception>
    /// <exception cref="ExecutionProviderException">CUDA was required (<see cref="ExecutionProviderPreference.Cuda"/>) but cannot be used.</exception>
    public static CaptionBundle Load(string directory, CaptionerOptions? options = null, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        options ??= new CaptionerOptions();
        options.Validate();
        logger ??= NullLogger.Instance;

        var dir = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(dir))
        {
            throw new BundleException($"{dir}: bundle folder not found.");
        }

        var manifestPath = Path.Combine(dir, BundleManifest.FileName);
        if (!File.Exists(manifestPath))
        {
            throw new BundleException($"{manifestPath}: missing (every bundle has a manifest).");
        }

        var manifest = BundleManifest.Read(manifestPath);
        BundleValidator.CheckManifest(manifest, manifestPath);

        var vocabBytes = BundleValidator.ReadVerified(dir, "vocab", manifest.Vocab.File, manifest.Vocab.Sha256, manifestPath);
        var vocabulary = BundleValidator.ParseVocabulary(vocabBytes, Path.Combine(dir, manifest.Vocab.File), manifest);
        var labelWordTokens = LabelFusion.WordTokens(manifest.Labels, vocabulary, manifestPath);

        var graphs = manifest.Graphs;
        var encoder = Graph(dir, "graphs.encoder", graphs.Encoder, manifestPath);
        var crossKv = Graph(dir, "graphs.cross_kv", graphs.CrossKv, manifestPath);
        var decoderStep = Graph(dir, "graphs.decoder_step", graphs.DecoderStep, manifestPath);

        var sessions = BundleSessions.Open(encoder, crossKv, decoderStep, options, dir, logger);
        try
        {
            BundleValidator.CheckSession(sessions.Encoder, BundleContract.Encoder(manifest), manifest, encoder.Path);
            BundleValidator.CheckSession(sessions.CrossKv, BundleContract.CrossKv, manifest, crossKv.Path);
            BundleValidator.CheckSession(sessions.DecoderStep, BundleContract.DecoderStep, manifest, decoderStep.Path);
        }
        catch
        {
            sessions.Dispose();
            throw;
        }

        InferenceLog.BundleLoaded(logger, manifest.Name, dir, sessions.Provider, vocabulary.Length, manifest.WindowSeconds);
        return new CaptionBundle(dir, manifest, vocabulary, labelWordTokens, sessions, options.CudaDeviceId);
    }

    /// <summary>Creates a captioner over this bundle's sessions (cheap; each holds its own decoding buffers).</summary>
    public Captioner CreateCaptioner()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new Captioner(this);
    }

    /// <summary>Releases the ONNX Runtime sessions.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _sessions.Dispose();
    }

    private static BundleSessions.GraphBytes Graph(string dir, string field, BundleGraph graph, string manifestPath) =>
        new(BundleValidator.ReadVerified(dir, field, graph.File, graph.Sha256, manifestPath), Path.Combine(dir, graph.File));
}
