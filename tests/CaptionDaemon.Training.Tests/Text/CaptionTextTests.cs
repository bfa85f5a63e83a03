using CaptionDaemon.Training.Text;

namespace CaptionDaemon.Training.Tests.Text;

public sealed class CaptionTextTests
{
    [Theory]
    [InlineData("A man speaks.", new[] { "a", "man", "speaks" })]
    [InlineData("  Rain falls,hard;  on a ROOF!\t(twice) ", new[] { "rain", "falls", "hard", "on", "a", "roof", "twice" })]
    [InlineData("The dog's bark—then 2 cars", new[] { "the", "dog's", "bark", "then", "2", "cars" })]
    [InlineData("It’s an ice-cream van", new[] { "it's", "an", "ice", "cream", "van" })]
    [InlineData("Élan vital", new[] { "élan", "vital" })]
    [InlineData(" ... ", new string[0])]
    public void Tokenize_Caption_LowerCasesAndSplitsOnEverythingButWordCharacters(string caption, string[] expected)
    {
        Assert.Equal(expected, CaptionText.Tokenize(caption));
    }
}
