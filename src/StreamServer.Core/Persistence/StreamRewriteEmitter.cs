using System.Buffers;
using StreamServer.Storage;
using StreamServer.Storage.Streams;
using Stream = StreamServer.Storage.Streams.Stream;

namespace StreamServer.Persistence;

/// <summary>
/// A stream as the commands that recreate it (Redis's rewriteStreamObject in aof.c): an XADD per entry (or
/// <c>XADD key MAXLEN 0 0-1 x y</c> for an empty stream), <c>XSETID key last-id ENTRIESADDED n MAXDELETEDID id</c>,
/// <c>XCFGSET</c> and an <c>XIDMPRECORD</c> per remembered idempotent id when the stream uses IDMP,
/// then per group <c>XGROUP CREATE key group last-id ENTRIESREAD n</c>, per consumer either an XCLAIM … JUSTID FORCE
/// per pending entry or <c>XGROUP CREATECONSUMER</c> when it has none, then an <c>XNACK … FORCE</c> per entry XNACK released.
/// </summary>
public sealed class StreamRewriteEmitter : IRewriteEmitter
{
    public static readonly StreamRewriteEmitter Instance = new();

    /// <summary>Writes a live stream (on the thread that owns it): through a snapshot released at once.</summary>
    public void Emit(IBufferWriter<byte> output, byte[] key, RedisObject value)
    {
        var lease = new SnapshotLease();
        var snapshot = ((Stream)value).TakeSnapshot(lease);
        Emit(output, key, snapshot);
        lease.End();
    }

