using CaptionDaemon.Inference;
using CaptionDaemon.Inference.Bundles;
using CaptionDaemon.Sources;
using Microsoft.Extensions.Configuration;
using CaptionDaemon.Scheduling;
using CaptionDaemon.Windowing;
using Microsoft.Extensions.Options;

namespace CaptionDaemon.Tests.Scheduling;

public sealed class CaptionPolicyTests : IDisposable
{
    private static readonly DateTimeOffset _t0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly MetricsRecorder _recorder = new();
    private readonly ManualTimeProvider _time = new(_t0);
    private readonly RecordingOutlet _outlet = new();

    public void Dispose() => _recorder.Dispose();

    [Fact]
    public void Decide_RepeatWithinHeartbeat_IsSuppressedAndRepublishedAfterIt()
    {
        var policy = Policy(new CaptionPolicyOptions { HeartbeatSeconds = 30 });

        Assert.Equal(1, Decide(policy, "kitchen", "a dog barks")?.Sequence);
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Null(Decide(policy, "kitchen", "a dog barks"));
        _time.Advance(TimeSpan.FromSeconds(19));
        Assert.Null(Decide(policy, "kitchen", "a dog barks"));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2, Decide(policy, "kitchen", "a dog barks")?.Sequence);
        Assert.Equal(3, Decide(policy, "kitchen", "rain falls")?.Sequence);

