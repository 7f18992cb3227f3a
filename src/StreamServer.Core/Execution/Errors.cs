namespace StreamServer.Execution;

/// <summary>Redis's error replies, defined once. Texts are exactly Redis 7's (without the leading '-').</summary>
public static class Errors
{
    public const string WrongType = "WRONGTYPE Operation against a key holding the wrong kind of value";
    public const string Syntax = "ERR syntax error";
    public const string NotInteger = "ERR value is not an integer or out of range";
    public const string NotFloat = "ERR value is not a valid float";
    public const string Overflow = "ERR increment or decrement would overflow";
    public const string NoSuchKey = "ERR no such key";
    public const string DbIndexOutOfRange = "ERR DB index is out of range";
    public const string NoAuth = "NOAUTH Authentication required.";
    public const string WrongPass = "WRONGPASS invalid username-password pair or user is disabled.";
    public const string AuthNotConfigured = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";
    public const string ExecAbort = "EXECABORT Transaction discarded because of previous errors.";
    public const string ExecWithoutMulti = "ERR EXEC without MULTI";
    public const string DiscardWithoutMulti = "ERR DISCARD without MULTI";
    public const string NestedMulti = "ERR MULTI calls can not be nested";
    public const string WatchInsideMulti = "ERR WATCH inside MULTI is not allowed";
    public const string ClusterDisabled = "ERR This instance has cluster support disabled";
    public const string Timeout = "ERR timeout is not a float or out of range";
    public const string TimeoutNegative = "ERR timeout is negative";
    public const string Busy = "BUSY";
    public const string DecrementOverflow = "ERR decrement would overflow";
    public const string IncrementNaNOrInfinity = "ERR increment would produce NaN or Infinity";
    public const string OffsetOutOfRange = "ERR offset is out of range";
    public const string StringTooLong = "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
    public const string InvalidCursor = "ERR invalid cursor";
    public const string ExpireNxIncompatible = "ERR NX and XX, GT or LT options at the same time are not compatible";
    public const string ExpireGtLtIncompatible = "ERR GT and LT options at the same time are not compatible";
    public const string LfuNotSelected = "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.";
    public const string NotPositive = "ERR value is out of range, must be positive";
    public const string OutOfRange = "ERR value is out of range";
    public const string HashValueNotInteger = "ERR hash value is not an integer";
    public const string HashValueNotFloat = "ERR hash value is not a float";
    public const string NaNOrInfinity = "ERR value is NaN or Infinity";
    public const string TimeoutNotInteger = "ERR timeout is not an integer or out of range";
    public const string NoConfigFile = "ERR The server is running without a config file";
    public const string InvalidCommandSpecified = "ERR Invalid command specified";
    public const string InvalidNumberOfArguments = "ERR Invalid number of arguments specified for command";
    public const string InvalidArgumentsForCommand = "ERR Invalid arguments specified for command";
    public const string NoKeyArguments = "ERR The command has no key arguments";
    public const string NoShutdownInProgress = "ERR No shutdown in progress.";
    public const string ShutdownFailed = "ERR Errors trying to SHUTDOWN. Check logs.";
    public const string FunctionFlushMode = "ERR FUNCTION FLUSH only supports SYNC|ASYNC option";
    public const string LibraryNotFound = "ERR Library not found";
    public const string LibraryNameMissing = "ERR library name argument was not given";
    public const string NoScriptRunning = "NOTBUSY No scripts in execution right now.";
    public const string FunctionsNotSupported = "ERR Functions are not supported by this server";
    public const string SlowlogCount = "ERR count should be greater than or equal to -1";
    public const string InvalidMasterPort = "ERR Invalid master port";
    public const string ReplicationNotSupported = "ERR Replication is not supported by this server";
    public const string RdbNotSupported = "ERR This server persists with the AOF only: use BGREWRITEAOF";
    public const string MonitorDenyBlocking = "ERR MONITOR isn't allowed for DENY BLOCKING client";

