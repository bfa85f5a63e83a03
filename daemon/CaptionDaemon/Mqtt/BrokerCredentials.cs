using System.Security.Cryptography;
using System.Text;

namespace CaptionDaemon.Mqtt;

/// <summary>
/// The embedded broker's credentials when none are configured: generated once into the state directory and used by the
/// daemon's own MQTT sink, so that no other local user can publish fake captions, overwrite the retained states or take
/// the daemon's connection. The file is a <c>mosquitto_sub</c> options file (<c>-u</c> and <c>-P</c> lines), readable by
/// the daemon's user only; <c>XDG_CONFIG_HOME=&lt;its folder&gt; mosquitto_sub ...</c> subscribes with it, without the
/// password on a command line.
/// </summary>
internal sealed record BrokerCredentials(string Username, string Password)
{
    /// <summary>The user name the daemon generates for itself.</summary>
    public const string GeneratedUsername = "captiond";

    /// <summary>The credentials file under a state directory: <c>&lt;state&gt;/mqtt-client/mosquitto_sub</c>.</summary>
    public static string FilePath(string stateDirectory) => Path.Combine(stateDirectory, "mqtt-client", "mosquitto_sub");

    /// <summary>Reads the credentials file, or creates it with a new random password when it does not exist.</summary>
    /// <exception cref="InvalidDataException">The file exists without a <c>-u</c> or a <c>-P</c> line; the message names it.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static BrokerCredentials LoadOrCreate(string stateDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(stateDirectory);
        var path = FilePath(stateDirectory);
        if (File.Exists(path))
            return Read(path);

        var folder = Path.GetDirectoryName(path)!;
        if (OperatingSystem.IsWindows())
            Directory.CreateDirectory(folder);
        else
            Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var credentials = new BrokerCredentials(GeneratedUsername, Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_'));
        var text = new StringBuilder()
            .Append("# captiond's embedded MQTT broker: generated once by the daemon, which connects with them itself.\n")
            .Append("# mosquitto_sub reads this file as its default options: XDG_CONFIG_HOME=").Append(folder).Append(" mosquitto_sub -h 127.0.0.1 -t 'captiond/#' -v\n")
            .Append("-u ").Append(credentials.Username).Append('\n')
            .Append("-P ").Append(credentials.Password).Append('\n')
            .ToString();
        var temporary = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temporary, options))
        {
            stream.Write(Encoding.UTF8.GetBytes(text));
            stream.Flush(flushToDisk: true);
        }
        // Rename, so that two daemons starting at once never read half a file; the first one's file wins.
        try
        {
            File.Move(temporary, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temporary);
            return Read(path);
        }
        return credentials;
    }

    private static BrokerCredentials Read(string path)
    {
        string? user = null;
        string? password = null;
        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith("-u ", StringComparison.Ordinal))
                user = line[3..].Trim();
            else if (line.StartsWith("-P ", StringComparison.Ordinal))
                password = line[3..].Trim();
        }
        if (string.IsNullOrEmpty(user) || string.IsNullOrEmpty(password))
            throw new InvalidDataException($"{path}: the embedded broker's credentials file has no '-u <user>' or no '-P <password>' line; delete it to have a new one generated");
        return new BrokerCredentials(user, password);
    }
}
