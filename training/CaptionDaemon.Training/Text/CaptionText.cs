using System.Text;

namespace CaptionDaemon.Training.Text;

/// <summary>
/// The one caption normalisation of the captioning core (docs/captioning-core.md, "Text"), shared by the vocabulary and
/// the metrics so that a model is trained and scored on the same words.
/// </summary>
internal static class CaptionText
{
    /// <summary>
    /// Lower-cases <paramref name="caption"/>, turns every character that is not a letter, digit, apostrophe or
    /// whitespace into a space and splits on whitespace. For the captions of the data sets this gives the tokens of the
    /// PTB tokenizer with punctuation removed, which pycocoevalcap and aac-metrics score on ("a man speaks." becomes
    /// <c>a man speaks</c>); it differs on clitics and hyphens ("dog's", "ice-cream"), where it keeps one word and splits
    /// at the hyphen respectively, which is what a word vocabulary wants.
    /// </summary>
    public static string[] Tokenize(string caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        var builder = new StringBuilder(caption.Length);
        foreach (var character in caption)
        {
            builder.Append(character switch
            {
                // The typographic apostrophe (as in "it’s") is the same apostrophe; keeping two spellings of a word would
                // split its counts in the vocabulary and make it miss in the n-gram matches.
                '\u2019' => '\'',
                _ when char.IsLetterOrDigit(character) || character == '\'' => char.ToLowerInvariant(character),
                _ => ' ',
            });
        }

        return builder.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }
}
