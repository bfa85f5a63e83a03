namespace CaptionDaemon.Training.Reporting;

/// <summary>An opaque 8-bit colour.</summary>
internal readonly record struct Rgb(byte R, byte G, byte B)
{
    public static Rgb White { get; } = new(255, 255, 255);

    public static Rgb Black { get; } = new(0, 0, 0);

    /// <summary>From <c>0xRRGGBB</c>.</summary>
    public static Rgb FromHex(int rgb) => new((byte)(rgb >> 16), (byte)(rgb >> 8), (byte)rgb);

    public override string ToString() => $"#{R:X2}{G:X2}{B:X2}";
}
