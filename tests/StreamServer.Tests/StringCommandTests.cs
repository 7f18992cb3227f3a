using System.Text;
using StreamServer.Commands;
using StreamServer.Configuration;
using StreamServer.Execution;
using StreamServer.Storage;

namespace StreamServer.Tests;

/// <summary>String and key handlers run directly on a context, without sockets: allocation and in-place behaviour.</summary>
public sealed class StringCommandTests
{
    private sealed class NullTransport : IClientTransport
    {
        public void RequestFlush() { }
        public void CloseAfterReply() { }
        public string RemoteEndPoint => "127.0.0.1:1";
        public string LocalEndPoint => "127.0.0.1:2";
    }

    private sealed class Harness
    {
        private readonly ClientSession _client;
        public Harness()
        {
            Server = new ServerContext(new ServerOptions());
            CommandRegistry.RegisterAll(Server.Commands);
            _client = new ClientSession(1, new NullTransport(), 0) { Authenticated = true };
            Context = new CommandContext(Server);
        }

        public ServerContext Server { get; }
        public CommandContext Context { get; }

        public static ReadOnlyMemory<byte>[] Args(params string[] args) => args.Select(a => (ReadOnlyMemory<byte>)Encoding.UTF8.GetBytes(a)).ToArray();

        /// <summary>Runs the command's handler and returns its reply bytes.</summary>
        public string Run(ReadOnlyMemory<byte>[] args)
        {
            RunRaw(args);
            return Encoding.UTF8.GetString(_client.Reply.WrittenSpan);
        }

        public string Run(params string[] args) => Run(Args(args));

        public void RunRaw(ReadOnlyMemory<byte>[] args)
        {
            _client.Reply.Clear();
            Context.Bind(_client, args, 0, args.Length);
            var command = Server.Commands.Find(args[0].Span)!;
            if (command.Subcommands is not null) command = CommandTable.FindSubcommand(command, args[1].Span)!;
            Context.Command = command;
            command.Handler(Context);
        }
    }

    [Theory]
    [InlineData("GET", "str:k")]
    [InlineData("SET", "str:k", "value-of-ten")]
    [InlineData("INCR", "str:n")]
    [InlineData("SET", "str:n", "12345")]
    [InlineData("SET", "str:k", "value-of-ten", "EX", "100")]
    public void HotCommand_OnExistingKey_AllocatesNothing(params string[] command)
    {
        var h = new Harness();
        h.Run("SET", "str:k", "value-of-ten");
        h.Run("SET", "str:n", "1");
        var args = Harness.Args(command);
        for (var i = 0; i < 2000; i++) h.RunRaw(args); // warm up: tiering, reply buffer, expiry queue growth

        // The least of five windows of 1,000 calls: a one-time event on this thread (the JIT promotes a method once
        // its 100 ms call-counting delay is over, which a fast warm-up does not outlast; 7,256 B in one CI run) falls
        // into one window, while an allocation per command shows in every window.
        var windows = new long[5];
        for (var w = 0; w < windows.Length; w++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 1000; i++) h.RunRaw(args);
            windows[w] = GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Assert.True(windows.Min() == 0, "bytes allocated per window of 1,000 calls: " + string.Join(", ", windows));
    }

    [Fact]
    public void Set_SameLengthValue_ReusesTheStoredObject()
    {
        var h = new Harness();
        h.Run("SET", "str:k", "aaaa");
        var stored = h.Server.Keyspace[0].Get("str:k"u8);
        Assert.Equal("+OK\r\n", h.Run("SET", "str:k", "bbbb"));
        Assert.Same(stored, h.Server.Keyspace[0].Get("str:k"u8));
        Assert.Equal("$4\r\nbbbb\r\n", h.Run("GET", "str:k"));
    }

    [Fact]
    public void Set_WithoutKeepTtl_ClearsTheTtlOfAnInPlaceReplacement()
    {
        var h = new Harness();
        h.Run("SET", "str:k", "aaaa", "EX", "100");
        Assert.Equal(":100\r\n", h.Run("TTL", "str:k"));
        h.Run("SET", "str:k", "bbbb");
        Assert.Equal(":-1\r\n", h.Run("TTL", "str:k"));
    }

    [Fact]
    public void Incr_MutatesInPlace_KeepsTtl_AndTouchesTheKey()
    {
        var h = new Harness();
        h.Run("SET", "str:n", "41", "EX", "100");
        var stored = h.Server.Keyspace[0].Get("str:n"u8);
        var touched = 0;
        h.Server.Keyspace[0].KeyTouched += (_, _) => touched++;

        Assert.Equal(":42\r\n", h.Run("INCR", "str:n"));
        Assert.Same(stored, h.Server.Keyspace[0].Get("str:n"u8));
        Assert.Equal(1, touched);
        Assert.Equal(":100\r\n", h.Run("TTL", "str:n"));
    }

    [Fact]
    public void Append_ThenSetRange_GrowInPlaceAndReportRaw()
    {
        var h = new Harness();
        Assert.Equal(":3\r\n", h.Run("APPEND", "str:a", "123"));
        Assert.Equal("$3\r\nint\r\n", h.Run("OBJECT", "ENCODING", "str:a"));
        Assert.Equal(":6\r\n", h.Run("APPEND", "str:a", "456"));
        Assert.Equal("$3\r\nraw\r\n", h.Run("OBJECT", "ENCODING", "str:a"));
        Assert.Equal(":10\r\n", h.Run("SETRANGE", "str:a", "8", "xy"));
        Assert.Equal("$10\r\n123456\0\0xy\r\n", h.Run("GET", "str:a"));
    }

    [Fact]
    public void SetRange_BeyondProtoMaxBulkLen_IsRefusedWithoutCreatingTheKey()
    {
        var h = new Harness();
        Assert.Equal("-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n", h.Run("SETRANGE", "str:big", "536870912", "x"));
        Assert.Equal(":0\r\n", h.Run("EXISTS", "str:big"));
    }

    [Fact]
    public void Rename_MovesTheSameValueObjectAndItsTtl()
    {
        var h = new Harness();
        h.Run("SET", "key:a", "v", "PX", "100000");
        var stored = h.Server.Keyspace[0].Get("key:a"u8);
        var expiry = h.Server.Keyspace[0].GetExpiry("key:a"u8);
        Assert.Equal("+OK\r\n", h.Run("RENAME", "key:a", "key:b"));
        Assert.Same(stored, h.Server.Keyspace[0].Get("key:b"u8));
        Assert.Equal(expiry, h.Server.Keyspace[0].GetExpiry("key:b"u8));
        Assert.Equal(-1, h.Server.Keyspace[0].GetExpiry("key:a"u8));
    }
}
