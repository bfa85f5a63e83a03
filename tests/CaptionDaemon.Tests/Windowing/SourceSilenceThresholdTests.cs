using CaptionDaemon.Contracts;
using CaptionDaemon.Tests.Scheduling;
using CaptionDaemon.Windowing;
using Microsoft.Extensions.DependencyInjection;

namespace CaptionDaemon.Tests.Windowing;

/// <summary><c>Sources:&lt;id&gt;:SilenceThresholdDbfs</c> gates that source's windows instead of <c>Windowing:SilenceThresholdDbfs</c>.</summary>
public sealed class SourceSilenceThresholdTests
{
    [Fact]
    public async Task Create_SourceWithItsOwnThreshold_GatesItsWindowsWhileAnotherSourceUsesTheGlobalOne()
    {
        await using var host = await PipelineHost.StartAsync(
            new Dictionary<string, string?>
            {
                ["Sources:fridge:Type"] = "wav",
                ["Sources:fridge:SilenceThresholdDbfs"] = "-20",
                ["Sources:door:Type"] = "wav",
            },
            startHostedServices: false);
        var factory = host.Services.GetRequiredService<SourceWindowerFactory>();
        var fridge = factory.Create("fridge", AudioFormat.Mono16k);
        var door = factory.Create("door", AudioFormat.Mono16k);

        // 12 s of a 0.1-amplitude hum: about -23 dBFS, under the fridge's -20 and far above the global -70.
        var hum = new float[16000 * 12];
        for (var i = 0; i < hum.Length; i++)
            hum[i] = 0.1f * MathF.Sin(2 * MathF.PI * 50 * i / 16000f);
        var start = DateTimeOffset.UtcNow;
        fridge.Append(hum, start);
        door.Append(hum, start);

        Assert.True(fridge.WindowsSilent > 0);
        Assert.Equal(0, fridge.WindowsQueued);
        Assert.Equal(0, door.WindowsSilent);
        Assert.True(door.WindowsQueued > 0);
        Assert.Equal(fridge.WindowsSilent, door.WindowsQueued);
    }
}
