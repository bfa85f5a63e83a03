using System.Text.Json.Nodes;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Training.Models;

namespace CaptionDaemon.Training.Export;

/// <summary>Fills the shared <see cref="BundleManifest"/> from a model and the files already written to a bundle folder.</summary>
internal static class BundleManifestFactory
{
    public static BundleManifest Create(CaptionModel model, string bundleDirectory, string name, double windowSeconds, int maxCaptionTokens, JsonObject training)
    {
        var config = model.Config;
        var parameters = model.CountParameters();
        BundleGraph Graph(string file, string[] inputs, string[] outputs) => new()
        {
            File = file,
            Sha256 = BundleManifest.ComputeSha256(Path.Combine(bundleDirectory, file)),
            Inputs = inputs,
            Outputs = outputs,
        };

        return new BundleManifest
        {
            Format = BundleManifest.FormatId,
            FormatVersion = BundleManifest.CurrentFormatVersion,
            Name = name,
            Created = DateTimeOffset.UtcNow,
            SampleRate = config.SampleRate,
            WindowSeconds = windowSeconds,
            MaxCaptionTokens = maxCaptionTokens,
            Tokens = new BundleTokens
            {
                Pad = CaptionModel.PadToken,
                Start = CaptionModel.StartToken,
                End = CaptionModel.EndToken,
                Unk = CaptionModel.UnknownToken,
            },
            Architecture = new BundleArchitecture
            {
                DModel = config.DModel,
                DecoderLayers = config.DecoderLayers,
                Heads = config.Heads,
                HeadDim = config.HeadDim,
                VocabSize = config.VocabSize,
                EmbeddingDim = config.EmbeddingDim,
                MelBins = config.MelBins,
            },
            Graphs = new BundleGraphs
            {
                Encoder = Graph(CaptionGraphs.EncoderFile, CaptionGraphs.EncoderInputs, CaptionGraphs.EncoderOutputsOf(model)),
                CrossKv = Graph(CaptionGraphs.CrossKvFile, CaptionGraphs.CrossKvInputs, CaptionGraphs.CrossKvOutputs),
                DecoderStep = Graph(CaptionGraphs.DecoderStepFile, CaptionGraphs.DecoderStepInputs, CaptionGraphs.DecoderStepOutputs),
            },
            Vocab = new BundleFile
            {
                File = CaptionModel.VocabFileName,
                Sha256 = BundleManifest.ComputeSha256(Path.Combine(bundleDirectory, CaptionModel.VocabFileName)),
            },
            Parameters = new BundleParameters { Encoder = parameters.Encoder, Decoder = parameters.Decoder, Total = parameters.Total },
            Training = training,
        };
    }
}
