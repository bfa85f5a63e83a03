using System.CommandLine;
using System.Globalization;

namespace CaptionDaemon.Hosting;

/// <summary>captiond's commands: <c>run</c> (the default), <c>caption</c>, <c>check-config</c>, <c>plugins</c>.</summary>
internal static class DaemonCommands
{
    /// <summary>Parses and runs a command line. Bad options are one line each on standard error and exit code 2.</summary>
    public static async Task<int> InvokeAsync(string[] args)
    {
        var parse = Create().Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
                await Console.Error.WriteLineAsync($"captiond: {error.Message}").ConfigureAwait(false);
            await Console.Error.WriteLineAsync("Try 'captiond --help'.").ConfigureAwait(false);
            return 2;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FileNotFoundException or FormatException or InvalidDataException)
        {
            // A configuration file that is missing or not JSON, a --source that is not understood: the user's to fix.
            await Console.Error.WriteLineAsync($"captiond: {DaemonConfiguration.Describe(ex)}").ConfigureAwait(false);
            return 2;
        }
    }

    /// <summary>
    /// A number of seconds for <paramref name="option"/>, with an error in the option's words ("--hop: 'abc' is not a
    /// number of seconds") instead of System.CommandLine's, which names the CLR type.
    /// </summary>
    internal static double? ParseSeconds(System.CommandLine.Parsing.ArgumentResult result, string option)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && double.IsFinite(seconds) && seconds > 0)
            return seconds;
        result.AddError($"{option}: must be a number of seconds greater than 0, was '{text}'");
        return null;
    }

    public static RootCommand Create()
    {
        var root = new RootCommand("captiond: captions the sounds it hears and publishes them over MQTT. Without a command it runs the service.");
        var rootOptions = new DaemonOptions(root);
        root.SetAction((parse, ct) => RunCommand.RunAsync(rootOptions.Read(parse) with { CreateBrokerCredentials = true }, ct));

        var run = new Command("run", "Run the service (the default command).");
        var runOptions = new DaemonOptions(run);
        run.SetAction((parse, ct) => RunCommand.RunAsync(runOptions.Read(parse) with { CreateBrokerCredentials = true }, ct));
        root.Subcommands.Add(run);

        var check = new Command("check-config", "Load the configuration, the plugins and the model as `run` would, validate every source and sink, and say what is wrong.");
        var checkOptions = new DaemonOptions(check);
        check.SetAction((parse, ct) => CheckConfigCommand.RunAsync(checkOptions.Read(parse), ct));
        root.Subcommands.Add(check);

        root.Subcommands.Add(PluginsCommand.Create());
        root.Subcommands.Add(CaptionCommand.Create());
        return root;
    }

    /// <summary>The options shared by <c>run</c> and <c>check-config</c>, which map to configuration keys.</summary>
    private sealed class DaemonOptions
    {
        private readonly Option<string[]> _source = new("--source")
        {
            Description = "Add a source (repeatable): mic, mic:hw:1, pulse, file:x.wav, rtsp://..., http://..., udp://0.0.0.0:5004?rate=16000, tcp://host:port, tcp-listen://0.0.0.0:5005; name it with NAME=SPEC. Replaces the demo source.",
            AllowMultipleArgumentsPerToken = false,
        };

        private readonly Option<string?> _model = new("--model") { Description = "Model bundle folder (default: models/default next to captiond). Key Model:Path." };
        private readonly Option<string?> _mqtt = new("--mqtt") { Description = "External broker, mqtt://[user:pass@]host:port or mqtts:// for TLS; the embedded broker is then not started." };
        private readonly Option<string?> _metrics = new("--metrics") { Description = "Where /metrics and /healthz listen, HOST:PORT (default 127.0.0.1:9464). Key Metrics:Listen." };
        private readonly Option<string?> _config = new("--config") { Description = "An extra JSON configuration file, read after /etc/captiond/*.json." };
        private readonly Option<string[]> _plugins = new("--plugins") { Description = "An extra plugin folder (repeatable), searched after the built-in one. Key Plugins:Directories." };
        private readonly Option<double?> _hop = new("--hop")
        {
            Description = "Seconds between the starts of two windows (default 2). Key Windowing:HopSeconds.",
            CustomParser = result => ParseSeconds(result, "--hop"),
        };

        public DaemonOptions(Command command)
        {
            foreach (var option in new Option[] { _source, _model, _mqtt, _metrics, _config, _plugins, _hop })
                command.Options.Add(option);
        }

        public CommandLineSettings Read(ParseResult parse) => new()
        {
            Sources = parse.GetValue(_source) ?? [],
            Model = parse.GetValue(_model),
            Mqtt = parse.GetValue(_mqtt),
            Metrics = parse.GetValue(_metrics),
            ConfigFile = parse.GetValue(_config),
            PluginDirectories = parse.GetValue(_plugins) ?? [],
            HopSeconds = parse.GetValue(_hop),
        };
    }

    /// <summary>Formats seconds for messages.</summary>
    internal static string Seconds(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
