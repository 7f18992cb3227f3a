using System.Globalization;
using System.Text;

namespace StreamServer.Persistence;

/// <summary>File names and manifest persistence of the multi-part AOF (Redis 7's naming).</summary>
public static class AofFiles
{
    public static string BaseName(string prefix, long seq) => $"{prefix}.{seq.ToString(CultureInfo.InvariantCulture)}.base.aof";

    public static string IncrName(string prefix, long seq) => $"{prefix}.{seq.ToString(CultureInfo.InvariantCulture)}.incr.aof";

    public static string ManifestName(string prefix) => prefix + ".manifest";

    public static string TempManifestName(string prefix) => "temp-" + prefix + ".manifest";

    /// <summary>The manifest's prefix (appendfilename) is carried by the file names it lists.</summary>
    public static string ManifestPrefix(AofManifest manifest)
    {
        var any = manifest.Base?.Name ?? manifest.Incremental[0].Name;
        var parts = any.Split('.');
        // "appendonly.aof.3.incr.aof" → "appendonly.aof"; an upgraded old-style base keeps its plain name.
        if (parts.Length >= 4 && parts[^1] == "aof" && parts[^2] is "base" or "incr" && long.TryParse(parts[^3], NumberStyles.None, CultureInfo.InvariantCulture, out _))
            return string.Join('.', parts[..^3]);
        return any;
    }

    /// <summary>Writes the manifest to a temp file, fsyncs it and renames it over the real one.</summary>
    public static void WriteManifest(string appendDir, AofManifest manifest)
    {
        var prefix = ManifestPrefix(manifest);
        var temp = Path.Combine(appendDir, TempManifestName(prefix));
        using (var f = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            f.Write(Encoding.UTF8.GetBytes(manifest.Format()));
            f.Flush(flushToDisk: true);
        }
        File.Move(temp, Path.Combine(appendDir, ManifestName(prefix)), overwrite: true);
        FsyncDirectory(appendDir);
    }

    /// <summary>Makes renames and new files in <paramref name="dir"/> durable (Redis's fsyncFileDir). Linux only; elsewhere a no-op.</summary>
    public static void FsyncDirectory(string dir)
    {
        if (!OperatingSystem.IsLinux()) return;
        var fd = Native.Open(dir, 0 /* O_RDONLY */);
        if (fd < 0) return;
        _ = Native.Fsync(fd);
        _ = Native.Close(fd);
    }

    public static AofManifest? ReadManifest(string appendDir, string prefix)
    {
        var path = Path.Combine(appendDir, ManifestName(prefix));
        return File.Exists(path) ? AofManifest.Parse(File.ReadAllText(path), path) : null;
    }
}

internal static partial class Native
{
    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "open", StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8)]
    internal static partial int Open(string path, int flags);

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "fsync")]
    internal static partial int Fsync(int fd);

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "close")]
    internal static partial int Close(int fd);
}
