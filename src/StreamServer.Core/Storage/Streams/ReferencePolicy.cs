namespace StreamServer.Storage.Streams;

/// <summary>
/// What deleting or trimming an entry does about consumer groups (Redis 8.2's KEEPREF | DELREF | ACKED on XADD,
/// XTRIM, XDELEX and XACKDEL).
/// </summary>
public enum ReferencePolicy : byte
{
    /// <summary>Delete the entry; PELs keep their references (XDEL's behaviour, the default).</summary>
    KeepRef,

    /// <summary>Delete the entry and remove it from every group's PEL.</summary>
    DelRef,

    /// <summary>Delete the entry only when every group has read and acknowledged it.</summary>
    Acked,
}
