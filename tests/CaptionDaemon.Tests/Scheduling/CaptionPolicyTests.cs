using CaptionDaemon.Inference;
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

    private static Contracts.Caption? Decide(CaptionPolicy policy, string source, string text, double confidence = 0.9, double? recommended = null) =>
        policy.Decide(source, _t0, _t0 + TimeSpan.FromSeconds(10), text, confidence, "model", recommendedMinConfidence: recommended);

    private CaptionPolicy Policy(CaptionPolicyOptions options) => new(Options.Create(options), _outlet, _recorder.Metrics, _time);
}