        Assert.Equal(2, _recorder.Sum("captiond.captions.suppressed", ("reason", "repeat"), ("source", "kitchen")));
    }

    [Fact]
    public void Decide_SuppressRepeatsOff_PublishesEveryCaption()
    {
        var policy = Policy(new CaptionPolicyOptions { SuppressRepeats = false });

        Assert.Equal(1, Decide(policy, "hall", "a door closes")?.Sequence);
        Assert.Equal(2, Decide(policy, "hall", "a door closes")?.Sequence);
    }

    [Fact]
    public void Decide_HeartbeatZero_NeverRepublishesARepeat()
    {
        var policy = Policy(new CaptionPolicyOptions { HeartbeatSeconds = 0 });

        Assert.NotNull(Decide(policy, "hall", "wind blows"));
        _time.Advance(TimeSpan.FromDays(1));
        Assert.Null(Decide(policy, "hall", "wind blows"));
    }

    [Fact]
    public void Decide_BelowMinConfidence_IsSuppressedAndDoesNotUseASequenceNumber()
    {
        var policy = Policy(new CaptionPolicyOptions { MinConfidence = 0.4 });

        Assert.Null(Decide(policy, "yard", "a bird sings", confidence: 0.39));
        Assert.Equal(1, Decide(policy, "yard", "a bird sings", confidence: 0.4)?.Sequence);

        Assert.Equal(1, _recorder.Sum("captiond.captions.suppressed", ("reason", "low_confidence"), ("source", "yard")));
    }

    [Fact]
    public void Decide_MinConfidenceUnset_UsesTheModelsRecommendationOrZero()
    {
        var policy = Policy(new CaptionPolicyOptions());

        Assert.Null(Decide(policy, "yard", "a bird sings", confidence: 0.29, recommended: 0.3));
        Assert.Equal(1, Decide(policy, "yard", "a dog barks", confidence: 0.3, recommended: 0.3)?.Sequence);
        Assert.Equal(2, Decide(policy, "yard", "a cat meows", confidence: 0.01, recommended: null)?.Sequence);

        Assert.Equal(1, _recorder.Sum("captiond.captions.suppressed", ("reason", "low_confidence"), ("source", "yard")));
    }

    [Theory]
    [InlineData(0.0, 0.05, true)]   // configured lower than the model recommends: the configuration wins
    [InlineData(0.6, 0.55, false)]  // configured higher than the model recommends: the configuration wins
    public void Decide_MinConfidenceSet_OverridesTheModelsRecommendation(double configured, double confidence, bool published)
    {
        var policy = Policy(new CaptionPolicyOptions { MinConfidence = configured });

        var caption = Decide(policy, "yard", "a bird sings", confidence, recommended: 0.5);

        Assert.Equal(published, caption is not null);
    }

    [Fact]
    public void Decide_EmptyCaption_IsSuppressed()
    {
        var policy = Policy(new CaptionPolicyOptions());

        Assert.Null(Decide(policy, "yard", string.Empty));
        Assert.Equal(1, _recorder.Sum("captiond.captions.suppressed", ("reason", "empty")));
    }

    [Fact]
    public void Decide_SeveralSources_NumberEachSourceFromOne()
    {
        var policy = Policy(new CaptionPolicyOptions());

        Assert.Equal(1, Decide(policy, "a", "one")?.Sequence);
        Assert.Equal(1, Decide(policy, "b", "one")?.Sequence);
        Assert.Equal(2, Decide(policy, "a", "two")?.Sequence);
        Assert.Equal(2, policy.LastSequence("a"));
        Assert.Equal(0, policy.LastSequence("c"));
    }

    [Fact]
    public void OnCaptioned_PublishedCaption_CarriesWindowModelAndLatency()
    {
        var policy = Policy(new CaptionPolicyOptions());
        var window = new ReadyWindow("porch", [], _t0 - TimeSpan.FromSeconds(10), _t0, 0, 0);
        _time.Advance(TimeSpan.FromMilliseconds(350));

        policy.OnCaptioned(window, new CaptionResult("a car passes", 0.8f, [5, 6, 7], -0.2, true), "student-scenes-v1", null);

        var caption = Assert.Single(_outlet.Captions);
        Assert.Equal(("porch", 1L, "a car passes", "student-scenes-v1"), (caption.SourceId, caption.Sequence, caption.Text, caption.Model));
        Assert.Equal(window.Start, caption.Start);
        Assert.Equal(window.End, caption.End);
        Assert.Equal(0.8, caption.Confidence, 6);
        Assert.Equal(TimeSpan.FromMilliseconds(350), caption.Latency);
    }

    [Fact]
    public void OnCaptioned_ResultWithLabels_CaptionCarriesThemInOrderWithTheFloatsShortestScores()
    {
        var policy = Policy(new CaptionPolicyOptions());
        var window = new ReadyWindow("porch", [], _t0 - TimeSpan.FromSeconds(10), _t0, 0, 0);
        var result = new CaptionResult("a dog barks", 0.8f, [5, 6], -0.2, true)
        {
            Labels = [new LabelScore("dog", "Dog", 0.91f), new LabelScore("rain", "Rain", 0.3333333f)],
        };

        policy.OnCaptioned(window, result, "student-scenes-v1", null);

        var caption = Assert.Single(_outlet.Captions);
        Assert.Equal([new Contracts.CaptionLabel("dog", "Dog", 0.91), new Contracts.CaptionLabel("rain", "Rain", 0.3333333)], caption.Labels);
    }

    [Fact]
    public void OnCaptioned_ResultWithoutLabels_CaptionHasNone()
    {
        var policy = Policy(new CaptionPolicyOptions());
        var window = new ReadyWindow("porch", [], _t0 - TimeSpan.FromSeconds(10), _t0, 0, 0);

        policy.OnCaptioned(window, new CaptionResult("a car passes", 0.8f, [5, 6, 7], -0.2, true), "student-scenes-v1", null);

        Assert.Empty(Assert.Single(_outlet.Captions).Labels);
    }

    [Fact]
    public void OnCaptioned_SourceSettings_LabelsThresholdsAndMinConfidenceOfThatSourceOnly()
    {
        // Sources:porch listens to dog and glass only, hears glass from 0.2 (the model says 0.5) and wants 0.6 confidence.
        var policy = Policy(new CaptionPolicyOptions { MinConfidence = 0.1 }, """
            {"Sources": {
              "porch": {"Type": "wav", "Labels": ["dog", "glass"], "LabelThresholds": {"glass": 0.2}, "MinConfidence": 0.6},
              "hall": {"Type": "wav"}
            }}
            """);
        BundleLabel[] model = [Label("dog", 0.5), Label("glass", 0.5), Label("rain", 0.5), Label("nothing", 0.5)];
        CaptionResult Result(float confidence, params float[] probabilities) => new("a dog barks", confidence, [5], -0.2, true)
        {
            Labels = [.. model.Select((l, i) => (l, p: probabilities[i])).Where(x => x.p >= x.l.Threshold && x.l.Name != "nothing").Select(x => new LabelScore(x.l.Name, x.l.Display, x.p)).OrderByDescending(l => l.Score)],
            LabelProbabilities = probabilities,
        };
        ReadyWindow Window(string source, int second) => new(source, [], _t0.AddSeconds(second), _t0.AddSeconds(second + 10), 0, 0);

        policy.OnCaptioned(Window("porch", 0), Result(0.9f, 0.7f, 0.3f, 0.9f, 0.1f), "m", null, model);   // dog, glass (0.3 >= 0.2); rain not listened to
        policy.OnCaptioned(Window("porch", 2), Result(0.9f, 0.1f, 0.1f, 0.9f, 0.9f), "m", null, model);   // none of its labels: not published
        policy.OnCaptioned(Window("porch", 4), Result(0.5f, 0.9f, 0.1f, 0.1f, 0.1f), "m", null, model);   // dog, but below its 0.6 confidence
        policy.OnCaptioned(Window("hall", 6), Result(0.5f, 0.7f, 0.3f, 0.9f, 0.1f), "m", null, model);    // the global settings

        var captions = _outlet.Captions;
        Assert.Equal(2, captions.Count);
        Assert.Equal("porch", captions[0].SourceId);
        Assert.Equal(["dog", "glass"], captions[0].Labels.Select(l => l.Label));
        Assert.Equal("hall", captions[1].SourceId);
        Assert.Equal(["rain", "dog"], captions[1].Labels.Select(l => l.Label));
        Assert.Equal(1, _recorder.Sum("captiond.captions.suppressed", ("reason", "labels"), ("source", "porch")));
        Assert.Equal(1, _recorder.Sum("captiond.captions.suppressed", ("reason", "low_confidence"), ("source", "porch")));
    }

    [Theory]
    [InlineData("""{"Labels": ["dgo"]}""", "Sources:porch:Labels: 'dgo' is not a label of the model (did you mean dog?)")]
    [InlineData("""{"LabelThresholds": {"glass": 1.5}}""", "Sources:porch:LabelThresholds:glass: must be a probability between 0 and 1, was '1.5'")]
    [InlineData("""{"LabelThresholds": {"cat": 0.5}}""", "Sources:porch:LabelThresholds:cat: 'cat' is not a label of the model")]
    [InlineData("""{"MinConfidence": "high"}""", "Sources:porch:MinConfidence: must be between 0 and 1, was 'high'")]
    [InlineData("""{"SilenceThresholdDbfs": 3}""", "Sources:porch:SilenceThresholdDbfs: must be between -200 and 0 dBFS, was '3'")]
    [InlineData("""{"Labels": []}""", "Sources:porch:Labels: must list at least one label (e.g. [\"dog\", \"glass\"]), or be left out to listen to all")]
    [InlineData("""{"Labels": "dog, glass", "LabelThresholds": {"dog": 0.3}, "MinConfidence": 0.2, "SilenceThresholdDbfs": -50}""", null)]
    public void SourceTuning_Values_CheckedAgainstTheModelsLabels(string settings, string? problem)
    {
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes("{\"Sources\": {\"porch\": " + settings + "}}"))).Build();
        BundleLabel[] model = [Label("dog", 0.5), Label("glass", 0.5), Label("nothing", 0.5)];

        var found = SourceTuning.Problem(configuration.GetSection("Sources:porch"), model);

        Assert.Equal(problem, found);
    }

    private static BundleLabel Label(string name, double threshold) => new() { Name = name, Display = name.ToUpperInvariant(), Threshold = threshold };

    private static Contracts.Caption? Decide(CaptionPolicy policy, string source, string text, double confidence = 0.9, double? recommended = null) =>
        policy.Decide(source, _t0, _t0 + TimeSpan.FromSeconds(10), text, confidence, "model", recommendedMinConfidence: recommended);

    private CaptionPolicy Policy(CaptionPolicyOptions options, string? configuration = null) =>
        new(Options.Create(options), _outlet, _recorder.Metrics, _time,
            configuration is null ? null : new SourceTunings(new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(configuration))).Build()));
}
