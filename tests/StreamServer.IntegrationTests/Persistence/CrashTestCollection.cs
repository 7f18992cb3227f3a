namespace StreamServer.IntegrationTests.Persistence;

/// <summary>
/// The kill -9 tests each restart a server process dozens of times within a time budget: they take turns rather
/// than compete with each other for the machine's cores.
/// </summary>
[CollectionDefinition(Name)]
public sealed class CrashTestCollection
{
    public const string Name = "kill -9 crash tests";
}
