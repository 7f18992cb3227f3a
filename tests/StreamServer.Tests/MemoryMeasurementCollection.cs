namespace StreamServer.Tests;

/// <summary>
/// Tests that measure retained heap (GC.GetTotalMemory) must not share the process with tests running in
/// parallel, whose allocations would count against them: this collection runs alone.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasurementCollection
{
    public const string Name = "Memory measurement";
}
