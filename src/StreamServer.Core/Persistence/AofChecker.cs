namespace StreamServer.Persistence;

/// <summary>
/// <c>streamserver --check-aof [--fix] &lt;manifest|file&gt;</c>, as redis-check-aof: reads every file the manifest
/// lists (or the one file), reports how far each is valid, and with --fix cuts the last file back to its last
/// complete command (a torn tail or trailing garbage). An earlier file that is damaged cannot be fixed.
/// </summary>
public static class AofChecker
{
    public static int Run(string path, bool fix, TextWriter output)
    {
        if (!File.Exists(path))
        {
            output.WriteLine($"Cannot open file {path}: No such file or directory");
            return 1;
        }
        List<string> files;
        if (path.EndsWith(".manifest", StringComparison.Ordinal))
        {
            output.WriteLine("Start checking Multi Part AOF");
            AofManifest manifest;
            try
            {
                manifest = AofManifest.Parse(File.ReadAllText(path), path);
            }
            catch (AofFormatException e)
            {
                output.WriteLine(e.Message);
                return 1;
            }
            var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
            files = manifest.LoadOrder.Select(f => Path.Combine(dir, f.Name)).ToList();
        }
        else
        {
            files = [path];
        }
        for (var i = 0; i < files.Count; i++)
        {
            var isLast = i == files.Count - 1;
            var file = files[i];
            if (!File.Exists(file))
            {
                output.WriteLine($"AOF {Path.GetFileName(file)} doesn't exist");
                return 1;
            }
            var size = new FileInfo(file).Length;
            AofReadStatus status;
            long okUpTo;
            string? error;
            using (var reader = new AofReader(File.OpenRead(file)))
            {
                var args = new List<byte[]>();
                long multiStart = -1;
                while (true)
                {
                    var before = reader.Offset;
                    status = reader.Read(args);
                    if (status != AofReadStatus.Command) break;
                    if (AofLoader.IsCommand(args, "MULTI"u8)) multiStart = before;
                    else if (AofLoader.IsCommand(args, "EXEC"u8)) multiStart = -1;
                }
                okUpTo = status == AofReadStatus.Corrupt ? reader.ErrorOffset : reader.Offset;
                // A command that is cut or garbled inside a transaction takes the whole transaction with it.
                if (multiStart >= 0) okUpTo = Math.Min(okUpTo, multiStart);
                if (status == AofReadStatus.Corrupt)
                {
                    // The bytes before the bad line belong to an incomplete command: cut at the last complete one.
                    okUpTo = Math.Min(okUpTo, reader.Offset);
                }
                error = status switch
                {
                    AofReadStatus.Corrupt => $"format error at byte offset {reader.ErrorOffset}: {reader.Error}",
                    AofReadStatus.Truncated => $"unexpected end of file at byte offset {size}",
                    _ => multiStart >= 0 ? "reached EOF before reading EXEC for MULTI" : null,
                };
            }
            output.WriteLine($"AOF analyzed: filename={Path.GetFileName(file)}, size={size}, ok_up_to={okUpTo}, diff={size - okUpTo}");
            if (error is null)
            {
                output.WriteLine($"AOF {Path.GetFileName(file)} is valid");
                continue;
            }
            output.WriteLine($"0x{okUpTo:x}: {error}");
            if (!isLast)
            {
                output.WriteLine($"AOF {Path.GetFileName(file)} is not the last file: it cannot be fixed, restore it from a backup");
                return 1;
            }
            if (!fix)
            {
                output.WriteLine("AOF is not valid. Use the --fix option to try fixing it.");
                return 1;
            }
            using (var f = new FileStream(file, FileMode.Open, FileAccess.Write))
            {
                f.SetLength(okUpTo);
                f.Flush(flushToDisk: true);
            }
            output.WriteLine($"Successfully truncated AOF {Path.GetFileName(file)} from {size} to {okUpTo} bytes");
        }
        output.WriteLine(files.Count > 1 || path.EndsWith(".manifest", StringComparison.Ordinal)
            ? "All AOF files and manifest are valid" : "AOF is valid");
        return 0;
    }
}
