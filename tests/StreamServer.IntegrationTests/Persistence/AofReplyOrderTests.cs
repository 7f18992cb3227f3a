using System.Buffers;
using StreamServer.Embedded;
using StreamServer.Execution;
using StreamServer.IntegrationTests.PubSub;
using static StreamServer.IntegrationTests.Persistence.AofTestSupport;

namespace StreamServer.IntegrationTests.Persistence;

/// <summary>
/// Under appendfsync always no client sees data the file may still lose: Redis fsyncs in beforeSleep before any
/// reply, so a reader's reply that shows another client's write leaves only after the fsync that covers it.
/// The fsync thread is held here to make the window wide and deterministic.
/// </summary>
public sealed class AofReplyOrderTests
{
    [Fact]
    public async Task Always_AReaderSeeingAnUnsyncedWrite_IsAnsweredOnlyAfterItsFsync()
    {
        var dir = NewTempDir();
        try
        {
            await using var server = await EmbeddedServer.StartAsync(Options(dir, "always"));
            await using var writer = await RawClient.ConnectAsync(server);
            await using var reader = await RawClient.ConnectAsync(server);
            var aof = server.Runtime.Aof.Writer!;
            using var fsyncHeld = new ManualResetEventSlim(false);
            using var fsyncReleased = new ManualResetEventSlim(false);
            aof.BeforeFsync = () =>
            {
                fsyncHeld.Set();
                fsyncReleased.Wait();
            };

            try
            {
                await writer.SendAsync("XADD", "s", "1-1", "f", "v");
                Assert.True(fsyncHeld.Wait(TimeSpan.FromSeconds(10)), "the XADD's fsync never started");
                Assert.True(aof.WrittenOffset > aof.SyncedOffset); // written, not yet on disk

                await reader.SendAsync("XRANGE", "s", "-", "+");
                Assert.True(await reader.NothingArrivesAsync(TimeSpan.FromMilliseconds(300)), "XRANGE answered before the fsync");
                Assert.True(await writer.NothingArrivesAsync(TimeSpan.FromMilliseconds(50)), "XADD answered before the fsync");
            }
            finally
            {
                aof.BeforeFsync = null;
                fsyncReleased.Set();
            }
            Assert.Equal("$3\r\n1-1\r\n", await writer.ReadAsync());
            Assert.Equal("*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n", await reader.ReadAsync());

            // Once the file holds everything, a reader is answered at once again.
            Assert.Equal(":1\r\n", await reader.CallAsync("XLEN", "s"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task Always_AReaderWithNothingUnsynced_IsNotHeldByTheFsyncThread()
    {
        var dir = NewTempDir();
        try
        {
            await using var server = await EmbeddedServer.StartAsync(Options(dir, "always"));
            await using var client = await RawClient.ConnectAsync(server);
            Assert.Equal("$3\r\n1-1\r\n", await client.CallAsync("XADD", "s", "1-1", "f", "v")); // answered after its fsync
            using var fsyncReleased = new ManualResetEventSlim(false);
            server.Runtime.Aof.Writer!.BeforeFsync = () => fsyncReleased.Wait();
            try
            {
                // Nothing is appended and not synced: reads do not wait for any fsync.
                Assert.Equal(":1\r\n", await client.CallAsync("XLEN", "s"));
                Assert.Equal("+PONG\r\n", await client.CallAsync("PING"));
            }
            finally
            {
                fsyncReleased.Set();
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private sealed class NoTransport : IClientTransport
    {
        public void RequestFlush() { }
        public void CloseAfterReply() { }
        public string RemoteEndPoint => "127.0.0.1:1";
        public string LocalEndPoint => "127.0.0.1:2";
    }

    [Theory]
    [InlineData("everysec")]
    [InlineData("no")]
    public async Task WriteToTheFile_ComesBeforeTheReplyOfABatchThatWroteNothing(string policy)
    {
        var dir = NewTempDir();
        try
        {
            await using var server = await EmbeddedServer.StartAsync(Options(dir, policy));
            var aof = server.Runtime.Aof;
            var writer = aof.Writer!;
            var reader = new ClientSession(-1, new NoTransport(), 0); // wrote nothing: AofOffset 0
            var (deferredWhileUnwritten, replyAfter, appended, deferredWhenWritten) = await server.Runtime.Dispatcher.InvokeAsync(() =>
            {
                // Inside one run: another client's write is appended, not yet written to the file.
                var end = writer.Append(0, static (buffer, _) => buffer.Write("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"u8));
                var deferred = aof.DeferCompletion(reader);
                var after = reader.ReplyAfterOffset;
                writer.WriteBuffered();
                return (deferred, after, end, aof.DeferCompletion(new ClientSession(-2, new NoTransport(), 0)));
            });

            Assert.True(deferredWhileUnwritten); // completes at the end of the run, after its write()
            Assert.Equal(appended, replyAfter);
            Assert.False(deferredWhenWritten); // nothing unwritten: completes at once
            Assert.True(writer.WrittenOffset >= appended);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
