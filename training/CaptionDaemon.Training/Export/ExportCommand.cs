using System.CommandLine;

namespace CaptionDaemon.Training.Export;

/// <summary><c>captiond-train export --checkpoint DIR --out DIR [--name NAME]</c>: a checkpoint folder to a caption bundle.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var checkpointOption = new Option<DirectoryInfo>("--checkpoint") { Description = "Checkpoint folder (model.bin, config.json, vocab.json; optional training.json, NOTICE).", Required = true };
        var outOption = new Option<DirectoryInfo>("--out") { Description = "Bundle folder to write.", Required = true };
        var nameOption = new Option<string?>("--name") { Description = "Model name in the manifest (default: the checkpoint folder's name)." };
        var windowOption = new Option<double>("--window-seconds") { Description = "Audio window the daemon feeds the encoder.", DefaultValueFactory = _ => 10.0 };
        var maxTokensOption = new Option<int?>("--max-tokens") { Description = "Maximum caption length incl. <end> (default min(20, max_tokens - 1))." };
        var forceOption = new Option<bool>("--force") { Description = "Replace an existing, non-empty output folder." };
        var fusionOption = new Option<double?>("--label-fusion")
        {
            Description = "Label fusion weight for the manifest (0 or left out: off): the words of the labels the tagger reports get weight x probability added to their log-probability while a caption is searched. Calibrate after choosing it.",
        };
        fusionOption.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double?>() is { } w && !(double.IsFinite(w) && w >= 0))
            {
                result.AddError("--label-fusion must be a finite number, 0 or more.");
            }
        });

        var command = new Command("export", "Export a checkpoint as a caption bundle: ONNX encoder, cross_kv and decoder_step graphs, vocabulary, manifest.");
        foreach (var option in new Option[] { checkpointOption, outOption, nameOption, windowOption, maxTokensOption, forceOption, fusionOption })
        {
            command.Options.Add(option);
        }

        command.SetAction(parse =>
        {
            var manifest = BundleExporter.ExportCheckpoint(
                parse.GetValue(checkpointOption)!.FullName,
                parse.GetValue(outOption)!.FullName,
                parse.GetValue(nameOption),
                parse.GetValue(windowOption),
                parse.GetValue(maxTokensOption),
                parse.GetValue(forceOption),
                "captiond-train " + string.Join(' ', parse.Tokens.Select(t => t.Value)),
                parse.GetValue(fusionOption));
            Console.WriteLine(
                $"wrote bundle '{manifest.Name}' to {parse.GetValue(outOption)!.FullName}: {manifest.Parameters.Total:N0} parameters " +
                $"(encoder {manifest.Parameters.Encoder:N0}, decoder {manifest.Parameters.Decoder:N0}), vocabulary {manifest.Architecture.VocabSize}");
            return 0;
        });
        return command;
    }
}
