using System.Buffers.Text;

namespace StreamServer.Execution;

/// <summary>
/// MONITOR (Redis's replicationFeedMonitors): after each command runs, the clients in monitor mode get one status
/// line naming it — <c>+&lt;unix seconds&gt;.&lt;microseconds&gt; [&lt;db&gt; &lt;ip:port&gt;] "arg" "arg" …</c>, each
/// argument quoted and escaped as Redis's sdscatrepr. As Redis: admin commands and those flagged skip_monitor are
/// not shown, nor commands rejected before they ran (unknown, wrong arity, queued in MULTI: those show when EXEC
/// runs them), nor an unblocked command's re-run, nor the AOF being loaded; AUTH's arguments and HELLO's AUTH
/// credentials are shown as "(redacted)". With no monitor that is one count test per command. Dispatcher thread.
/// </summary>
public sealed class MonitorFeed(ClientLimits limits)
{
    private readonly List<ClientSession> _monitors = [];
    private byte[] _line = new byte[256];
    private int _length;

    public int Count => _monitors.Count;

    /// <summary>MONITOR: false when the client already is a monitor (Redis then replies nothing).</summary>
    public bool Add(ClientSession client)
    {
        if (client.IsMonitor) return false;
        client.IsMonitor = true;
        _monitors.Add(client);
        return true;
    }

    /// <summary>A monitor that went away or ran RESET.</summary>
    public void Remove(ClientSession client)
    {
        if (!client.IsMonitor) return;
        client.IsMonitor = false;
        _monitors.Remove(client);
    }

    /// <summary>After <paramref name="command"/> ran for <paramref name="client"/> with <paramref name="args"/>.</summary>
    public void Feed(ClientSession client, CommandDef command, ReadOnlySpan<ReadOnlyMemory<byte>> args, long unixMicroseconds)
    {
        if ((command.Flags & (CommandFlags.Admin | CommandFlags.SkipMonitor)) != 0) return;
        _length = 0;
        Append("+"u8);
        Number(unixMicroseconds / 1_000_000);
        Append("."u8);
        var micros = unixMicroseconds % 1_000_000;
        for (var scale = 100_000; scale > 0; scale /= 10) Append((byte)('0' + micros / scale % 10));
        Append(" ["u8);
        Number(client.DbIndex);
        Append(" "u8);
        foreach (var c in client.Transport.RemoteEndPoint) Append((byte)c);
        Append("]"u8);
        var redactFrom = RedactedFrom(command, args);
        for (var i = 0; i < args.Length; i++)
        {
            Append(" "u8);
            if (i >= redactFrom.Start && i < redactFrom.End) Append("\"(redacted)\""u8);
            else Quoted(args[i].Span);
        }
        Append("\r\n"u8);
        var line = _line.AsSpan(0, _length);
        foreach (var monitor in _monitors)
        {
            if (monitor.IsClosed || monitor.CloseRequested) continue;
            lock (monitor.ReplyLock) monitor.Reply.Raw(line);
            if (monitor != client && !limits.CloseIfOverOutputBufferLimit(monitor)) monitor.Transport.RequestFlush();
        }
    }

    /// <summary>Arguments shown as "(redacted)" (Redis's redactClientCommandArgument): AUTH's, HELLO's AUTH user and password.</summary>
    private static (int Start, int End) RedactedFrom(CommandDef command, ReadOnlySpan<ReadOnlyMemory<byte>> args)
    {
        if (command.Parent is not null) return (0, 0);
        if (command.Name == "auth") return (1, args.Length);
        if (command.Name != "hello") return (0, 0);
        for (var i = 2; i + 2 < args.Length; i++)
        {
            if (System.Text.Ascii.EqualsIgnoreCase(args[i].Span, "AUTH"u8)) return (i + 1, i + 3);
        }
        return (0, 0);
    }

    /// <summary>Redis's sdscatrepr: "…" with \\ \" \n \r \t \a \b escaped, other bytes outside 0x20–0x7e as \xhh.</summary>
    private void Quoted(ReadOnlySpan<byte> value)
    {
        Append("\""u8);
        foreach (var b in value)
        {
            switch (b)
            {
                case (byte)'\\': Append("\\\\"u8); break;
                case (byte)'"': Append("\\\""u8); break;
                case (byte)'\n': Append("\\n"u8); break;
                case (byte)'\r': Append("\\r"u8); break;
                case (byte)'\t': Append("\\t"u8); break;
                case 7: Append("\\a"u8); break;
                case 8: Append("\\b"u8); break;
                default:
                    if (b is >= 0x20 and <= 0x7e) Append(b);
                    else
                    {
                        Append("\\x"u8);
                        Append((byte)"0123456789abcdef"[b >> 4]);
                        Append((byte)"0123456789abcdef"[b & 15]);
                    }
                    break;
            }
        }
        Append("\""u8);
    }

    private void Number(long value)
    {
        Reserve(20);
        Utf8Formatter.TryFormat(value, _line.AsSpan(_length), out var written);
        _length += written;
    }

    private void Append(byte b)
    {
        Reserve(1);
        _line[_length++] = b;
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        Reserve(bytes.Length);
        bytes.CopyTo(_line.AsSpan(_length));
        _length += bytes.Length;
    }

    private void Reserve(int size)
    {
        if (_line.Length - _length >= size) return;
        var grown = new byte[Math.Max(_line.Length * 2, _length + size)];
        _line.AsSpan(0, _length).CopyTo(grown);
        _line = grown;
    }
}
