using CaptionDaemon.Training.Reporting;

namespace CaptionDaemon.Training.Tests.Reporting;

public sealed class SeedSpreadTests
{
    [Fact]
    public void MeanSd_UsesTheSampleDeviation()
    {
        // Mean 2; squared deviations 1 + 0 + 1 over n - 1 = 2 gives a deviation of 1 (the population one would be 0.8165).
        Assert.Equal("2.0000 ± 1.0000", SeedSpread.MeanSd([1.0, 2.0, 3.0]));
        Assert.Equal("0.5000 ± 0.0000", SeedSpread.MeanSd([0.5]));
        Assert.Throws<ArgumentException>(() => SeedSpread.MeanSd([]));
    }
}