    // Streams (t_stream.c).
    public const string InvalidStreamId = "ERR Invalid stream ID specified as stream command argument";
    public const string XAddIdZero = "ERR The ID specified in XADD must be greater than 0-0";
    public const string XAddIdNotGreater = "ERR The ID specified in XADD is equal or smaller than the target stream top item";
    public const string StreamIdExhausted = "ERR The stream has exhausted the last possible ID, unable to add more items";
    public const string StreamElementsTooLarge = "ERR Elements are too large to be stored";
    public const string StreamMaxLenNegative = "ERR The MAXLEN argument must be >= 0.";
    public const string StreamLimitNegative = "ERR The LIMIT argument must be >= 0.";
    public const string StreamTrimBothStrategies = "ERR syntax error, MAXLEN and MINID options at the same time are not compatible";
    public const string StreamLimitWithoutStrategy = "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy";
    public const string StreamTrimWithoutStrategy = "ERR syntax error, XTRIM must be called with a trimming strategy";
    public const string StreamLimitWithoutApprox = "ERR syntax error, LIMIT cannot be used without the special ~ option";
    public const string StreamInvalidStartId = "ERR invalid start ID for the interval";
    public const string StreamInvalidEndId = "ERR invalid end ID for the interval";
    public const string XSetIdEntriesAddedNegative = "ERR entries_added must be positive";
    public const string XSetIdSmallerThanMaxDeletedArg = "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id";
    public const string XSetIdSmallerThanTop = "ERR The ID specified in XSETID is smaller than the target stream top item";
    public const string XSetIdEntriesAddedTooSmall = "ERR The entries_added specified in XSETID is smaller than the target stream length";
    public const string XReadGroupOptionOnXRead = "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.";
    public const string XReadNoAckOnXRead = "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.";
    public const string XReadGroupMissingGroup = "ERR Missing GROUP option for XREADGROUP";
    public const string XReadGreaterIdOutsideGroup = "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.";
    public const string XReadGroupDollarId = "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.";
    public const string TimeoutOutOfRange = "ERR timeout is out of range";

    /// <summary>XREAD/XREADGROUP with an odd number of arguments after STREAMS (Redis 7.2+ wording).</summary>
    /// <summary>Redis 8.0 lists XREAD's special ids ('+' from 7.4); XREADGROUP's is '>'.</summary>
    public const string UnbalancedXRead = "ERR Unbalanced 'xread' list of streams: for each stream key an ID, '+', or '$' must be specified.";
    public const string UnbalancedXReadGroup = "ERR Unbalanced 'xreadgroup' list of streams: for each stream key an ID or '>' must be specified.";

    /// <summary>Redis 7 with enable-debug-command no (its default).</summary>
    public const string DebugNotAllowed = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";
    public static string ConfigSetUnknown(string name) => $"ERR Unknown option or number of arguments for CONFIG SET - '{name}'";
    public static string ConfigSetFailed(string name, string reason) => $"ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}";
    public static string ConfigRewriteFailed(string reason) => $"ERR Rewriting config file: {reason}";
    public static string UnknownArgument(string argument) => $"ERR Unknown argument {argument}";

    public static string WrongArity(string fullName) => $"ERR wrong number of arguments for '{fullName}' command";

    public static string UnknownSubcommand(string subcommand, string command)
        => $"ERR unknown subcommand '{Truncate(subcommand)}'. Try {command.ToUpperInvariant()} HELP.";

    public static string RangeMustBetween(long min, long max) => $"ERR value is out of range, value must between {min} and {max}";

    /// <summary>EXEC rejected before it ran (arity, NOAUTH): Redis's execCommandAbort text, without the inner error's "ERR ".</summary>
    public static string ExecAbortBecause(string error)
        => "EXECABORT Transaction discarded because of: " + (error.StartsWith("ERR ", StringComparison.Ordinal) ? error[4..] : error);

    /// <summary>Redis's addReplySubcommandSyntaxError (a known subcommand with arguments it does not take).</summary>
    public static string SubcommandSyntax(string subcommand, string command)
        => $"ERR unknown subcommand or wrong number of arguments for '{Truncate(subcommand)}'. Try {command.ToUpperInvariant()} HELP.";

