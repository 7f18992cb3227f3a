namespace StreamServer.Storage;

/// <summary>
/// Ends every snapshot taken under it at once, when their reader stops for good (the AOF rewrite's thread finishing,
/// however it finishes), so a snapshot the reader never got to cannot keep a stream copying its nodes (or a hash or set its collection).
/// </summary>
public sealed class SnapshotLease
{
    private volatile bool _ended;

    public bool Ended => _ended;

    public void End() => _ended = true;
}
