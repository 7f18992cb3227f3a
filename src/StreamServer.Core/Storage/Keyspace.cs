namespace StreamServer.Storage;

/// <summary>All databases of the server (16 by default, as Redis's <c>databases</c>).</summary>
public sealed class Keyspace
{
    private readonly Database[] _databases;

    public Keyspace(int databases, IClock clock)
    {
        Clock = clock;
        _databases = new Database[databases];
        for (var i = 0; i < databases; i++) _databases[i] = new Database(i, clock);
    }

    public IClock Clock { get; }

    public int Count => _databases.Length;

    public Database this[int index] => _databases[index];

    public IReadOnlyList<Database> Databases => _databases;

    public void FlushAll()
    {
        foreach (var db in _databases) db.Clear();
    }
}