    /// <summary>Writes a snapshot (any thread: it does not change).</summary>
    public void Emit(IBufferWriter<byte> output, byte[] key, StreamSnapshot stream)
    {
        Span<byte> id = stackalloc byte[StreamId.MaxFormattedLength];
        if (stream.Length > 0)
        {
            foreach (var (nodeKey, node) in stream.Nodes)
            {
                var used = StreamNode.Used(node);
                for (var p = StreamNode.EntriesStart(node); p < used;)
                {
                    StreamNode.ReadHeader(node, p, nodeKey, out var flags, out var entryId, out var fieldCount, out var payload);
                    var next = StreamNode.EntryEnd(node, p, flags, fieldCount, payload);
                    if ((flags & StreamNode.FlagDeleted) == 0)
                    {
                        var entry = new StreamEntry(node, entryId, flags, fieldCount, payload);
                        RespEncoder.WriteArrayHeader(output, 3 + 2 * entry.FieldCount);
                        RespEncoder.WriteBulk(output, "XADD"u8);
                        RespEncoder.WriteBulk(output, key);
                        RespEncoder.WriteBulk(output, Format(entry.Id, id));
                        foreach (var pair in entry.Fields)
                        {
                            RespEncoder.WriteBulk(output, pair.Field);
                            RespEncoder.WriteBulk(output, pair.Value);
                        }
                    }
                    p = next;
                }
            }
        }
        else
        {
            RespEncoder.WriteCommand(output, "XADD"u8.ToArray(), key, "MAXLEN"u8.ToArray(), "0"u8.ToArray(), "0-1"u8.ToArray(), "x"u8.ToArray(), "y"u8.ToArray());
        }

        RespEncoder.WriteArrayHeader(output, 7);
        RespEncoder.WriteBulk(output, "XSETID"u8);
        RespEncoder.WriteBulk(output, key);
        RespEncoder.WriteBulk(output, Format(stream.LastId, id));
        RespEncoder.WriteBulk(output, "ENTRIESADDED"u8);
        RespEncoder.WriteBulk(output, stream.EntriesAdded);
        RespEncoder.WriteBulk(output, "MAXDELETEDID"u8);
        RespEncoder.WriteBulk(output, Format(stream.MaxDeletedId, id));

        if (stream.Idmp is { } idmp)
        {
            // XCFGSET clears the map, so it comes first; then each remembered (pid, iid) in the order it was added.
            RespEncoder.WriteArrayHeader(output, 6);
            RespEncoder.WriteBulk(output, "XCFGSET"u8);
            RespEncoder.WriteBulk(output, key);
            RespEncoder.WriteBulk(output, "IDMP-DURATION"u8);
            RespEncoder.WriteBulk(output, idmp.DurationSeconds);
            RespEncoder.WriteBulk(output, "IDMP-MAXSIZE"u8);
            RespEncoder.WriteBulk(output, idmp.MaxSize);
            foreach (var (pid, iid, entryId) in idmp.Entries)
            {
                RespEncoder.WriteArrayHeader(output, 5);
                RespEncoder.WriteBulk(output, "XIDMPRECORD"u8);
                RespEncoder.WriteBulk(output, key);
                RespEncoder.WriteBulk(output, pid);
                RespEncoder.WriteBulk(output, iid);
                RespEncoder.WriteBulk(output, Format(entryId, id));
            }
        }

        foreach (var group in stream.Groups)
        {
            RespEncoder.WriteArrayHeader(output, 7);
            RespEncoder.WriteBulk(output, "XGROUP"u8);
            RespEncoder.WriteBulk(output, "CREATE"u8);
            RespEncoder.WriteBulk(output, key);
            RespEncoder.WriteBulk(output, group.Name);
            RespEncoder.WriteBulk(output, Format(group.LastDeliveredId, id));
            RespEncoder.WriteBulk(output, "ENTRIESREAD"u8);
            RespEncoder.WriteBulk(output, group.EntriesRead);

            foreach (var consumer in group.Consumers)
            {
                if (consumer.Pending.Length == 0)
                {
                    RespEncoder.WriteArrayHeader(output, 5);
                    RespEncoder.WriteBulk(output, "XGROUP"u8);
                    RespEncoder.WriteBulk(output, "CREATECONSUMER"u8);
                    RespEncoder.WriteBulk(output, key);
                    RespEncoder.WriteBulk(output, group.Name);
                    RespEncoder.WriteBulk(output, consumer.Name);
                    continue;
                }
                foreach (var pending in consumer.Pending)
                {
                    // rioWriteStreamPendingEntry: XCLAIM key group consumer 0 id TIME t RETRYCOUNT n JUSTID FORCE
                    RespEncoder.WriteArrayHeader(output, 12);
                    RespEncoder.WriteBulk(output, "XCLAIM"u8);
                    RespEncoder.WriteBulk(output, key);
                    RespEncoder.WriteBulk(output, group.Name);
                    RespEncoder.WriteBulk(output, consumer.Name);
                    RespEncoder.WriteBulk(output, "0"u8);
                    RespEncoder.WriteBulk(output, Format(pending.Id, id));
                    RespEncoder.WriteBulk(output, "TIME"u8);
                    RespEncoder.WriteBulk(output, pending.DeliveryTimeMs);
                    RespEncoder.WriteBulk(output, "RETRYCOUNT"u8);
                    RespEncoder.WriteBulk(output, pending.DeliveryCount);
                    RespEncoder.WriteBulk(output, "JUSTID"u8);
                    RespEncoder.WriteBulk(output, "FORCE"u8);
                }
            }

            // Entries XNACK released belong to no consumer: XNACK … FORCE recreates them with their count.
            foreach (var (pendingId, deliveryCount) in group.Nacked)
            {
                RespEncoder.WriteArrayHeader(output, 10);
                RespEncoder.WriteBulk(output, "XNACK"u8);
                RespEncoder.WriteBulk(output, key);
                RespEncoder.WriteBulk(output, group.Name);
                RespEncoder.WriteBulk(output, "FAIL"u8);
                RespEncoder.WriteBulk(output, "IDS"u8);
                RespEncoder.WriteBulk(output, "1"u8);
                RespEncoder.WriteBulk(output, Format(pendingId, id));
                RespEncoder.WriteBulk(output, "RETRYCOUNT"u8);
                RespEncoder.WriteBulk(output, deliveryCount);
                RespEncoder.WriteBulk(output, "FORCE"u8);
            }
        }
    }

    private static ReadOnlySpan<byte> Format(StreamId id, Span<byte> buffer) => buffer[..id.Format(buffer)];
}
