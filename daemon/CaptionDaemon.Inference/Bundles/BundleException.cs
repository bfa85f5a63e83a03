namespace CaptionDaemon.Inference.Bundles;

/// <summary>
/// A caption bundle cannot be used: its manifest, a file, a checksum or a graph does not match what the manifest
/// and the bundle contract say. The message names the file and what is wrong.
/// </summary>
public sealed class BundleException : Exception
{
    /// <summary>Creates the exception with no message.</summary>
    public BundleException()
    {
    }

    /// <summary>Creates the exception with a message naming the file and the problem.</summary>
    public BundleException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    public BundleException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
