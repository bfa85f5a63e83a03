using Microsoft.Extensions.Options;

namespace CaptionDaemon.Ui;

/// <summary>Configuration section <c>Ui</c>: the live page on <c>Metrics:Listen</c>.</summary>
internal sealed class UiOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Ui";

    /// <summary>The longest ring of recent audio a source may keep (an hour of 16 kHz audio is 115 MB).</summary>
    public const double MaxKeepAudioSeconds = 3600;

    /// <summary>
    /// <c>Ui:KeepAudioSeconds</c>: how many seconds of each source's most recent audio the daemon keeps in memory, so
    /// that the page can play back the window a caption describes. 0 (the default) keeps none: nothing a microphone
    /// hears is held beyond the window being captioned. Between 0 and 3600; 2 bytes per sample at the model's rate.
    /// </summary>
    public double KeepAudioSeconds { get; set; }

    /// <summary><c>Ui:Username</c>: the user name that clients off loopback log in with (HTTP Basic). Default <c>captiond</c>.</summary>
    public string Username { get; set; } = "captiond";

    /// <summary>
    /// <c>Ui:Password</c>: the password of clients off loopback. Unset: when <c>Metrics:Listen</c> is not a loopback
    /// address, one is generated once into <c>ui-password</c> in the state directory and read from there afterwards.
    /// </summary>
    public string? Password { get; set; }
}

/// <summary>Checks <see cref="UiOptions"/> at start-up, naming the key.</summary>
internal sealed class UiOptionsValidator : IValidateOptions<UiOptions>
{
    public ValidateOptionsResult Validate(string? name, UiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (!(options.KeepAudioSeconds >= 0 && options.KeepAudioSeconds <= UiOptions.MaxKeepAudioSeconds))
            failures.Add($"Ui:KeepAudioSeconds must be between 0 (keep no audio) and {UiOptions.MaxKeepAudioSeconds:0} seconds, was {options.KeepAudioSeconds}.");
        if (string.IsNullOrEmpty(options.Username) || options.Username.Contains(':', StringComparison.Ordinal) || options.Username.Any(char.IsControl))
            failures.Add($"Ui:Username must be a non-empty name without ':' or control characters (HTTP Basic cannot carry them), was '{options.Username}'.");
        if (options.Password is { } password && (password.Length < 8 || password.Any(char.IsControl)))
            failures.Add("Ui:Password must have at least 8 characters and no control characters.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
