using System.Net;

namespace CaptionDaemon.Plugins.Audio.Network;

/// <summary>Where a <c>tcp</c> source gets its stream: a local address to accept senders on, or a server to dial.</summary>
internal sealed record TcpEndPoint(IPEndPoint? Listen, string? Host, int Port)
{
    public static TcpEndPoint Listening(IPEndPoint listen) => new(listen, null, listen.Port);

    public static TcpEndPoint Connecting((string Host, int Port) remote) => new(null, remote.Host, remote.Port);

    public override string ToString() => Listen?.ToString() ?? $"{Host}:{Port}";
}
