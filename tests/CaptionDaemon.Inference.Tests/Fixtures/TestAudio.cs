namespace CaptionDaemon.Inference.Tests.Fixtures;

/// <summary>Deterministic audio windows of different kinds (tone, noise, near-silence with clicks, chirp), in turn.</summary>
internal static class TestAudio
{
    public static float[] Windows(int count, int samples, int sampleRate, int seed = 11)
    {
        var audio = new float[count * samples];
        var random = new Random(seed);
        for (var w = 0; w < count; w++)
        {
            var span = audio.AsSpan(w * samples, samples);
            var kind = (w + seed) % 4;
            var pitch = 200.0 + random.Next(0, 2000);
            for (var i = 0; i < samples; i++)
            {
                var t = (double)i / sampleRate;
                span[i] = kind switch
                {
                    0 => (float)(0.5 * Math.Sin(2 * Math.PI * pitch * t)),
                    1 => (float)(0.4 * ((random.NextDouble() * 2) - 1)),
                    2 => i % (sampleRate / 4) < 40 ? 0.9f : (float)(0.001 * ((random.NextDouble() * 2) - 1)),
                    _ => (float)(0.3 * Math.Sin(2 * Math.PI * (pitch + (3000 * t)) * t)),
                };
            }
        }

        return audio;
    }
}
