using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using StreamServer.Configuration;
using StreamServer.Execution;
using StreamServer.Protocol;
using StreamServer.Storage;
using static StreamServer.Execution.CommandFlags;

namespace StreamServer.Commands;

/// <summary>
/// Server commands: COMMAND, CONFIG, INFO, DBSIZE, FLUSHDB/FLUSHALL, TIME, LASTSAVE, SHUTDOWN, WAIT, ROLE, SLOWLOG,
/// LATENCY, MEMORY, FUNCTION (no functions), CLUSTER (disabled), and the replication/RDB/DEBUG commands answered as
/// a standalone Redis without those features answers. Arity, flags, key positions, categories, tips and docs are
/// Redis 7.0's (COMMAND INFO/DOCS of redis-server 7.0.15).
/// </summary>
public static class ServerCommands
{
    private static readonly ConditionalWeakTable<ServerContext, ServerState> States = new();

    public static void Register(CommandTable t)
    {
        t.Add(Def("dbsize", 1, ReadOnly | Fast, 0, 0, 0, Dbsize, "server", "Return the number of keys in the selected database", "1.0.0", "O(1)", ["keyspace", "read", "fast"], tips: ["request_policy:all_shards", "response_policy:agg_sum"]));
        t.Add(Def("flushdb", -1, Write, 0, 0, 0, Flushdb, "server", "Remove all keys from the current database", "1.0.0", "O(N) where N is the number of keys in the selected database", ["keyspace", "write", "slow", "dangerous"], tips: ["request_policy:all_shards", "response_policy:all_succeeded"]));
        t.Add(Def("flushall", -1, Write, 0, 0, 0, Flushall, "server", "Remove all keys from all databases", "1.0.0", "O(N) where N is the total number of keys in all databases", ["keyspace", "write", "slow", "dangerous"], tips: ["request_policy:all_shards", "response_policy:all_succeeded"]));
        t.Add(Def("time", 1, Loading | Stale | Fast, 0, 0, 0, Time, "server", "Return the current server time", "2.6.0", "O(1)", ["fast"], tips: ["nondeterministic_output"]));
        t.Add(Def("lastsave", 1, Loading | Stale | Fast, 0, 0, 0, Lastsave, "server", "Get the UNIX time stamp of the last successful save to disk", "1.0.0", "O(1)", ["admin", "fast", "dangerous"], tips: ["nondeterministic_output"]));
        t.Add(Def("shutdown", -1, Admin | NoScript | Loading | Stale | NoMulti | AllowBusy, 0, 0, 0, Shutdown, "server", "Synchronously save the dataset to disk and then shut down the server", "1.0.0", "O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)", ["admin", "slow", "dangerous"]));
        t.Add(Def("wait", 3, NoScript, 0, 0, 0, Wait, "generic", "Wait for the synchronous replication of all the write commands sent in the context of the current connection", "3.0.0", "O(1)", ["slow", "connection"], tips: ["request_policy:all_shards", "response_policy:agg_min"]));
        t.Add(Def("info", -1, Loading | Stale, 0, 0, 0, Info, "server", "Get information and statistics about the server", "1.0.0", "O(1)", ["slow", "dangerous"], tips: ["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]));
        t.Add(Def("role", 1, NoScript | Loading | Stale | Fast, 0, 0, 0, Role, "server", "Return the role of the instance in the context of replication", "2.8.12", "O(1)", ["admin", "fast", "dangerous"]));
        t.Add(Def("lolwut", -1, ReadOnly | Fast, 0, 0, 0, Lolwut, "server", "Display some computer art and the Redis version", "5.0.0", "", ["read", "fast"]));
        t.Add(Def("monitor", 1, Admin | NoScript | Loading | Stale, 0, 0, 0, Monitor, "server", "Listen for all requests received by the server in real time", "1.0.0", "", ["admin", "slow", "dangerous"]));
        t.Add(Def("sync", 1, Admin | NoScript | NoAsyncLoading | NoMulti, 0, 0, 0, Sync, "server", "Internal command used for replication", "1.0.0", "", ["admin", "slow", "dangerous"]));
        t.Add(Def("psync", -3, Admin | NoScript | NoAsyncLoading | NoMulti, 0, 0, 0, Sync, "server", "Internal command used for replication", "2.8.0", "", ["admin", "slow", "dangerous"]));
        t.Add(Def("replicaof", 3, Admin | NoScript | Stale | NoAsyncLoading, 0, 0, 0, Replicaof, "server", "Make the server a replica of another instance, or promote it as master.", "5.0.0", "O(1)", ["admin", "slow", "dangerous"]));
        t.Add(Def("slaveof", 3, Admin | NoScript | Stale | NoAsyncLoading, 0, 0, 0, Replicaof, "server", "Make the server a replica of another instance, or promote it as master.", "1.0.0", "O(1)", ["admin", "slow", "dangerous"]));
        t.Add(Def("save", 1, Admin | NoScript | NoAsyncLoading | NoMulti, 0, 0, 0, Save, "server", "Synchronously save the dataset to disk", "1.0.0", "O(N) where N is the total number of keys in all databases", ["admin", "slow", "dangerous"]));
        t.Add(Def("bgsave", -1, Admin | NoScript | NoAsyncLoading, 0, 0, 0, Save, "server", "Asynchronously save the dataset to disk", "1.0.0", "O(1)", ["admin", "slow", "dangerous"]));
        t.Add(Def("debug", -2, Admin | NoScript | Loading | Stale, 0, 0, 0, Debug, "server", "A container for debugging commands", "1.0.0", "Depends on subcommand.", ["admin", "slow", "dangerous"]));
        t.Add(Def("function", -2, None, 0, 0, 0, CommandRegistry.ContainerWithoutSubcommand, "scripting", "A container for function commands", "7.0.0", "Depends on subcommand.", ["slow"]))
            .AddSubcommand(Def("delete", 3, Write | NoScript, 0, 0, 0, FunctionDelete, "scripting", "Delete a function by name", "7.0.0", "O(1)", ["write", "slow", "scripting"], tips: ["request_policy:all_shards", "response_policy:all_succeeded"]))
            .AddSubcommand(Def("dump", 2, NoScript, 0, 0, 0, FunctionNotSupported, "scripting", "Dump all functions into a serialized binary payload", "7.0.0", "O(N) where N is the number of functions", ["slow", "scripting"]))
            .AddSubcommand(Def("flush", -2, Write | NoScript, 0, 0, 0, FunctionFlush, "scripting", "Deleting all functions", "7.0.0", "O(N) where N is the number of functions deleted", ["write", "slow", "scripting"], tips: ["request_policy:all_shards", "response_policy:all_succeeded"]))
            .AddSubcommand(Def("help", 2, Loading | Stale, 0, 0, 0, FunctionHelp, "scripting", "Show helpful text about the different subcommands", "7.0.0", "O(1)", ["slow", "scripting"]))
            .AddSubcommand(Def("kill", 2, NoScript | AllowBusy, 0, 0, 0, FunctionKill, "scripting", "Kill the function currently in execution.", "7.0.0", "O(1)", ["slow", "scripting"], tips: ["request_policy:all_shards", "response_policy:one_succeeded"]))
            .AddSubcommand(Def("list", -2, NoScript, 0, 0, 0, FunctionList, "scripting", "List information about all the functions", "7.0.0", "O(N) where N is the number of functions", ["slow", "scripting"], tips: ["nondeterministic_output_order"]))
            .AddSubcommand(Def("load", -3, Write | DenyOom | NoScript, 0, 0, 0, FunctionNotSupported, "scripting", "Create a function with the given arguments (name, code, description)", "7.0.0", "O(1) (considering compilation time is redundant)", ["write", "slow", "scripting"], tips: ["request_policy:all_shards", "response_policy:all_succeeded"]))
            .AddSubcommand(Def("restore", -3, Write | DenyOom | NoScript, 0, 0, 0, FunctionNotSupported, "scripting", "Restore all the functions on the given payload", "7.0.0", "O(N) where N is the number of functions on the payload", ["write", "slow", "scripting"], tips: ["request_policy:all_shards", "response_policy:all_succeeded"]))
            .AddSubcommand(Def("stats", 2, NoScript | AllowBusy, 0, 0, 0, FunctionStats, "scripting", "Return information about the function currently running (name, description, duration)", "7.0.0", "O(1)", ["slow", "scripting"], tips: ["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]));
        t.Add(Def("cluster", -2, None, 0, 0, 0, CommandRegistry.ContainerWithoutSubcommand, "cluster", "A container for cluster commands", "3.0.0", "Depends on subcommand.", ["slow"]))
            .AddSubcommand(Def("addslots", -3, Admin | Stale | NoAsyncLoading, 0, 0, 0, ClusterDisabled, "cluster", "Assign new hash slots to receiving node", "3.0.0", "O(N) where N is the total number of hash slot arguments", ["admin", "slow", "dangerous"]))
            .AddSubcommand(Def("addslotsrange", -4, Admin | Stale | NoAsyncLoading, 0, 0, 0, ClusterDisabled, "cluster", "Assign new hash slots to receiving node", "7.0.0", "O(N) where N is the total number of the slots between the start slot and end slot arguments.", ["admin", "slow", "dangerous"]))
            .AddSubcommand(Def("bumpepoch", 2, Admin | Stale | NoAsyncLoading, 0, 0, 0, ClusterDisabled, "cluster", "Advance the cluster config epoch", "3.0.0", "O(1)", ["admin", "slow", "dangerous"], tips: ["nondeterministic_output"]))
            .AddSubcommand(Def("count-failure-reports", 3, Admin | Stale, 0, 0, 0, ClusterDisabled, "cluster", "Return the number of failure reports active for a given node", "3.0.0", "O(N) where N is the number of failure reports", ["admin", "slow", "dangerous"], tips: ["nondeterministic_output"]))
            .AddSubcommand(Def("countkeysinslot", 3, Stale, 0, 0, 0, ClusterDisabled, "cluster", "Return the number of local keys in the specified hash slot", "3.0.0", "O(1)", ["slow"]))
            .AddSubcommand(Def("delslots", -3, Admin | Stale | NoAsyncLoading, 0, 0, 0, ClusterDisabled, "cluster", "Set hash slots as unbound in receiving node", "3.0.0", "O(N) where N is the total number of hash slot arguments", ["admin", "slow", "dangerous"]))
            .AddSubcommand(Def("delslotsrange", -4, Admin | Stale | NoAsyncLoading, 0, 0, 0, ClusterDisabled, "cluster", "Set hash slots as unbound in receiving node", "7.0.0", "O(N) where N is the total number of the slots between the start slot and end slot arguments.", ["admin", "slow", "dangerous"]))
            .AddSubcommand(Def("failover", -2, Admin | Stale | NoAsyncLoading, 0, 0, 0, ClusterDisabled, "cluster", "Forces a replica to perform a manual failover of its master.", "3.0.0", "O(1)", ["admin", "slow", "dangerous"]))
            .AddSubcommand(Def("flushslots", 2, Admin | Stale | NoAsyncLoading, 0, 0, 0, ClusterDisabled, "cluster", "Delete a node's own slots information", "3.0.0", "O(1)", ["admin", "slow", "dangerous"]))
            .AddSubcommand(Def("forget", 3, Admin | Stale | NoAsyncLoading, 0, 0, 0, ClusterDisabled, "cluster", "Remove a node from the nodes table", "3.0.0", "O(1)", ["admin", "slow", "dangerous"]))
            .AddSubcommand(Def("getkeysinslot", 4, Stale, 0, 0, 0, ClusterDisabled, "cluster", "Return local key names in the specified hash slot", "3.0.0", "O(log(N)) where N is the number of requested keys", ["slow"], tips: ["nondeterministic_output"]))
            .AddSubcommand(Def("help", 2, Loading | Stale, 0, 0, 0, ClusterDisabled, "cluster", "Show helpful text about the different subcommands", "5.0.0", "O(1)", ["slow"]))
            .AddSubcommand(Def("info", 2, Stale, 0, 0, 0, ClusterDisabled, "cluster", "Provides info about Redis Cluster node state", "3.0.0", "O(1)", ["slow"], tips: ["nondeterministic_output"]))
            .AddSubcommand(Def("keyslot", 3, Stale, 0, 0, 0, ClusterDisabled, "cluster", "Returns the hash slot of the specified key", "3.0.0", "O(N) where N is the number of bytes in the key", ["slow"]))
            .AddSubcommand(Def("links", 2, Stale, 0, 0, 0, ClusterDisabled, "cluster", "Returns a list of all TCP links to and from peer nodes in cluster", "7.0.0", "O(N) where N is the total number of Cluster nodes", ["slow"], tips: ["nondeterministic_output"]))
            .AddSubcommand(Def("meet", -4, Admin | Stale | NoAsyncLoading, 0, 0, 0, ClusterDisabled, "cluster", "Force a node cluster to handshake with another node", "3.0.0", "O(1)", ["admin", "slow", "dangerous"]))
            .AddSubcommand(Def("myid", 2, Stale, 0, 0, 0, ClusterDisabled, "cluster", "Return the node id", "3.0.0", "O(1)", ["slow"]))
            .AddSubcommand(Def("nodes", 2, Stale, 0, 0, 0, ClusterDisabled, "cluster", "Get Cluster config for the node", "3.0.0", "O(N) where N is the total number of Cluster nodes", ["slow"], tips: ["nondeterministic_output"]))
            .AddSubcommand(Def("replicas", 3, Admin | Stale, 0, 0, 0, ClusterDisabled, "cluster", "List replica nodes of the specified master node", "5.0.0", "O(1)", ["admin", "slow", "dangerous"], tips: ["nondeterministic_output"]))
            .AddSubcommand(Def("replicate", 3, Admin | Stale | NoAsyncLoading, 0, 0, 0, ClusterDisabled, "cluster", "Reconfigure a node as a replica of the specified master node", "3.0.0", "O(1)", ["admin", "slow", "dangerous"]))
            .AddSubcommand(Def("reset", -2, Admin | NoScript | Stale, 0, 0, 0, ClusterDisabled, "cluster", "Reset a Redis Cluster node", "3.0.0", "O(N) where N is the number of known nodes. The command may execute a FLUSHALL as a side effect.", ["admin", "slow", "dangerous"]))
            .AddSubcommand(Def("saveconfig", 2, Admin | Stale | NoAsyncLoading, 0, 0, 0, ClusterDisabled, "cluster", "Forces the node to save cluster state on disk", "3.0.0", "O(1)", ["admin", "slow", "dangerous"]))
            .AddSubcommand(Def("set-config-epoch", 3, Admin | Stale | NoAsyncLoading, 0, 0, 0, ClusterDisabled, "cluster", "Set the configuration epoch in a new node", "3.0.0", "O(1)", ["admin", "slow", "dangerous"]))
            .AddSubcommand(Def("setslot", -4, Admin | Stale | NoAsyncLoading, 0, 0, 0, ClusterDisabled, "cluster", "Bind a hash slot to a specific node", "3.0.0", "O(1)", ["admin", "slow", "dangerous"]))
            .AddSubcommand(Def("shards", 2, Stale, 0, 0, 0, ClusterDisabled, "cluster", "Get array of cluster slots to node mappings", "7.0.0", "O(N) where N is the total number of cluster nodes", ["slow"], tips: ["nondeterministic_output"]))
            .AddSubcommand(Def("slaves", 3, Admin | Stale, 0, 0, 0, ClusterDisabled, "cluster", "List replica nodes of the specified master node", "3.0.0", "O(1)", ["admin", "slow", "dangerous"], tips: ["nondeterministic_output"]))
            .AddSubcommand(Def("slots", 2, Stale, 0, 0, 0, ClusterDisabled, "cluster", "Get array of Cluster slot to node mappings", "3.0.0", "O(N) where N is the total number of Cluster nodes", ["slow"], tips: ["nondeterministic_output"]));
        t.Add(Def("slowlog", -2, None, 0, 0, 0, CommandRegistry.ContainerWithoutSubcommand, "server", "A container for slow log commands", "2.2.12", "Depends on subcommand.", ["slow"]))
            .AddSubcommand(Def("get", -2, Admin | Loading | Stale, 0, 0, 0, SlowlogGet, "server", "Get the slow log's entries", "2.2.12", "O(N) where N is the number of entries returned", ["admin", "slow", "dangerous"], tips: ["request_policy:all_nodes", "nondeterministic_output"]))
            .AddSubcommand(Def("help", 2, Loading | Stale, 0, 0, 0, SlowlogHelp, "server", "Show helpful text about the different subcommands", "6.2.0", "O(1)", ["slow"]))
            .AddSubcommand(Def("len", 2, Admin | Loading | Stale, 0, 0, 0, SlowlogLen, "server", "Get the slow log's length", "2.2.12", "O(1)", ["admin", "slow", "dangerous"], tips: ["request_policy:all_nodes", "response_policy:agg_sum", "nondeterministic_output"]))
            .AddSubcommand(Def("reset", 2, Admin | Loading | Stale, 0, 0, 0, SlowlogReset, "server", "Clear all entries from the slow log", "2.2.12", "O(N) where N is the number of entries in the slowlog", ["admin", "slow", "dangerous"], tips: ["request_policy:all_nodes", "response_policy:all_succeeded"]));
        t.Add(Def("latency", -2, None, 0, 0, 0, CommandRegistry.ContainerWithoutSubcommand, "server", "A container for latency diagnostics commands", "2.8.13", "Depends on subcommand.", ["slow"]))
            .AddSubcommand(Def("doctor", 2, Admin | NoScript | Loading | Stale, 0, 0, 0, LatencyDoctor, "server", "Return a human readable latency analysis report.", "2.8.13", "O(1)", ["admin", "slow", "dangerous"], tips: ["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]))
            .AddSubcommand(Def("graph", 3, Admin | NoScript | Loading | Stale, 0, 0, 0, LatencyGraph, "server", "Return a latency graph for the event.", "2.8.13", "O(1)", ["admin", "slow", "dangerous"], tips: ["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]))
            .AddSubcommand(Def("help", 2, Loading | Stale, 0, 0, 0, LatencyHelp, "server", "Show helpful text about the different subcommands.", "2.8.13", "O(1)", ["slow"]))
            .AddSubcommand(Def("histogram", -2, Admin | NoScript | Loading | Stale, 0, 0, 0, LatencyHistogram, "server", "Return the cumulative distribution of latencies of a subset of commands or all.", "7.0.0", "O(N) where N is the number of commands with latency information being retrieved.", ["admin", "slow", "dangerous"], tips: ["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]))
            .AddSubcommand(Def("history", 3, Admin | NoScript | Loading | Stale, 0, 0, 0, LatencyHistory, "server", "Return timestamp-latency samples for the event.", "2.8.13", "O(1)", ["admin", "slow", "dangerous"], tips: ["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]))
            .AddSubcommand(Def("latest", 2, Admin | NoScript | Loading | Stale, 0, 0, 0, LatencyLatest, "server", "Return the latest latency samples for all events.", "2.8.13", "O(1)", ["admin", "slow", "dangerous"], tips: ["nondeterministic_output", "request_policy:all_nodes", "response_policy:special"]))
            .AddSubcommand(Def("reset", -2, Admin | NoScript | Loading | Stale, 0, 0, 0, LatencyReset, "server", "Reset latency data for one or more events.", "2.8.13", "O(1)", ["admin", "slow", "dangerous"], tips: ["request_policy:all_nodes", "response_policy:all_succeeded"]));
        t.Add(Def("memory", -2, None, 0, 0, 0, CommandRegistry.ContainerWithoutSubcommand, "server", "A container for memory diagnostics commands", "4.0.0", "Depends on subcommand.", ["slow"]))
            .AddSubcommand(Def("doctor", 2, None, 0, 0, 0, MemoryDoctor, "server", "Outputs memory problems report", "4.0.0", "O(1)", ["slow"], tips: ["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]))
            .AddSubcommand(Def("help", 2, Loading | Stale, 0, 0, 0, MemoryHelp, "server", "Show helpful text about the different subcommands", "4.0.0", "O(1)", ["slow"]))
            .AddSubcommand(Def("malloc-stats", 2, None, 0, 0, 0, MemoryMallocStats, "server", "Show allocator internal stats", "4.0.0", "Depends on how much memory is allocated, could be slow", ["slow"], tips: ["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]))
            .AddSubcommand(Def("purge", 2, None, 0, 0, 0, MemoryPurge, "server", "Ask the allocator to release memory", "4.0.0", "Depends on how much memory is allocated, could be slow", ["slow"], tips: ["request_policy:all_shards", "response_policy:all_succeeded"]))
            .AddSubcommand(Def("stats", 2, None, 0, 0, 0, MemoryStats, "server", "Show memory usage details", "4.0.0", "O(1)", ["slow"], tips: ["nondeterministic_output", "request_policy:all_shards", "response_policy:special"]))
            .AddSubcommand(Def("usage", -3, ReadOnly, 2, 2, 1, MemoryUsage, "server", "Estimate the memory usage of a key", "4.0.0", "O(N) where N is the number of samples.", ["read", "slow"]));
        t.Add(Def("command", -1, Loading | Stale, 0, 0, 0, CommandAll, "server", "Get array of Redis command details", "2.8.13", "O(N) where N is the total number of Redis commands", ["slow", "connection"], tips: ["nondeterministic_output_order"]))
            .AddSubcommand(Def("count", 2, Loading | Stale, 0, 0, 0, CommandCount, "server", "Get total number of Redis commands", "2.8.13", "O(1)", ["slow", "connection"]))
            .AddSubcommand(Def("docs", -2, Loading | Stale, 0, 0, 0, CommandDocs, "server", "Get array of specific Redis command documentation", "7.0.0", "O(N) where N is the number of commands to look up", ["slow", "connection"], tips: ["nondeterministic_output_order"]))
            .AddSubcommand(Def("getkeys", -4, Loading | Stale, 0, 0, 0, CommandGetkeys, "server", "Extract keys given a full Redis command", "2.8.13", "O(N) where N is the number of arguments to the command", ["slow", "connection"]))
            .AddSubcommand(Def("getkeysandflags", -4, Loading | Stale, 0, 0, 0, CommandGetkeysandflags, "server", "Extract keys and access flags given a full Redis command", "7.0.0", "O(N) where N is the number of arguments to the command", ["slow", "connection"]))
            .AddSubcommand(Def("help", 2, Loading | Stale, 0, 0, 0, CommandHelp, "server", "Show helpful text about the different subcommands", "5.0.0", "O(1)", ["slow", "connection"]))
            .AddSubcommand(Def("info", -2, Loading | Stale, 0, 0, 0, CommandInfo, "server", "Get array of specific Redis command details, or all when no argument is given.", "2.8.13", "O(N) where N is the number of commands to look up", ["slow", "connection"], tips: ["nondeterministic_output_order"]))
            .AddSubcommand(Def("list", -2, Loading | Stale, 0, 0, 0, CommandList, "server", "Get an array of Redis command names", "7.0.0", "O(N) where N is the total number of Redis commands", ["slow", "connection"], tips: ["nondeterministic_output_order"]));
        t.Add(Def("config", -2, None, 0, 0, 0, CommandRegistry.ContainerWithoutSubcommand, "server", "A container for server configuration commands", "2.0.0", "Depends on subcommand.", ["slow"]))
            .AddSubcommand(Def("get", -3, Admin | NoScript | Loading | Stale, 0, 0, 0, ConfigGet, "server", "Get the values of configuration parameters", "2.0.0", "O(N) when N is the number of configuration parameters provided", ["admin", "slow", "dangerous"]))
            .AddSubcommand(Def("help", 2, Loading | Stale, 0, 0, 0, ConfigHelp, "server", "Show helpful text about the different subcommands", "5.0.0", "O(1)", ["slow"]))
            .AddSubcommand(Def("resetstat", 2, Admin | NoScript | Loading | Stale, 0, 0, 0, ConfigResetstat, "server", "Reset the stats returned by INFO", "2.0.0", "O(1)", ["admin", "slow", "dangerous"]))
            .AddSubcommand(Def("rewrite", 2, Admin | NoScript | Loading | Stale, 0, 0, 0, ConfigRewrite, "server", "Rewrite the configuration file with the in memory configuration", "2.8.0", "O(1)", ["admin", "slow", "dangerous"]))
            .AddSubcommand(Def("set", -4, Admin | NoScript | Loading | Stale, 0, 0, 0, ConfigSet, "server", "Set configuration parameters to the given values", "2.0.0", "O(N) when N is the number of configuration parameters provided", ["admin", "slow", "dangerous"], tips: ["request_policy:all_nodes", "response_policy:all_succeeded"]));
    }

    private static CommandDef Def(string name, int arity, CommandFlags flags, int firstKey, int lastKey, int step, CommandHandler handler,
        string group, string summary, string since, string complexity, string[] categories, string[]? tips = null)
        => new(name, arity, flags, firstKey, lastKey, step, handler)
        {
            Group = group,
            Summary = summary,
            Since = since,
            Complexity = complexity,
            Categories = categories,
            Tips = tips ?? [],
        };

    /// <summary>What INFO and friends need beyond <see cref="ServerContext"/>, one per server.</summary>
    private static ServerState State(ServerContext server) => States.GetValue(server, s => new ServerState(s));

    /// <summary>
    /// The persistence figures INFO reports. The AOF writer updates this object; until it does, INFO shows the AOF
    /// as configured (aof_enabled from appendonly) with nothing written yet.
    /// </summary>
    public static PersistenceInfo Persistence(ServerContext server) => State(server).Persistence;

    /// <summary>Memory held outside the GC heap (pooled or native buffers of the keyspace), added to used_memory.</summary>
    public static void SetExternalMemoryProbe(ServerContext server, Func<long> probe) => State(server).ExternalMemory = probe;

    // ───────────────────────────── keyspace ─────────────────────────────

    // DBSIZE
    private static void Dbsize(CommandContext ctx) => ctx.Reply.Integer(ctx.Db.Count);

    // FLUSHDB [ASYNC|SYNC]
    private static void Flushdb(CommandContext ctx)
    {
        if (!ParseFlushMode(ctx)) return;
        // Clearing touches every key that existed, which is what invalidates WATCH in Redis 7 (a watched key
        // that did not exist stays valid), and wakes blocked readers.
        ctx.Db.Clear();
        ctx.Reply.Ok();
    }

    // FLUSHALL [ASYNC|SYNC]
    private static void Flushall(CommandContext ctx)
    {
        if (!ParseFlushMode(ctx)) return;
        ctx.Server.Keyspace.FlushAll();
        ctx.Reply.Ok();
    }

    private static bool ParseFlushMode(CommandContext ctx)
    {
        if (ctx.ArgCount == 1 || ctx.ArgCount == 2 && (ctx.ArgIs(1, "ASYNC"u8) || ctx.ArgIs(1, "SYNC"u8))) return true;
        ctx.SyntaxError();
        return false;
    }

    // TIME
    private static void Time(CommandContext ctx)
    {
        var ticks = DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks;
        ctx.Reply.Array(2);
        ctx.Reply.BulkInteger(ticks / TimeSpan.TicksPerSecond);
        ctx.Reply.BulkInteger(ticks % TimeSpan.TicksPerSecond / 10);
    }

    // LASTSAVE
    private static void Lastsave(CommandContext ctx) => ctx.Reply.Integer(State(ctx.Server).Persistence.LastSaveUnixSeconds);

    // SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]
    private static void Shutdown(CommandContext ctx)
    {
        bool nosave = false, save = false, abort = false;
        for (var i = 1; i < ctx.ArgCount; i++)
        {
            if (ctx.ArgIs(i, "NOSAVE"u8)) nosave = true;
            else if (ctx.ArgIs(i, "SAVE"u8)) save = true;
            else if (ctx.ArgIs(i, "NOW"u8) || ctx.ArgIs(i, "FORCE"u8)) { } // no replicas to wait for, nothing to force
            else if (ctx.ArgIs(i, "ABORT"u8)) abort = true;
            else
            {
                ctx.SyntaxError();
                return;
            }
        }
        if (nosave && save || abort && ctx.ArgCount > 2)
        {
            ctx.SyntaxError();
            return;
        }
        if (abort)
        {
            ctx.Error(Errors.NoShutdownInProgress); // shutdown never waits for replicas here, so none is pending
            return;
        }
        if (ctx.Server.ShutdownRequested is not { } shutdown)
        {
            ctx.Error(Errors.ShutdownFailed);
            return;
        }
        // As Redis: no reply on success, the connection just closes.
        ctx.Client.CloseRequested = true;
        ctx.Client.Transport.CloseAfterReply();
        shutdown(!nosave);
    }

    // WAIT numreplicas timeout
    private static void Wait(CommandContext ctx)
    {
        if (!ctx.TryGetLong(1, out var numReplicas)) return;
        if (!ctx.TryGetTimeoutMs(2, out var timeout)) return;
        // No replicas: asking for any waits out the timeout (forever for 0) and answers 0, as Redis; not inside MULTI.
        if (numReplicas <= 0 || ctx.InExec)
        {
            ctx.Reply.Integer(0);
            return;
        }
        ctx.Server.Blocking.Block(ctx.Client, new BlockState
        {
            DeadlineMs = timeout == 0 ? 0 : ctx.NowMs + timeout,
            Command = ctx.Command,
            OnTimeout = static reply => reply.Integer(0),
        });
    }

    // ROLE
    private static void Role(CommandContext ctx)
    {
        ctx.Reply.Array(3);
        ctx.Reply.Bulk("master"u8);
        ctx.Reply.Integer(0);
        ctx.Reply.EmptyArray();
    }

    // LOLWUT [VERSION version]
    private static void Lolwut(CommandContext ctx)
    {
        if (ctx.ArgCount != 1 && !(ctx.ArgCount == 3 && ctx.ArgIs(1, "VERSION"u8) && CommandContext.TryParseLong(ctx.Arg(2), out _)))
        {
            ctx.SyntaxError();
            return;
        }
        ctx.Reply.Verbatim(Encoding.ASCII.GetBytes($"Redis ver. {ConnectionCommands.RedisVersion}\n"));
    }

    // ───────────────────── features a standalone server without them answers ─────────────────────

    // MONITOR
    private static void Monitor(CommandContext ctx)
    {
        // Redis 7.2+ (a client inside MULTI cannot take a stream of replies it did not ask for).
        if (ctx.InExec)
        {
            ctx.Error(Errors.MonitorDenyBlocking);
            return;
        }
        // A client that already monitors gets no reply at all, as Redis's monitorCommand.
        if (ctx.Server.Monitors.Add(ctx.Client)) ctx.Reply.Ok();
    }

    // SYNC / PSYNC replicationid offset
    private static void Sync(CommandContext ctx) => ctx.Error(Errors.ReplicationNotSupported);

    // REPLICAOF host port | NO ONE   (and SLAVEOF)
    private static void Replicaof(CommandContext ctx)
    {
        if (ctx.ArgIs(1, "NO"u8) && ctx.ArgIs(2, "ONE"u8))
        {
            ctx.Reply.Ok(); // already a master
            return;
        }
        if (!CommandContext.TryParseLong(ctx.Arg(2), out var port) || port < 0 || port > 65535)
        {
            ctx.Error(Errors.InvalidMasterPort);
            return;
        }
        ctx.Error(Errors.ReplicationNotSupported);
    }

    // SAVE / BGSAVE [SCHEDULE]
    private static void Save(CommandContext ctx) => ctx.Error(Errors.RdbNotSupported);

    // DEBUG subcommand [argument ...]
    private static void Debug(CommandContext ctx) => ctx.Error(Errors.DebugNotAllowed);

    // CLUSTER subcommand ...
    private static void ClusterDisabled(CommandContext ctx) => ctx.Error(Errors.ClusterDisabled);

    // FUNCTION DELETE library-name
    private static void FunctionDelete(CommandContext ctx) => ctx.Error(Errors.LibraryNotFound);

    // FUNCTION DUMP | LOAD [REPLACE] code | RESTORE payload [FLUSH|APPEND|REPLACE]
    private static void FunctionNotSupported(CommandContext ctx) => ctx.Error(Errors.FunctionsNotSupported);

    // FUNCTION FLUSH [ASYNC|SYNC]
    private static void FunctionFlush(CommandContext ctx)
    {
        if (ctx.ArgCount > 3 || ctx.ArgCount == 3 && !ctx.ArgIs(2, "ASYNC"u8) && !ctx.ArgIs(2, "SYNC"u8))
        {
            ctx.Error(Errors.FunctionFlushMode);
            return;
        }
        ctx.Reply.Ok();
    }

    // FUNCTION KILL
    private static void FunctionKill(CommandContext ctx) => ctx.Error(Errors.NoScriptRunning);

    // FUNCTION LIST [LIBRARYNAME library-name-pattern] [WITHCODE]
    private static void FunctionList(CommandContext ctx)
    {
        for (var i = 2; i < ctx.ArgCount; i++)
        {
            if (ctx.ArgIs(i, "WITHCODE"u8)) continue;
            if (ctx.ArgIs(i, "LIBRARYNAME"u8))
            {
                if (++i >= ctx.ArgCount)
                {
                    ctx.Error(Errors.LibraryNameMissing);
                    return;
                }
                continue;
            }
            ctx.Error(Errors.UnknownArgument(ctx.ArgString(i)));
            return;
        }
        ctx.Reply.EmptyArray();
    }

    // FUNCTION STATS
    private static void FunctionStats(CommandContext ctx)
    {
        var r = ctx.Reply;
        r.Map(2);
        r.Bulk("running_script"u8);
        r.Null();
        r.Bulk("engines"u8);
        r.Map(1);
        r.Bulk("LUA"u8);
        r.Map(2);
        r.Bulk("libraries_count"u8);
        r.Integer(0);
        r.Bulk("functions_count"u8);
        r.Integer(0);
    }

    // FUNCTION HELP
    private static void FunctionHelp(CommandContext ctx) => ConnectionCommands.HelpReply(ctx,
    [
        "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "LOAD [REPLACE] <FUNCTION CODE>",
        "    Create a new library with the given library name and code.",
        "DELETE <LIBRARY NAME>",
        "    Delete the given library.",
        "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
        "    Return general information on all the libraries:",
        "    * Library name",
        "    * The engine used to run the Library",
        "    * Library description",
        "    * Functions list",
        "    * Library code (if WITHCODE is given)",
        "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
        "STATS",
        "    Return information about the current function running:",
        "    * Function name",
        "    * Command used to run the function",
        "    * Duration in MS that the function is running",
        "    If no function is running, return nil",
        "    In addition, returns a list of available engines.",
        "KILL",
        "    Kill the current running function.",
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries.",
        "    When called without the optional mode argument, the behavior is determined by the",
        "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
        "    * ASYNC: Asynchronously flush the libraries.",
        "    * SYNC: Synchronously flush the libraries.",
        "DUMP",
        "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
        "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
        "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
        "    control how to handle existing libraries (default APPEND):",
        "    * FLUSH: delete all existing libraries.",
        "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
        "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
        "      libraries with the new libraries (notice that even on this option there is a chance of failure",
        "      in case of functions name collision with another library).",
        "HELP",
        "    Prints this help.",
    ]);

    // ───────────────────────────── SLOWLOG / LATENCY / MEMORY ─────────────────────────────

    // SLOWLOG GET [count]   (the slow log is not recorded: always empty)
    private static void SlowlogGet(CommandContext ctx)
    {
        if (ctx.ArgCount == 3 && (!CommandContext.TryParseLong(ctx.Arg(2), out var count) || count < -1))
        {
            ctx.Error(Errors.SlowlogCount);
            return;
        }
        if (ctx.ArgCount > 3)
        {
            ctx.Error(Errors.WrongArity("slowlog|get"));
            return;
        }
        ctx.Reply.EmptyArray();
    }

    // SLOWLOG LEN
    private static void SlowlogLen(CommandContext ctx) => ctx.Reply.Integer(0);

    // SLOWLOG RESET
    private static void SlowlogReset(CommandContext ctx) => ctx.Reply.Ok();

    // SLOWLOG HELP
    private static void SlowlogHelp(CommandContext ctx) => ConnectionCommands.HelpReply(ctx,
    [
        "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        "HELP",
        "    Prints this help.",
    ]);

    // LATENCY LATEST | HISTORY event   (latency monitoring is off: no samples)
    private static void LatencyLatest(CommandContext ctx) => ctx.Reply.EmptyArray();

    private static void LatencyHistory(CommandContext ctx) => ctx.Reply.EmptyArray();

    // LATENCY RESET [event ...]
    private static void LatencyReset(CommandContext ctx) => ctx.Reply.Integer(0);

    // LATENCY HISTOGRAM [command ...]
    private static void LatencyHistogram(CommandContext ctx) => ctx.Reply.Map(0);

    // LATENCY GRAPH event
    private static void LatencyGraph(CommandContext ctx) => ctx.Error($"ERR No samples available for event '{ctx.ArgString(2)}'");

    // LATENCY DOCTOR
    private static void LatencyDoctor(CommandContext ctx) => ctx.Reply.Verbatim(
        "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"u8);

    // LATENCY HELP
    private static void LatencyHelp(CommandContext ctx) => ConnectionCommands.HelpReply(ctx,
    [
        "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return a human readable latency analysis report.",
        "GRAPH <event>",
        "    Return an ASCII latency graph for the <event> class.",
        "HISTORY <event>",
        "    Return time-latency samples for the <event> class.",
        "LATEST",
        "    Return the latest latency samples for all events.",
        "RESET [<event> ...]",
        "    Reset latency data of one or more <event> classes.",
        "    (default: reset all data for all event classes)",
        "HISTOGRAM [COMMAND ...]",
        "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
        "    If no commands are specified then all histograms are replied.",
        "HELP",
        "    Prints this help.",
    ]);

    // MEMORY USAGE key [SAMPLES count]
    private static void MemoryUsage(CommandContext ctx)
    {
        for (var i = 3; i < ctx.ArgCount; i++)
        {
            if (ctx.ArgIs(i, "SAMPLES"u8) && i + 1 < ctx.ArgCount)
            {
                if (!ctx.TryGetLong(++i, out var samples)) return;
                if (samples < 0)
                {
                    ctx.SyntaxError();
                    return;
                }
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }
        var key = ctx.Arg(2);
        var value = ctx.Db.Get(key); // not a counted lookup: Redis's MEMORY USAGE finds the key in the dict directly
        if (value is null)
        {
            ctx.Reply.Null();
            return;
        }
        ctx.Reply.Integer(EstimateSize(key.Length, value));
    }

    /// <summary>An estimate in the spirit of Redis's objectComputeSize: key, value object, and per-element overheads.</summary>
    internal static long EstimateSize(int keyLength, RedisObject value)
    {
        const int entryOverhead = 48; // dictionary entry, key array header, value object header
        long size = entryOverhead + keyLength;
        switch (value)
        {
            case StringObject s:
                size += s.IsInteger ? 8 : 24 + s.Length;
                break;
            case SetObject set:
                size += 64;
                foreach (var m in set.Members) size += 32 + m.Length;
                break;
            case HashObject hash:
                size += 64;
                foreach (var (f, v) in hash.Fields) size += 48 + f.Length + v.Length;
                break;
            default:
                size += 64;
                break;
        }
        return size;
    }

    // MEMORY DOCTOR
    private static void MemoryDoctor(CommandContext ctx)
    {
        ctx.Reply.Verbatim(
            "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"u8);
    }

    // MEMORY STATS
    private static void MemoryStats(CommandContext ctx)
    {
        var m = MemorySnapshot.Take(ctx.Server);
        var keys = 0L;
        foreach (var db in ctx.Server.Keyspace.Databases) keys += db.Count;
        var r = ctx.Reply;
        r.Map(9);
        r.Bulk("peak.allocated"u8); r.Integer(m.Peak);
        r.Bulk("total.allocated"u8); r.Integer(m.Used);
        r.Bulk("startup.allocated"u8); r.Integer(m.Startup);
        r.Bulk("clients.normal"u8); r.Integer(0);
        r.Bulk("keys.count"u8); r.Integer(keys);
        r.Bulk("keys.bytes-per-key"u8); r.Integer(keys == 0 ? 0 : Math.Max(0, m.Used - m.Startup) / keys);
        r.Bulk("dataset.bytes"u8); r.Integer(Math.Max(0, m.Used - m.Startup));
        r.Bulk("allocator.resident"u8); r.Integer(m.Rss);
        r.Bulk("fragmentation"u8); r.Double(m.FragmentationRatio);
    }

    // MEMORY MALLOC-STATS
    private static void MemoryMallocStats(CommandContext ctx)
    {
        var gc = GC.GetGCMemoryInfo();
        ctx.Reply.Verbatim(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $".NET GC: heap={gc.HeapSizeBytes} committed={gc.TotalCommittedBytes} fragmented={gc.FragmentedBytes} gen0={GC.CollectionCount(0)} gen1={GC.CollectionCount(1)} gen2={GC.CollectionCount(2)}\n")));
    }

    // MEMORY PURGE
    private static void MemoryPurge(CommandContext ctx) => ctx.Reply.Ok();

    // MEMORY HELP
    private static void MemoryHelp(CommandContext ctx) => ConnectionCommands.HelpReply(ctx,
    [
        "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        "HELP",
        "    Prints this help.",
    ]);

    // ───────────────────────────── COMMAND ─────────────────────────────

    /// <summary>COMMAND INFO's flag names in Redis's reply order (may_replicate, sentinel, only_sentinel are hidden there too).</summary>
    private static readonly (CommandFlags Flag, string Name)[] FlagNames =
    [
        (Write, "write"), (ReadOnly, "readonly"), (DenyOom, "denyoom"), (Admin, "admin"), (PubSub, "pubsub"),
        (NoScript, "noscript"), (Blocking, "blocking"), (Loading, "loading"), (Stale, "stale"),
        (SkipMonitor, "skip_monitor"), (SkipSlowlog, "skip_slowlog"), (Fast, "fast"), (NoAuth, "no_auth"),
        (NoMandatoryKeys, "no_mandatory_keys"), (NoAsyncLoading, "no_async_loading"), (NoMulti, "no_multi"),
        (Movablekeys, "movablekeys"), (AllowBusy, "allow_busy"),
    ];

    // COMMAND
    private static void CommandAll(CommandContext ctx)
    {
        ctx.Reply.Array(ctx.Server.Commands.Count);
        foreach (var c in ctx.Server.Commands.All) WriteCommandInfo(ctx.Reply, c);
    }

    // COMMAND COUNT
    private static void CommandCount(CommandContext ctx) => ctx.Reply.Integer(ctx.Server.Commands.Count);

    // COMMAND INFO [command-name ...]
    private static void CommandInfo(CommandContext ctx)
    {
        if (ctx.ArgCount == 2)
        {
            CommandAll(ctx);
            return;
        }
        ctx.Reply.Array(ctx.ArgCount - 2);
        for (var i = 2; i < ctx.ArgCount; i++)
        {
            var c = FindByFullName(ctx.Server.Commands, ctx.ArgString(i));
            if (c is null) ctx.Reply.Null();
            else WriteCommandInfo(ctx.Reply, c);
        }
    }

    /// <summary>"get" or "config|get".</summary>
    private static CommandDef? FindByFullName(CommandTable table, string name)
    {
        var bar = name.IndexOf('|', StringComparison.Ordinal);
        if (bar < 0) return table.Find(name);
        var parent = table.Find(name[..bar]);
        if (parent?.Subcommands is null) return null;
        return parent.Subcommands.GetValueOrDefault(name[(bar + 1)..]);
    }

    /// <summary>Redis 7's ten-element command description.</summary>
    private static void WriteCommandInfo(RespWriter r, CommandDef c)
    {
        r.Array(10);
        r.Bulk(c.FullName);
        r.Integer(c.Arity);
        var flags = 0;
        foreach (var (flag, _) in FlagNames) if (c.Has(flag)) flags++;
        r.Set(flags);
        foreach (var (flag, name) in FlagNames) if (c.Has(flag)) r.SimpleString(name);
        r.Integer(c.FirstKey);
        r.Integer(c.LastKey);
        r.Integer(c.Step);
        r.Set(c.Categories.Length);
        foreach (var cat in c.Categories) r.SimpleString("@" + cat);
        r.Set(c.Tips.Length);
        foreach (var tip in c.Tips) r.Bulk(tip);
        WriteKeySpecs(r, c);
        // As Redis: no subcommands is an empty set, subcommands an array.
        if (c.Subcommands is null)
        {
            r.Set(0);
            return;
        }
        r.Array(c.Subcommands.Count);
        foreach (var sub in c.Subcommands.Values) WriteCommandInfo(r, sub);
    }

    /// <summary>One range key spec derived from first/last/step (commands with movable keys get none).</summary>
    private static void WriteKeySpecs(RespWriter r, CommandDef c)
    {
        if (c.FirstKey <= 0)
        {
            r.Set(0);
            return;
        }
        r.Set(1);
        r.Map(3);
        r.Bulk("flags"u8);
        r.Set(2);
        if (c.Has(Write))
        {
            r.SimpleString("RW"u8);
            r.SimpleString("update"u8);
        }
        else
        {
            r.SimpleString("RO"u8);
            r.SimpleString("access"u8);
        }
        r.Bulk("begin_search"u8);
        r.Map(2);
        r.Bulk("type"u8); r.Bulk("index"u8);
        r.Bulk("spec"u8);
        r.Map(1);
        r.Bulk("index"u8); r.Integer(c.FirstKey);
        r.Bulk("find_keys"u8);
        r.Map(2);
        r.Bulk("type"u8); r.Bulk("range"u8);
        r.Bulk("spec"u8);
        r.Map(3);
        r.Bulk("lastkey"u8); r.Integer(c.LastKey < 0 ? c.LastKey : c.LastKey - c.FirstKey);
        r.Bulk("keystep"u8); r.Integer(c.Step);
        r.Bulk("limit"u8); r.Integer(0);
    }

    // COMMAND DOCS [command-name ...]
    private static void CommandDocs(CommandContext ctx)
    {
        var commands = new List<CommandDef>();
        if (ctx.ArgCount == 2) commands.AddRange(ctx.Server.Commands.All);
        for (var i = 2; i < ctx.ArgCount; i++)
        {
            if (FindByFullName(ctx.Server.Commands, ctx.ArgString(i)) is { } c) commands.Add(c);
        }
        ctx.Reply.Map(commands.Count);
        foreach (var c in commands)
        {
            ctx.Reply.Bulk(c.FullName);
            WriteCommandDocs(ctx.Reply, c);
        }
    }

    private static void WriteCommandDocs(RespWriter r, CommandDef c)
    {
        var subs = c.Subcommands?.Values;
        var complexity = c.Complexity.Length > 0;
        r.Map(3 + (complexity ? 1 : 0) + (subs is null ? 0 : 1));
        r.Bulk("summary"u8); r.Bulk(c.Summary);
        r.Bulk("since"u8); r.Bulk(c.Since);
        r.Bulk("group"u8); r.Bulk(c.Group);
        if (complexity)
        {
            r.Bulk("complexity"u8);
            r.Bulk(c.Complexity);
        }
        if (subs is null) return;
        r.Bulk("subcommands"u8);
        r.Map(subs.Count);
        foreach (var sub in subs)
        {
            r.Bulk(sub.FullName);
            WriteCommandDocs(r, sub);
        }
    }

    // COMMAND LIST [FILTERBY MODULE module-name | ACLCAT category | PATTERN pattern]
    private static void CommandList(CommandContext ctx)
    {
        Func<CommandDef, bool> filter = _ => true;
        if (ctx.ArgCount == 5 && ctx.ArgIs(2, "FILTERBY"u8))
        {
            var value = ctx.ArgString(4);
            if (ctx.ArgIs(3, "MODULE"u8)) filter = _ => false; // no modules
            else if (ctx.ArgIs(3, "ACLCAT"u8)) filter = c => c.Categories.Contains(value, StringComparer.OrdinalIgnoreCase);
            else if (ctx.ArgIs(3, "PATTERN"u8)) filter = c => Glob.Match(value, c.FullName, ignoreCase: true);
            else
            {
                ctx.SyntaxError();
                return;
            }
        }
        else if (ctx.ArgCount != 2)
        {
            ctx.SyntaxError();
            return;
        }
        var r = ctx.Reply;
        var header = r.BeginDeferred();
        var count = 0;
        foreach (var c in ctx.Server.Commands.All)
        {
            if (filter(c)) { r.Bulk(c.FullName); count++; }
            if (c.Subcommands is null) continue;
            foreach (var sub in c.Subcommands.Values)
            {
                if (filter(sub)) { r.Bulk(sub.FullName); count++; }
            }
        }
        r.EndDeferredArray(header, count);
    }

    // COMMAND GETKEYS command [arg ...]
    private static void CommandGetkeys(CommandContext ctx) => GetKeys(ctx, withFlags: false);

    // COMMAND GETKEYSANDFLAGS command [arg ...]
    private static void CommandGetkeysandflags(CommandContext ctx) => GetKeys(ctx, withFlags: true);

    private static void GetKeys(CommandContext ctx, bool withFlags)
    {
        var target = ctx.Server.Commands.Find(ctx.Arg(2));
        if (target?.Subcommands is not null && ctx.ArgCount >= 4) target = CommandTable.FindSubcommand(target, ctx.Arg(3));
        if (target is null)
        {
            ctx.Error(Errors.InvalidCommandSpecified);
            return;
        }
        if (target.KeyFinder is null && target.FirstKey <= 0 && !target.Has(Movablekeys))
        {
            ctx.Error(Errors.NoKeyArguments);
            return;
        }
        var args = new List<ReadOnlyMemory<byte>>(ctx.ArgCount - 2);
        for (var i = 2; i < ctx.ArgCount; i++) args.Add(ctx.ArgMemory(i));
        if (target.Arity > 0 && target.Arity != args.Count || args.Count < -target.Arity)
        {
            ctx.Error(Errors.InvalidNumberOfArguments);
            return;
        }
        IReadOnlyList<int>? positions;
        if (target.KeyFinder is not null)
        {
            positions = target.KeyFinder(args);
            if (positions is null)
            {
                ctx.Error(Errors.InvalidArgumentsForCommand);
                return;
            }
        }
        else if (target.FirstKey <= 0)
        {
            ctx.Reply.EmptyArray(); // movable keys without a key finder: none found
            return;
        }
        else
        {
            var list = new List<int>();
            var last = target.LastKey < 0 ? args.Count + target.LastKey : target.LastKey;
            for (var i = target.FirstKey; i <= last && i < args.Count; i += Math.Max(1, target.Step)) list.Add(i);
            positions = list;
        }
        var r = ctx.Reply;
        r.Array(positions.Count);
        foreach (var p in positions)
        {
            if (!withFlags)
            {
                r.Bulk(args[p].Span);
                continue;
            }
            r.Array(2);
            r.Bulk(args[p].Span);
            r.Set(2);
            r.SimpleString(target.Has(Write) ? "RW"u8 : "RO"u8);
            r.SimpleString(target.Has(Write) ? "update"u8 : "access"u8);
        }
    }

    // COMMAND HELP
    private static void CommandHelp(CommandContext ctx) => ConnectionCommands.HelpReply(ctx,
    [
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
        "HELP",
        "    Prints this help.",
    ]);

    // ───────────────────────────── CONFIG ─────────────────────────────

    // CONFIG GET parameter [parameter ...]
    private static void ConfigGet(CommandContext ctx)
    {
        var patterns = new string[ctx.ArgCount - 2];
        for (var i = 2; i < ctx.ArgCount; i++) patterns[i - 2] = ctx.ArgString(i);
        var matches = ctx.Server.Config.Match(patterns);
        ctx.Reply.Map(matches.Count);
        foreach (var (name, value) in matches)
        {
            ctx.Reply.Bulk(name);
            ctx.Reply.Bulk(value);
        }
    }

    // CONFIG SET parameter value [parameter value ...]
    private static void ConfigSet(CommandContext ctx)
    {
        if ((ctx.ArgCount - 2) % 2 != 0)
        {
            ctx.SyntaxError();
            return;
        }
        var config = ctx.Server.Config;
        var changes = new List<(ConfigParameter Parameter, string Given, string Value)>();
        for (var i = 2; i < ctx.ArgCount; i += 2)
        {
            var given = ctx.ArgString(i);
            var p = config.Find(given);
            if (p is null)
            {
                ctx.Error(Errors.ConfigSetUnknown(given));
                return;
            }
            if (p.Immutable || p.Set is null)
            {
                ctx.Error(Errors.ConfigSetFailed(given, "can't set immutable config"));
                return;
            }
            foreach (var earlier in changes)
            {
                if (earlier.Parameter == p)
                {
                    ctx.Error(Errors.ConfigSetFailed(given, "duplicate parameter"));
                    return;
                }
            }
            changes.Add((p, given, ctx.ArgString(i + 1)));
        }

        // All or nothing: on the first failure, restore what was already applied.
        var previous = new List<(ConfigParameter Parameter, string Value)>(changes.Count);
        foreach (var (p, given, value) in changes)
        {
            var old = p.Get();
            if (p.Set!(value) is { } reason)
            {
                for (var j = previous.Count - 1; j >= 0; j--) previous[j].Parameter.Set!(previous[j].Value);
                ctx.Error(Errors.ConfigSetFailed(given, reason));
                return;
            }
            previous.Add((p, old));
        }
        ctx.Reply.Ok();
    }

    // CONFIG RESETSTAT
    private static void ConfigResetstat(CommandContext ctx)
    {
        var server = ctx.Server;
        server.Stats.Reset();
        foreach (var c in server.Commands.All)
        {
            ResetCommandStats(c);
            if (c.Subcommands is null) continue;
            foreach (var sub in c.Subcommands.Values) ResetCommandStats(sub);
        }
        State(server).ResetStats();
        ctx.Reply.Ok();
    }

    private static void ResetCommandStats(CommandDef c)
    {
        c.Calls = 0;
        c.Microseconds = 0;
        c.RejectedCalls = 0;
        c.FailedCalls = 0;
    }

    // CONFIG REWRITE
    private static void ConfigRewrite(CommandContext ctx)
    {
        var file = ctx.Server.Options.ConfigFile;
        if (string.IsNullOrEmpty(file))
        {
            ctx.Error(Errors.NoConfigFile);
            return;
        }
        if (ctx.Server.Config.Rewrite(file) is { } reason)
        {
            ctx.Error(Errors.ConfigRewriteFailed(reason));
            return;
        }
        ctx.Reply.Ok();
    }

    // CONFIG HELP
    private static void ConfigHelp(CommandContext ctx) => ConnectionCommands.HelpReply(ctx,
    [
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        "HELP",
        "    Prints this help.",
    ]);

    // ───────────────────────────── INFO ─────────────────────────────

    /// <summary>Every section in Redis's order; the bool says whether it is in the default set.</summary>
    private static readonly (string Name, bool Default, Action<InfoBuilder, ServerContext> Write)[] Sections =
    [
        ("server", true, WriteServer),
        ("clients", true, WriteClients),
        ("memory", true, WriteMemory),
        ("persistence", true, WritePersistence),
        ("stats", true, WriteStats),
        ("replication", true, WriteReplication),
        ("cpu", true, WriteCpu),
        ("modules", true, (_, _) => { }),
        ("commandstats", false, WriteCommandStats),
        ("errorstats", true, WriteErrorStats),
        ("latencystats", false, (_, _) => { }),
        ("cluster", true, (b, _) => b.Field("cluster_enabled", 0)),
        ("keyspace", true, WriteKeyspace),
    ];

    // INFO [section [section ...]]
    private static void Info(CommandContext ctx)
    {
        var wanted = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        bool all = false, defaults = ctx.ArgCount == 1;
        for (var i = 1; i < ctx.ArgCount; i++)
        {
            var name = ctx.ArgString(i);
            if (name.Equals("all", StringComparison.OrdinalIgnoreCase) || name.Equals("everything", StringComparison.OrdinalIgnoreCase)) all = true;
            else if (name.Equals("default", StringComparison.OrdinalIgnoreCase)) defaults = true;
            else wanted.Add(name);
        }
        var b = new InfoBuilder();
        foreach (var (name, isDefault, write) in Sections)
        {
            if (!(all || defaults && isDefault || wanted.Contains(name))) continue;
            b.Section(name == "cpu" ? "CPU" : char.ToUpperInvariant(name[0]) + name[1..]);
            write(b, ctx.Server);
        }
        ctx.Reply.Verbatim(b.ToBytes());
    }

    /// <summary>Redis's INFO text: "# Section\r\n" then "field:value\r\n" lines, sections separated by "\r\n".</summary>
    private sealed class InfoBuilder
    {
        private readonly StringBuilder _text = new();

        public void Section(string title)
        {
            if (_text.Length > 0) _text.Append("\r\n");
            _text.Append("# ").Append(title).Append("\r\n");
        }

        public void Field(string name, string value) => _text.Append(name).Append(':').Append(value).Append("\r\n");

        public void Field(string name, long value) => Field(name, value.ToString(CultureInfo.InvariantCulture));

        /// <summary>A fixed-point figure, as Redis's "%.2f" (or another number of decimals).</summary>
        public void Field(string name, double value, int decimals) => Field(name, value.ToString("F" + decimals, CultureInfo.InvariantCulture));

        public void Line(string line) => _text.Append(line).Append("\r\n");

        public byte[] ToBytes() => Encoding.UTF8.GetBytes(_text.ToString());
    }

    private static void WriteServer(InfoBuilder b, ServerContext server)
    {
        var nowUs = (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) / 10;
        var uptime = (long)server.Uptime.Elapsed.TotalSeconds;
        b.Field("redis_version", ConnectionCommands.RedisVersion);
        b.Field("redis_git_sha1", "00000000");
        b.Field("redis_git_dirty", 0);
        b.Field("redis_build_id", "0000000000000000");
        b.Field("redis_mode", "standalone");
        b.Field("os", OsDescription.Value);
        b.Field("arch_bits", IntPtr.Size * 8);
        b.Field("monotonic_clock", "POSIX clock_gettime");
        b.Field("multiplexing_api", OperatingSystem.IsLinux() ? "epoll" : OperatingSystem.IsWindows() ? "winsock_IOCP" : "kqueue");
        b.Field("atomicvar_api", "c11-builtin");
        b.Field("gcc_version", "0.0.0");
        b.Field("process_id", Environment.ProcessId);
        b.Field("process_supervised", "no");
        b.Field("run_id", server.RunId);
        b.Field("tcp_port", server.ListeningPort);
        b.Field("server_time_usec", nowUs);
        b.Field("uptime_in_seconds", uptime);
        b.Field("uptime_in_days", uptime / 86400);
        b.Field("hz", server.Options.Hz);
        b.Field("configured_hz", server.Options.Hz);
        b.Field("lru_clock", nowUs / 1_000_000 & ((1 << 24) - 1));
        b.Field("executable", Environment.ProcessPath ?? "");
        b.Field("config_file", server.Options.ConfigFile ?? "");
        b.Field("io_threads_active", 0);
    }

    /// <summary>"Linux 6.1.0-18-amd64 x86_64", as Redis's uname-based os field.</summary>
    private static readonly Lazy<string> OsDescription = new(() =>
    {
        var arch = RuntimeInformation.OSArchitecture switch
        {
            Architecture.X64 => "x86_64",
            Architecture.Arm64 => "aarch64",
            Architecture.X86 => "i686",
            var other => other.ToString().ToLowerInvariant(),
        };
        if (OperatingSystem.IsLinux())
        {
            try
            {
                return $"Linux {File.ReadAllText("/proc/sys/kernel/osrelease").Trim()} {arch}";
            }
            catch (IOException)
            {
            }
        }
        var name = OperatingSystem.IsWindows() ? "Windows" : OperatingSystem.IsMacOS() ? "Darwin" : "Unix";
        return $"{name} {Environment.OSVersion.Version} {arch}";
    });

    private static void WriteClients(InfoBuilder b, ServerContext server)
    {
        b.Field("connected_clients", server.Clients.Count);
        b.Field("cluster_connections", 0);
        b.Field("maxclients", server.Options.MaxClients);
        b.Field("client_recent_max_input_buffer", 0);
        b.Field("client_recent_max_output_buffer", 0);
        b.Field("blocked_clients", server.Blocking.BlockedCount);
        b.Field("tracking_clients", 0);
        b.Field("clients_in_timeout_table", server.Blocking.BlockedCount);
    }

    private static void WriteMemory(InfoBuilder b, ServerContext server)
    {
        var m = MemorySnapshot.Take(server);
        var maxMemory = long.Parse(server.Config.Find("maxmemory")?.Get() ?? "0", CultureInfo.InvariantCulture);
        var dataset = Math.Max(0, m.Used - m.Startup);
        var overhead = Math.Min(m.Used, m.Startup);
        b.Field("used_memory", m.Used);
        b.Field("used_memory_human", BytesToHuman(m.Used));
        b.Field("used_memory_rss", m.Rss);
        b.Field("used_memory_rss_human", BytesToHuman(m.Rss));
        b.Field("used_memory_peak", m.Peak);
        b.Field("used_memory_peak_human", BytesToHuman(m.Peak));
        b.Field("used_memory_peak_perc", Percent(m.Used, m.Peak));
        b.Field("used_memory_overhead", overhead);
        b.Field("used_memory_startup", m.Startup);
        b.Field("used_memory_dataset", dataset);
        b.Field("used_memory_dataset_perc", Percent(dataset, m.Used - m.Startup <= 0 ? 1 : m.Used - m.Startup));
        b.Field("allocator_allocated", m.Used);
        b.Field("allocator_active", m.Committed);
        b.Field("allocator_resident", m.Rss);
        b.Field("total_system_memory", m.TotalSystem);
        b.Field("total_system_memory_human", BytesToHuman(m.TotalSystem));
        b.Field("used_memory_lua", 0);
        b.Field("used_memory_vm_eval", 0);
        b.Field("used_memory_lua_human", "0B");
        b.Field("used_memory_scripts_eval", 0);
        b.Field("number_of_cached_scripts", 0);
        b.Field("number_of_functions", 0);
        b.Field("number_of_libraries", 0);
        b.Field("used_memory_vm_functions", 0);
        b.Field("used_memory_vm_total", 0);
        b.Field("used_memory_vm_total_human", "0B");
        b.Field("used_memory_functions", 0);
        b.Field("used_memory_scripts", 0);
        b.Field("used_memory_scripts_human", "0B");
        b.Field("maxmemory", maxMemory);
        b.Field("maxmemory_human", BytesToHuman(maxMemory));
        b.Field("maxmemory_policy", server.Config.Find("maxmemory-policy")?.Get() ?? "noeviction");
        b.Field("allocator_frag_ratio", Ratio(m.Committed, m.Used), 2);
        b.Field("allocator_frag_bytes", Math.Max(0, m.Committed - m.Used));
        b.Field("allocator_rss_ratio", Ratio(m.Rss, m.Committed), 2);
        b.Field("allocator_rss_bytes", m.Rss - m.Committed);
        b.Field("rss_overhead_ratio", 1.0, 2);
        b.Field("rss_overhead_bytes", 0);
        b.Field("mem_fragmentation_ratio", m.FragmentationRatio, 2);
        b.Field("mem_fragmentation_bytes", m.Rss - m.Used);
        b.Field("mem_not_counted_for_evict", 0);
        b.Field("mem_replication_backlog", 0);
        b.Field("mem_total_replication_buffers", 0);
        b.Field("mem_clients_slaves", 0);
        b.Field("mem_clients_normal", 0);
        b.Field("mem_cluster_links", 0);
        b.Field("mem_aof_buffer", 0);
        b.Field("mem_allocator", "dotnet-gc");
        b.Field("active_defrag_running", 0);
        b.Field("lazyfree_pending_objects", 0);
        b.Field("lazyfreed_objects", 0);
    }

    private static double Ratio(long a, long b) => b <= 0 ? 0 : (double)a / b;

    private static string Percent(long part, long whole)
        => (whole <= 0 ? 0 : 100.0 * part / whole).ToString("F2", CultureInfo.InvariantCulture) + "%";

    /// <summary>Redis's bytesToHuman: "943B", "943.19K", "6.67M", "23.54G".</summary>
    internal static string BytesToHuman(long n)
    {
        string[] units = ["K", "M", "G", "T", "P", "E"];
        if (n < 1024) return n.ToString(CultureInfo.InvariantCulture) + "B";
        double d = n;
        var unit = -1;
        while (d >= 1024 && unit < units.Length - 1)
        {
            d /= 1024;
            unit++;
        }
        return d.ToString("F2", CultureInfo.InvariantCulture) + units[unit];
    }

    private static void WritePersistence(InfoBuilder b, ServerContext server)
    {
        var p = State(server).Persistence;
        var aofEnabled = p.AofEnabled ?? server.Options.AppendOnly;
        b.Field("loading", p.Loading ? 1 : 0);
        b.Field("async_loading", 0);
        b.Field("current_cow_peak", 0);
        b.Field("current_cow_size", 0);
        b.Field("current_cow_size_age", 0);
        b.Field("current_fork_perc", "0.00");
        b.Field("current_save_keys_processed", 0);
        b.Field("current_save_keys_total", 0);
        b.Field("rdb_changes_since_last_save", 0);
        b.Field("rdb_bgsave_in_progress", 0);
        b.Field("rdb_last_save_time", p.LastSaveUnixSeconds);
        b.Field("rdb_last_bgsave_status", "ok");
        b.Field("rdb_last_bgsave_time_sec", -1);
        b.Field("rdb_current_bgsave_time_sec", -1);
        b.Field("rdb_saves", 0);
        b.Field("rdb_last_cow_size", 0);
        b.Field("rdb_last_load_keys_expired", 0);
        b.Field("rdb_last_load_keys_loaded", 0);
        b.Field("aof_enabled", aofEnabled ? 1 : 0);
        b.Field("aof_rewrite_in_progress", p.AofRewriteInProgress ? 1 : 0);
        b.Field("aof_rewrite_scheduled", p.AofRewriteScheduled ? 1 : 0);
        b.Field("aof_last_rewrite_time_sec", p.AofLastRewriteTimeSec);
        b.Field("aof_current_rewrite_time_sec", p.AofCurrentRewriteTimeSec);
        b.Field("aof_last_bgrewrite_status", p.AofLastBgrewriteStatus);
        b.Field("aof_rewrites", p.AofRewrites);
        b.Field("aof_rewrites_consecutive_failures", p.AofRewritesConsecutiveFailures);
        b.Field("aof_last_write_status", p.AofLastWriteStatus);
        b.Field("aof_last_cow_size", 0);
        b.Field("module_fork_in_progress", 0);
        b.Field("module_fork_last_cow_size", 0);
        if (aofEnabled)
        {
            b.Field("aof_current_size", p.AofCurrentSize);
            b.Field("aof_base_size", p.AofBaseSize);
            b.Field("aof_pending_rewrite", p.AofRewriteScheduled ? 1 : 0);
            b.Field("aof_buffer_length", p.AofBufferLength);
            b.Field("aof_pending_bio_fsync", p.AofPendingBioFsync);
            b.Field("aof_delayed_fsync", p.AofDelayedFsync);
        }
        if (p.Loading)
        {
            b.Field("loading_start_time", p.LoadingStartUnixSeconds);
            b.Field("loading_total_bytes", p.LoadingTotalBytes);
            b.Field("loading_loaded_bytes", p.LoadingLoadedBytes);
            b.Field("loading_loaded_perc", p.LoadingTotalBytes == 0 ? 0 : 100.0 * p.LoadingLoadedBytes / p.LoadingTotalBytes, 2);
        }
    }

    private static void WriteStats(InfoBuilder b, ServerContext server)
    {
        var s = server.Stats;
        var state = State(server);
        var rates = state.SampleRates(server);
        b.Field("total_connections_received", s.TotalConnectionsReceived);
        b.Field("total_commands_processed", s.TotalCommandsProcessed);
        b.Field("instantaneous_ops_per_sec", (long)rates.OpsPerSec);
        b.Field("total_net_input_bytes", Interlocked.Read(ref s.TotalNetInputBytes));
        b.Field("total_net_output_bytes", Interlocked.Read(ref s.TotalNetOutputBytes));
        b.Field("total_net_repl_input_bytes", 0);
        b.Field("total_net_repl_output_bytes", 0);
        b.Field("instantaneous_input_kbps", rates.InputKbps, 2);
        b.Field("instantaneous_output_kbps", rates.OutputKbps, 2);
        b.Field("instantaneous_input_repl_kbps", "0.00");
        b.Field("instantaneous_output_repl_kbps", "0.00");
        b.Field("rejected_connections", s.RejectedConnections);
        b.Field("sync_full", 0);
        b.Field("sync_partial_ok", 0);
        b.Field("sync_partial_err", 0);
        b.Field("expired_keys", state.ExpiredKeys(server));
        b.Field("expired_stale_perc", "0.00");
        b.Field("expired_time_cap_reached_count", 0);
        b.Field("expire_cycle_cpu_milliseconds", 0);
        b.Field("evicted_keys", 0);
        b.Field("evicted_clients", 0);
        b.Field("total_eviction_exceeded_time", 0);
        b.Field("current_eviction_exceeded_time", 0);
        b.Field("keyspace_hits", s.KeyspaceHits);
        b.Field("keyspace_misses", s.KeyspaceMisses);
        b.Field("pubsub_channels", server.PubSub.Channels.Count);
        b.Field("pubsub_patterns", server.PubSub.Patterns.Count);
        b.Field("pubsubshard_channels", 0);
        b.Field("latest_fork_usec", 0);
        b.Field("total_forks", 0);
        b.Field("migrate_cached_sockets", 0);
        b.Field("slave_expires_tracked_keys", 0);
        b.Field("active_defrag_hits", 0);
        b.Field("active_defrag_misses", 0);
        b.Field("active_defrag_key_hits", 0);
        b.Field("active_defrag_key_misses", 0);
        b.Field("total_active_defrag_time", 0);
        b.Field("current_active_defrag_time", 0);
        b.Field("tracking_total_keys", 0);
        b.Field("tracking_total_items", 0);
        b.Field("tracking_total_prefixes", 0);
        b.Field("unexpected_error_replies", s.UnexpectedErrorReplies);
        b.Field("total_error_replies", s.TotalErrorReplies);
        b.Field("dump_payload_sanitizations", 0);
        b.Field("total_reads_processed", 0);
        b.Field("total_writes_processed", 0);
        b.Field("io_threaded_reads_processed", 0);
        b.Field("io_threaded_writes_processed", 0);
        b.Field("reply_buffer_shrinks", 0);
        b.Field("reply_buffer_expands", 0);
    }

    private static void WriteReplication(InfoBuilder b, ServerContext server)
    {
        b.Field("role", "master");
        b.Field("connected_slaves", 0);
        b.Field("master_failover_state", "no-failover");
        b.Field("master_replid", State(server).ReplicationId);
        b.Field("master_replid2", "0000000000000000000000000000000000000000");
        b.Field("master_repl_offset", 0);
        b.Field("second_repl_offset", -1);
        b.Field("repl_backlog_active", 0);
        b.Field("repl_backlog_size", 1048576);
        b.Field("repl_backlog_first_byte_offset", 0);
        b.Field("repl_backlog_histlen", 0);
    }

    private static void WriteCpu(InfoBuilder b, ServerContext server)
    {
        _ = server;
        using var process = Process.GetCurrentProcess();
        b.Field("used_cpu_sys", process.PrivilegedProcessorTime.TotalSeconds, 6);
        b.Field("used_cpu_user", process.UserProcessorTime.TotalSeconds, 6);
        b.Field("used_cpu_sys_children", "0.000000");
        b.Field("used_cpu_user_children", "0.000000");
    }

    private static void WriteCommandStats(InfoBuilder b, ServerContext server)
    {
        foreach (var c in server.Commands.All)
        {
            WriteCommandStat(b, c);
            if (c.Subcommands is null) continue;
            foreach (var sub in c.Subcommands.Values) WriteCommandStat(b, sub);
        }
    }

    private static void WriteCommandStat(InfoBuilder b, CommandDef c)
    {
        if (c.Calls == 0 && c.FailedCalls == 0 && c.RejectedCalls == 0) return;
        var perCall = c.Calls == 0 ? 0 : (double)c.Microseconds / c.Calls;
        b.Line(string.Create(CultureInfo.InvariantCulture,
            $"cmdstat_{c.FullName}:calls={c.Calls},usec={c.Microseconds},usec_per_call={perCall:F2},rejected_calls={c.RejectedCalls},failed_calls={c.FailedCalls}"));
    }

    private static void WriteErrorStats(InfoBuilder b, ServerContext server)
    {
        foreach (var (code, count) in server.Stats.ErrorCodes.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            b.Line(string.Create(CultureInfo.InvariantCulture, $"errorstat_{code}:count={count}"));
        }
    }

    private static void WriteKeyspace(InfoBuilder b, ServerContext server)
    {
        foreach (var db in server.Keyspace.Databases)
        {
            if (db.Count == 0) continue;
            b.Line(string.Create(CultureInfo.InvariantCulture, $"db{db.Index}:keys={db.Count},expires={db.ExpiresCount},avg_ttl=0"));
        }
    }

    /// <summary>Memory figures for INFO memory and MEMORY STATS.</summary>
    private readonly record struct MemorySnapshot(long Used, long Peak, long Startup, long Rss, long Committed, long TotalSystem)
    {
        public double FragmentationRatio => Used <= 0 ? 0 : (double)Rss / Used;

        public static MemorySnapshot Take(ServerContext server)
        {
            var state = State(server);
            var gc = GC.GetGCMemoryInfo();
            var used = GC.GetTotalMemory(forceFullCollection: false) + (state.ExternalMemory?.Invoke() ?? 0);
            state.PeakMemory = Math.Max(state.PeakMemory, used);
            state.StartupMemory ??= used;
            return new MemorySnapshot(used, state.PeakMemory, state.StartupMemory.Value, ResidentSetSize(), gc.TotalCommittedBytes, gc.TotalAvailableMemoryBytes);
        }

        /// <summary>Resident set size from /proc/self/statm (pages), else the working set.</summary>
        private static long ResidentSetSize()
        {
            if (OperatingSystem.IsLinux())
            {
                try
                {
                    var fields = File.ReadAllText("/proc/self/statm").Split(' ');
                    if (fields.Length > 1 && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var pages))
                        return pages * Environment.SystemPageSize;
                }
                catch (IOException)
                {
                }
            }
            return Environment.WorkingSet;
        }
    }

    /// <summary>Per-server state of this family: memory peak, rate samples, replication id, persistence figures.</summary>
    private sealed class ServerState(ServerContext server)
    {
        private long _expiredBaseline;
        private long _sampleTicks = Stopwatch.GetTimestamp();
        private long _sampleCommands = server.Stats.TotalCommandsProcessed;
        private long _sampleInput;
        private long _sampleOutput;
        private (double OpsPerSec, double InputKbps, double OutputKbps) _rates;

        public PersistenceInfo Persistence { get; } = new() { LastSaveUnixSeconds = server.StartTimeMs / 1000 };

        public string ReplicationId { get; } = ServerContext.NewRandomHexId();

        public Func<long>? ExternalMemory { get; set; }

        public long PeakMemory { get; set; }

        public long? StartupMemory { get; set; }

        /// <summary>Keys expired since start or the last CONFIG RESETSTAT (the databases count them).</summary>
        public long ExpiredKeys(ServerContext s) => TotalExpired(s) - _expiredBaseline + s.Stats.ExpiredKeys;

        private static long TotalExpired(ServerContext s)
        {
            long total = 0;
            foreach (var db in s.Keyspace.Databases) total += db.ExpiredKeys;
            return total;
        }

        /// <summary>Rates over the time since the previous sample (at least 100 ms apart), as Redis's instantaneous_* figures.</summary>
        public (double OpsPerSec, double InputKbps, double OutputKbps) SampleRates(ServerContext s)
        {
            var now = Stopwatch.GetTimestamp();
            var seconds = Stopwatch.GetElapsedTime(_sampleTicks, now).TotalSeconds;
            if (seconds < 0.1) return _rates;
            var commands = s.Stats.TotalCommandsProcessed;
            var input = Interlocked.Read(ref s.Stats.TotalNetInputBytes);
            var output = Interlocked.Read(ref s.Stats.TotalNetOutputBytes);
            _rates = (Math.Max(0, commands - _sampleCommands) / seconds, Math.Max(0, input - _sampleInput) / seconds / 1024,
                Math.Max(0, output - _sampleOutput) / seconds / 1024);
            _sampleTicks = now;
            _sampleCommands = commands;
            _sampleInput = input;
            _sampleOutput = output;
            return _rates;
        }

        public void ResetStats()
        {
            _expiredBaseline = TotalExpired(server);
            _sampleCommands = 0;
            _sampleInput = 0;
            _sampleOutput = 0;
            _rates = default;
            PeakMemory = 0;
        }
    }
}

/// <summary>
/// What INFO persistence reports. The AOF writer owns these figures and updates them (on the dispatcher thread);
/// until it does, INFO shows the AOF as configured with nothing written, and no RDB.
/// </summary>
public sealed class PersistenceInfo
{
    /// <summary>Null: follow the appendonly setting.</summary>
    public bool? AofEnabled { get; set; }

    public bool Loading { get; set; }

    public long LoadingStartUnixSeconds { get; set; }

    public long LoadingTotalBytes { get; set; }

    public long LoadingLoadedBytes { get; set; }

    public bool AofRewriteInProgress { get; set; }

    public bool AofRewriteScheduled { get; set; }

    public long AofLastRewriteTimeSec { get; set; } = -1;

    public long AofCurrentRewriteTimeSec { get; set; } = -1;

    public string AofLastBgrewriteStatus { get; set; } = "ok";

    public long AofRewrites { get; set; }

    public long AofRewritesConsecutiveFailures { get; set; }

    public string AofLastWriteStatus { get; set; } = "ok";

    public long AofCurrentSize { get; set; }

    public long AofBaseSize { get; set; }

    public long AofBufferLength { get; set; }

    public long AofPendingBioFsync { get; set; }

    public long AofDelayedFsync { get; set; }

    /// <summary>LASTSAVE and rdb_last_save_time: the start time until something is saved.</summary>
    public long LastSaveUnixSeconds { get; set; }
}
