using System.CommandLine;
using System.Text.Json;
using CaptionDaemon.Training.Evaluation;

namespace CaptionDaemon.Training.Tests.Evaluation;

public sealed class ScoreCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("captiond-score-").FullName;

    [Fact]
    public void Invoke_PublishedExampleFiles_PrintsOnlyTheScoresAsJson()
    {
        // Ids of both kinds and a different order on each side: pairing is by id, not by line.
        var candidates = Write("c.jsonl",
            """{"id": 7, "caption": "a man is speaking"}""",
            "",
            """{"id": "rain-1", "caption": "rain falls"}""");
        var references = Write("r.jsonl",
            """{"id": "rain-1", "captions": ["rain is falling hard on a surface"]}""",
            """{"id": "7", "captions": ["a man speaks.", "someone speaks.", "a man is speaking while a bird is chirping in the background"]}""");

        var (exitCode, output, error) = Invoke("--candidates", candidates, "--references", references);

        Assert.True(exitCode == 0, error);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(
            ["bleu_1", "bleu_2", "bleu_3", "bleu_4", "rouge_l", "cider_d"],
            json.RootElement.EnumerateObject().Select(p => p.Name).ToArray());
        var expected = CaptionMetrics.Compute(CaptionMetricsTests.PublishedCandidates, CaptionMetricsTests.PublishedReferences);
        Assert.Equal(0.9614, json.RootElement.GetProperty("cider_d").GetDouble(), 1e-4);
        Assert.Equal(0.4278, json.RootElement.GetProperty("bleu_1").GetDouble(), 1e-4);
        Assert.Equal(expected.Bleu4, json.RootElement.GetProperty("bleu_4").GetDouble());
        Assert.Equal(expected.RougeL, json.RootElement.GetProperty("rouge_l").GetDouble());
        Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Invoke_MalformedLine_FailsNamingFileAndLine()
    {
        var candidates = Write("c.jsonl", """{"id": 1, "caption": "a dog"}""", """{"id": 2, "caption": 5}""");
        var references = Write("r.jsonl", """{"id": 1, "captions": ["a dog"]}""", """{"id": 2, "captions": ["a cat"]}""");

        var (exitCode, output, error) = Invoke("--candidates", candidates, "--references", references);

        Assert.NotEqual(0, exitCode);
        Assert.Equal(string.Empty, output);
        Assert.Contains(candidates + " line 2", error, StringComparison.Ordinal);
        Assert.Contains("\"caption\"", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Invoke_InvalidJson_FailsNamingFileAndLine()
    {
        var candidates = Write("c.jsonl", """{"id": 1, "caption": "a dog"}""");
        var references = Write("r.jsonl", "", """{"id": 1, "captions": ["a dog"]""");

        var (exitCode, _, error) = Invoke("--candidates", candidates, "--references", references);

        Assert.NotEqual(0, exitCode);
        Assert.Contains(references + " line 2: not valid JSON", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Invoke_IdsMissingOnEitherSide_FailsListingThem()
    {
        var candidates = Write("c.jsonl", """{"id": 1, "caption": "a dog"}""", """{"id": 2, "caption": "a cat"}""");
        var references = Write("r.jsonl", """{"id": 1, "captions": ["a dog"]}""", """{"id": 3, "captions": ["a cow"]}""");
        var fewer = Write("c1.jsonl", """{"id": 1, "caption": "a dog"}""");
        var enough = Write("r2.jsonl", """{"id": 1, "captions": ["a dog"]}""", """{"id": 2, "captions": ["a cat"]}""");

        var (exitCode, _, error) = Invoke("--candidates", candidates, "--references", references);
        var (exitCode2, _, error2) = Invoke("--candidates", fewer, "--references", enough);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("no references for id '2' (line 2)", error, StringComparison.Ordinal);
        Assert.NotEqual(0, exitCode2);
        Assert.Contains("no candidate for id '2' (line 2)", error2, StringComparison.Ordinal);
    }

    [Fact]
    public void Invoke_DuplicateId_FailsNamingBothLines()
    {
        var candidates = Write("c.jsonl", """{"id": "x", "caption": "a dog"}""", """{"id": "x", "caption": "a cat"}""");
        var references = Write("r.jsonl", """{"id": "x", "captions": ["a dog"]}""");

        var (exitCode, _, error) = Invoke("--candidates", candidates, "--references", references);

        Assert.NotEqual(0, exitCode);
        Assert.Contains(candidates + " line 2: id 'x' is already on line 1", error, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string Write(string name, params string[] lines)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    private static (int ExitCode, string Output, string Error) Invoke(params string[] arguments)
    {
        var root = new RootCommand { ScoreCommand.Create() };
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = root.Parse(["score", .. arguments]).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exitCode, output.ToString(), error.ToString());
    }
}
