namespace StreamServer.Networking;

/// <summary>
/// Process-wide settings of .NET's socket engine for a server process (not for the embedded server, which lives in
/// someone else's process). They must be applied before the first socket operation: the runtime reads them once.
/// </summary>
/// <remarks>
/// With <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c> a socket completion runs on the engine's epoll thread
/// instead of being queued to the thread pool; with <c>DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT=1</c> there is one
/// such thread, as Redis has one event loop. Together with the inline pipe schedulers of <see cref="Listener"/>, a
/// request goes epoll thread (receive, parse) → dispatcher (run, send) with no thread-pool hop in between; the
/// load comparison measured about a third less server CPU per PING at -P 1 (docs/design-notes.md, note 9).
/// Nothing on the epoll thread may block: the receive path only parses and posts to the dispatcher.
/// A value already set in the environment wins, so an operator can turn either off.
/// </remarks>
public static class SocketEngineTuning
{
    public static void Apply()
    {
        SetUnlessPresent("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        SetUnlessPresent("DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT", "1");
    }

    private static void SetUnlessPresent(string name, string value)
    {
        if (Environment.GetEnvironmentVariable(name) is null) Environment.SetEnvironmentVariable(name, value);
    }
}
