using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace StreamServer.Persistence;

/// <summary>What a load did: commands replayed, bytes read, whether a torn tail was cut.</summary>
public sealed record AofLoadResult(long Commands, long Bytes, bool TruncatedTail);

/// <summary>
/// Loads a multi-part AOF (Redis 7's loadAppendOnlyFiles): the base, then each incremental file, each command handed
/// to <c>execute</c> (the server replays it through the same handlers with a fake client). A file that ends inside
/// a command is cut at the last complete one when it is the last file and <c>aof-load-truncated</c> is on; a
/// transaction left open at the end is dropped. Anything else that is not RESP stops the load with the file and
/// byte offset.
/// </summary>
public sealed class AofLoader
{
    private readonly ILogger _log;
    private readonly bool _loadTruncated;

    public AofLoader(ILogger log, bool loadTruncated)
    {
        _log = log;
        _loadTruncated = loadTruncated;
    }

    /// <summary>Set while loading: bytes loaded so far and the total (INFO loading_*).</summary>
    public long LoadedBytes { get; private set; }

    public long TotalBytes { get; private set; }

    public AofLoadResult Load(string appendDir, AofManifest manifest, Action<List<byte[]>> execute)
    {
        var files = manifest.LoadOrder.ToList();
        TotalBytes = files.Sum(f => File.Exists(Path.Combine(appendDir, f.Name)) ? new FileInfo(Path.Combine(appendDir, f.Name)).Length : 0);
        long commands = 0;
        var truncated = false;
        for (var i = 0; i < files.Count; i++)
        {
            var path = Path.Combine(appendDir, files[i].Name);
            if (!File.Exists(path))
            {
                // Redis tolerates a missing last incremental file only if it is empty by construction; treat as fatal otherwise.
                if (files[i].Type == 'i' && i == files.Count - 1) continue;
                throw new AofFormatException($"The AOF file {files[i].Name} doesn't exist");
            }
            var r = LoadFile(path, isLast: i == files.Count - 1, execute);
            commands += r.Commands;
            truncated |= r.TruncatedTail;
        }
        return new AofLoadResult(commands, LoadedBytes, truncated);
    }

    /// <summary>Loads one file (also used for a lone appendonly.aof).</summary>
    public AofLoadResult LoadFile(string path, bool isLast, Action<List<byte[]>> execute)
    {
        var name = Path.GetFileName(path);
        long commands = 0;
        long cutAt = -1;
        var clock = Stopwatch.StartNew();
        var nextProgress = 1000L;
        var baseLoaded = LoadedBytes;
        using (var reader = new AofReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan)))
        {
            if (new FileInfo(path).Length >= 5 && StartsWithRdbPreamble(path))
                throw new AofFormatException($"The AOF file {name} starts with an RDB preamble, which StreamServer does not read (set aof-use-rdb-preamble no in Redis)");
            var args = new List<byte[]>();
            long multiStart = -1;
            while (true)
            {
                var before = reader.Offset;
                var status = reader.Read(args);
                if (status == AofReadStatus.Command)
                {
                    if (IsCommand(args, "MULTI"u8)) multiStart = before;
                    else if (IsCommand(args, "EXEC"u8)) multiStart = -1;
                    execute(args);
                    commands++;
                    LoadedBytes = baseLoaded + reader.Offset;
                    if (clock.ElapsedMilliseconds >= nextProgress)
                    {
                        nextProgress = clock.ElapsedMilliseconds + 1000;
                        _log.LogInformation("Loading AOF {File}: {Loaded} of {Total} bytes ({Percent:F1}%)", name, LoadedBytes, TotalBytes,
                            TotalBytes == 0 ? 100.0 : 100.0 * LoadedBytes / TotalBytes);
                    }
                    continue;
                }
                if (status == AofReadStatus.Corrupt)
                {
                    throw new AofFormatException($"Bad file format reading the append only file {name} at byte offset {reader.ErrorOffset} ({reader.Error}): make a backup of your AOF file, then use streamserver --check-aof --fix <manifest>");
                }
                if (status == AofReadStatus.Truncated)
                {
                    if (!isLast || !_loadTruncated)
                    {
                        throw new AofFormatException($"Unexpected end of file reading the append only file {name} at byte offset {reader.Offset}: "
                            + (isLast ? "set aof-load-truncated yes or run streamserver --check-aof --fix <manifest>" : "only the last file may be truncated"));
                    }
                    _log.LogWarning("!!! Warning: short read while loading the AOF file {File}!!! Cutting it at byte offset {Offset}, the end of the last complete command", name, reader.Offset);
                    cutAt = reader.Offset;
                }
                if (multiStart >= 0)
                {
                    if (!isLast && status == AofReadStatus.End)
                        throw new AofFormatException($"Unexpected end of file reading the append only file {name} at byte offset {reader.Offset}: a transaction is left open");
                    _log.LogWarning("Revert incomplete MULTI/EXEC transaction in AOF file {File} (from byte offset {Offset})", name, multiStart);
                    execute(["DISCARD"u8.ToArray()]);
                    cutAt = multiStart;
                }
                break;
            }
        }
        if (cutAt >= 0)
        {
            using var f = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            f.SetLength(cutAt);
            f.Flush(flushToDisk: true);
            _log.LogWarning("AOF {File} loaded anyway because aof-load-truncated is enabled", name);
        }
        return new AofLoadResult(commands, LoadedBytes, cutAt >= 0);
    }

    internal static bool IsCommand(List<byte[]> args, ReadOnlySpan<byte> upper)
        => args.Count > 0 && Execution.CommandContext.EqualsIgnoreCase(args[0], upper);

    private static bool StartsWithRdbPreamble(string path)
    {
        Span<byte> head = stackalloc byte[5];
        using var f = File.OpenRead(path);
        return f.Read(head) == 5 && head.SequenceEqual("REDIS"u8);
    }
}
