using CaptionDaemon.Windowing;

namespace CaptionDaemon.Tests.Windowing;

public sealed class SilenceGateTests
{
    [Theory]
    [InlineData(-80.0, true)]
    [InlineData(-71.0, true)]
    [InlineData(-69.0, false)]
    [InlineData(-20.0, false)]
    public void IsSilent_DefaultThreshold_SkipsOnlyWindowsBelowMinus70Dbfs(double levelDbfs, bool silent)
    {
        var window = Noise(16000, levelDbfs);
        var gate = new SilenceGate(SilenceGate.DefaultThresholdDbfs);

        Assert.InRange(SilenceGate.RmsDbfs(window), levelDbfs - 0.01, levelDbfs + 0.01);
        Assert.Equal(silent, gate.IsSilent(window));
    }

    [Fact]
    public void IsSilent_DigitalSilence_IsSilentUnlessTheGateIsOff()
    {
        var window = new float[16000];

        Assert.Equal(double.NegativeInfinity, SilenceGate.RmsDbfs(window));
        Assert.True(new SilenceGate(-70).IsSilent(window));
        Assert.False(new SilenceGate(null).IsSilent(window));
    }

    [Fact]
    public void RmsDbfs_FullScaleSine_IsAboutMinus3()
    {
        var sine = ResamplerTests.Sine(1000, 1.0, 16000, 16000, channels: 1);

        Assert.InRange(SilenceGate.RmsDbfs(sine), -3.02, -3.00);
    }

    /// <summary>Square-wave-like noise of random signs whose RMS is exactly the level.</summary>
    private static float[] Noise(int length, double levelDbfs)
    {
        var amplitude = (float)Math.Pow(10, levelDbfs / 20);
        var random = new Random(3);
        return Enumerable.Range(0, length).Select(_ => random.Next(2) == 0 ? amplitude : -amplitude).ToArray();
    }
}
