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

    /// <summary>
    /// True while the AOF loads: nothing expires (Redis's keyIsExpired answers "not expired" while loading) and an
    /// expire command whose time has passed sets it instead of deleting the key (checkAlreadyExpired), so a replayed
    /// PEXPIREAT followed by PERSIST keeps the key, as it was kept when the commands first ran. Keys whose time has
    /// passed expire once loading is over.
    /// </summary>
    public bool Loading
    {
        get => _databases[0].IsLoading;
        set
        {
            foreach (var db in _databases) db.IsLoading = value;
        }
    }

    public void FlushAll()
    {
        foreach (var db in _databases) db.Clear();
    }
}
