using StreamServer.Configuration;
using StreamServer.Execution;

namespace StreamServer.Tests.Execution;

/// <summary>
/// Dispatcher.InvokeAsync (connect/disconnect bookkeeping) runs on the calling thread when the dispatcher is idle, as
/// Post does for batches, and is queued in every case where a batch would be.
/// </summary>
public sealed class DispatcherInvokeTests : IDisposable
{
    private readonly Dispatcher _dispatcher = new(new ServerContext(new ServerOptions()));

    public DispatcherInvokeTests() => _dispatcher.Start();

    public void Dispose() => _dispatcher.Dispose();

    [Fact]
    public async Task InvokeAsync_WhenIdle_RunsOnTheCallingThreadAndCompletesSynchronously()
    {
        // The dispatcher thread holds the run lock for its own turns (start-up, the cron): try until one finds it idle.
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var caller = Environment.CurrentManagedThreadId;
            var result = _dispatcher.InvokeAsync(() => Environment.CurrentManagedThreadId);
            if (result.IsCompleted)
            {
                Assert.Equal(caller, await result);
                return;
            }
            await result;
            await Task.Delay(5);
        }
        Assert.Fail("never ran on the calling thread");
    }

    [Fact]
    public async Task InvokeAsync_FromInsideARun_IsQueuedAndRunsAfterIt()
    {
        var order = new List<string>();
        ValueTask<int> inner = default;

        var outer = _dispatcher.InvokeAsync(() =>
        {
            inner = _dispatcher.InvokeAsync(() =>
            {
                order.Add("inner");
                return 2;
            });
            order.Add("outer");
            return inner.IsCompleted ? -1 : 1;
        });

        Assert.Equal(1, await outer);
        Assert.Equal(2, await inner);
        Assert.Equal(["outer", "inner"], order);
    }

    [Fact]
    public async Task InvokeAsync_OnAQueueOnlyThread_RunsOnTheDispatcherThread()
    {
        var (caller, ranOn) = await RunOnNewThread(() =>
        {
            Dispatcher.QueueOnlyOnThisThread();
            return (Environment.CurrentManagedThreadId, _dispatcher.InvokeAsync(() => Environment.CurrentManagedThreadId).AsTask().GetAwaiter().GetResult());
        });

        Assert.NotEqual(caller, ranOn);
    }

    [Fact]
    public async Task InvokeAsync_WhileAnotherThreadHoldsTheRunLock_WaitsForIt()
    {
        using var entered = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var holding = false;
        var holder = Task.Run(() => _dispatcher.InvokeAsync(() =>
        {
            Volatile.Write(ref holding, true);
            entered.Set();
            release.Wait();
            Volatile.Write(ref holding, false);
            return true;
        }).AsTask());
        entered.Wait();

        var second = _dispatcher.InvokeAsync(() => Volatile.Read(ref holding));
        Assert.False(second.IsCompleted);
        release.Set();

        Assert.False(await second); // ran after the holder's run, never beside it
        Assert.True(await holder);
    }

    private static Task<T> RunOnNewThread<T>(Func<T> func)
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try { tcs.SetResult(func()); }
            catch (Exception e) { tcs.SetException(e); }
        })
        { IsBackground = true };
        thread.Start();
        return tcs.Task;
    }
}