    public static string InvalidExpire(string command) => $"ERR invalid expire time in '{command}' command";

    public static string UnsupportedOption(string option) => $"ERR Unsupported option {option}";

    public static string NoGroup(string key, string group)
        => $"NOGROUP No such key '{key}' or consumer group '{group}'";

    // Consumer groups (t_stream.c).
    public const string BusyGroup = "BUSYGROUP Consumer Group name already exists";
    public const string XGroupKeyMissing = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";
    public const string EntriesReadRange = "ERR value for ENTRIESREAD must be positive or -1";
    public const string XClaimMinIdle = "ERR Invalid min-idle-time argument for XCLAIM";
    public const string XClaimIdle = "ERR Invalid IDLE option argument for XCLAIM";
    public const string XClaimTime = "ERR Invalid TIME option argument for XCLAIM";
    public const string XClaimRetryCount = "ERR Invalid RETRYCOUNT option argument for XCLAIM";
    public const string XAutoClaimMinIdle = "ERR Invalid min-idle-time argument for XAUTOCLAIM";
    public const string XAutoClaimCount = "ERR COUNT must be > 0";
    public const string UnblockedStreamDeleted = "UNBLOCKED the stream key no longer exists";
    public const string NoGroupWhileBlocked = "NOGROUP the consumer group this client was blocked on no longer exists";

    public static string NoGroupInXReadGroup(string key, string group)
        => $"NOGROUP No such key '{key}' or consumer group '{group}' in XREADGROUP with GROUP option";

    public static string NoGroupForKey(string group, string key)
        => $"NOGROUP No such consumer group '{group}' for key name '{key}'";

    public static string XClaimUnknownOption(string option) => $"ERR Unrecognized XCLAIM option '{option}'";

    // Redis 8 streams (8.2 XDELEX/XACKDEL/KEEPREF|DELREF|ACKED, 8.4 CLAIM, 8.6 IDMP/XCFGSET, 8.8 XNACK, 8.10 MAXCOUNT/MAXSIZE).
    // Texts the command pages give are theirs; the others are ours (the pages name no text), in Redis's wording style.
    public const string NumIdsNotPositive = "ERR Number of IDs must be a positive integer";
    public const string NumIdsMismatch = "ERR The `numids` parameter must match the number of arguments";
    public const string XAddIdmpTwice = "ERR IDMP/IDMPAUTO can be specified only once";
    public const string XAddIdmpWithExplicitId = "ERR IDMP/IDMPAUTO can be used only with auto-generated IDs";
    public const string IdmpEmptyProducerId = "ERR producer ID must not be empty";
    public const string IdmpEmptyIdempotentId = "ERR idempotent ID must not be empty";
    public const string XCfgSetInvalidDuration = "ERR invalid duration";
    public const string XCfgSetInvalidMaxSize = "ERR invalid maxsize";
    public const string XIdmpRecordUnknownEntry = "ERR the stream ID does not refer to an entry of the stream";
    public const string XIdmpRecordConflict = "ERR the producer ID and idempotent ID already map to a different stream ID";
    public const string XReadMaxCount = "ERR MAXCOUNT must be a positive integer";
    public const string XReadMaxSize = "ERR MAXSIZE must be a positive integer";
    public const string XReadClaimOnXRead = "ERR The CLAIM option is only supported by XREADGROUP. You called XREAD instead.";
    public const string XReadGroupClaimMinIdle = "ERR Invalid min-idle-time argument for CLAIM";
    public const string XNackRetryCount = "ERR Invalid RETRYCOUNT option argument for XNACK";

    private static string Truncate(string s) => s.Length > 128 ? s[..128] : s;

    public const string RewriteInProgress = "ERR Background append only file rewriting already in progress";
    public const string RewriteCannotStart = "ERR Can't execute an AOF background rewriting. Please check the server logs for more information.";

    public const string WaitAofAppendOnlyDisabled = "ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.";
}
