using StreamServer.Execution;

namespace StreamServer.Commands;

/// <summary>Builds the command table from every command family.</summary>
public static class CommandRegistry
{
    public static void RegisterAll(CommandTable table)
    {
        ConnectionCommands.Register(table);
        KeyCommands.Register(table);
        StringCommands.Register(table);
        SetCommands.Register(table);
        HashCommands.Register(table);
        TransactionCommands.Register(table);
        PubSubCommands.Register(table);
        ServerCommands.Register(table);
        StreamCommands.Register(table);
        ConsumerGroupCommands.Register(table);
        Persistence.AofCommands.Register(table);
    }

    /// <summary>Declares a command (one line per command in each family's Register).</summary>
    public static CommandDef Add(this CommandTable table, string name, int arity, CommandFlags flags, int firstKey, int lastKey, int step,
        CommandHandler handler, string group, string summary, string since = "1.0.0", string complexity = "O(1)", params string[] categories)
        => table.Add(new CommandDef(name, arity, flags, firstKey, lastKey, step, handler)
        {
            Group = group,
            Summary = summary,
            Since = since,
            Complexity = complexity,
            Categories = categories,
        });

    /// <summary>Declares a subcommand of <paramref name="parent"/>.</summary>
    public static CommandDef Sub(this CommandDef parent, string name, int arity, CommandFlags flags, int firstKey, int lastKey, int step,
        CommandHandler handler, string summary, string since = "1.0.0", string complexity = "O(1)", params string[] categories)
    {
        parent.AddSubcommand(new CommandDef(name, arity, flags, firstKey, lastKey, step, handler)
        {
            Group = parent.Group,
            Summary = summary,
            Since = since,
            Complexity = complexity,
            Categories = categories,
        });
        return parent;
    }

    /// <summary>The handler of a container command called without (a known) subcommand: Redis's arity error.</summary>
    public static void ContainerWithoutSubcommand(CommandContext ctx) => ctx.Error(Errors.WrongArity(ctx.Command.Name));
}
