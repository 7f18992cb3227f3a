using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using StreamServer.Persistence;

namespace StreamServer.Tests.Persistence;

public class AofReaderTests
{
    private static byte[] Encode(params string[][] commands)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        foreach (var c in commands) RespEncoder.WriteCommand(buffer, c.Select(Encoding.UTF8.GetBytes).ToArray());
        return buffer.WrittenSpan.ToArray();
    }

    private static readonly string[][] Commands =
    [
        ["SELECT", "0"],
        ["SET", "a", "1"],
        ["SADD", "s", "x", "y"],
        ["HSET", "h", "field", "value with\r\nnewline"],
    ];

    private static List<string> LoadAll(string path, bool truncatedAllowed = true)
    {
        var seen = new List<string>();
        new AofLoader(NullLogger.Instance, truncatedAllowed).LoadFile(path, isLast: true, args => seen.Add(string.Join(' ', args.Select(a => Encoding.UTF8.GetString(a)))));
        return seen;
    }

    [Fact]
    public void TornTail_AtEveryByteOfTheLastCommand_LoadsEverythingBeforeIt_AndCutsTheFile()
    {
        var full = Encode(Commands);
        var prefix = Encode(Commands[..^1]);
        var expected = Commands[..^1].Select(c => string.Join(' ', c)).ToList();
        var path = Path.GetTempFileName();
        try
        {
            for (var cut = prefix.Length + 1; cut < full.Length; cut++)
            {
                File.WriteAllBytes(path, full[..cut]);
                Assert.Equal(expected, LoadAll(path));
                Assert.Equal(prefix.Length, new FileInfo(path).Length); // cut back to the last complete command
            }
            File.WriteAllBytes(path, full);
            Assert.Equal(Commands.Length, LoadAll(path).Count);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void TornTail_WithLoadTruncatedOff_IsAnError()
    {
        var full = Encode(Commands);
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, full[..^3]);
            var e = Assert.Throws<AofFormatException>(() => LoadAll(path, truncatedAllowed: false));
            Assert.Contains("Unexpected end of file", e.Message, StringComparison.Ordinal);
            Assert.Contains(Path.GetFileName(path), e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void GarbageInTheMiddle_RefusesWithFileAndOffset()
    {
        var head = Encode(Commands[..2]);
        var tail = Encode(Commands[2..]);
        var bytes = head.Concat("garbage\r\n"u8.ToArray()).Concat(tail).ToArray();
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, bytes);
            var e = Assert.Throws<AofFormatException>(() => LoadAll(path));
            Assert.Contains(Path.GetFileName(path), e.Message, StringComparison.Ordinal);
            Assert.Contains($"byte offset {head.Length}", e.Message, StringComparison.Ordinal);
            Assert.Equal(bytes.Length, new FileInfo(path).Length); // nothing cut
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void BadBulkTerminator_IsCorruption_NotTruncation()
    {
        var bytes = Encoding.ASCII.GetBytes("*2\r\n$3\r\nGET\r\n$1\r\nkXX*1\r\n$4\r\nPING\r\n");
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, bytes);
            var e = Assert.Throws<AofFormatException>(() => LoadAll(path));
            Assert.Contains("byte offset 18", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void OpenTransactionAtTheEnd_IsDropped()
    {
        var bytes = Encode(["SET", "a", "1"], ["MULTI"], ["INCR", "a"]);
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, bytes);
            var seen = LoadAll(path);
            Assert.Equal(["SET a 1", "MULTI", "INCR a", "DISCARD"], seen);
            Assert.Equal(Encode(["SET", "a", "1"]).Length, new FileInfo(path).Length);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Annotations_AreSkipped()
    {
        var bytes = Encoding.ASCII.GetBytes("#TS:1700000000\r\n").Concat(Encode(["SET", "a", "1"])).ToArray();
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, bytes);
            Assert.Equal(["SET a 1"], LoadAll(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Manifest_RoundTripsRedisFormat()
    {
        const string text = "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n";
        var m = AofManifest.Parse(text, "m");
        Assert.Equal("appendonly.aof.1.base.aof", m.Base!.Name);
        Assert.Equal(2, m.Incremental.Count);
        Assert.Equal(text, m.Format());
        Assert.Equal("appendonly.aof", AofFiles.ManifestPrefix(m));
    }
}

public class AofCheckerTests
{
    [Fact]
    public void CheckAof_TornTail_ReportsThenFixTruncates()
    {
        var dir = Directory.CreateTempSubdirectory("aofcheck").FullName;
        try
        {
            var good = "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n"u8.ToArray();
            File.WriteAllBytes(Path.Combine(dir, "appendonly.aof.1.base.aof"), []);
            File.WriteAllBytes(Path.Combine(dir, "appendonly.aof.1.incr.aof"), [.. good, .. "*2\r\n$3\r\nGE"u8]);
            File.WriteAllText(Path.Combine(dir, "appendonly.aof.manifest"), "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n");
            var manifest = Path.Combine(dir, "appendonly.aof.manifest");
            var report = new StringWriter();
            Assert.Equal(1, AofChecker.Run(manifest, fix: false, report));
            Assert.Contains($"ok_up_to={good.Length}", report.ToString(), StringComparison.Ordinal);
            Assert.Equal(0, AofChecker.Run(manifest, fix: true, new StringWriter()));
            Assert.Equal(good.Length, new FileInfo(Path.Combine(dir, "appendonly.aof.1.incr.aof")).Length);
            Assert.Equal(0, AofChecker.Run(manifest, fix: false, new StringWriter()));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
