namespace CaptionDaemon.Plugins.Audio.Pcm;

/// <summary>How one sample is stored: little-endian, integers full-scale, floats nominally in [-1, 1].</summary>
internal enum SampleEncoding
{
    Unsigned8,
    Signed16,
    Signed24,
    Signed32,
    Float32,
    Float64,
}
