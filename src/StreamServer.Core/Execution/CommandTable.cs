using System.Text;

namespace StreamServer.Execution;

/// <summary>Every command the server knows, looked up by name without allocating.</summary>
public sealed class CommandTable
{
    private readonly Dictionary<string, CommandDef> _commands = new(CommandNameComparer.Instance);
    private readonly Dictionary<string, CommandDef>.AlternateLookup<ReadOnlySpan<byte>> _byBytes;

    public CommandTable() => _byBytes = _commands.GetAlternateLookup<ReadOnlySpan<byte>>();

    public int Count => _commands.Count;

    public IEnumerable<CommandDef> All => _commands.Values;

    public CommandDef Add(CommandDef command)
    {
        _commands[command.Name] = command;
        return command;
    }

    public CommandDef? Find(string name) => _commands.GetValueOrDefault(name);

    public CommandDef? Find(ReadOnlySpan<byte> name) => _byBytes.TryGetValue(name, out var command) ? command : null;

    /// <summary>A subcommand of <paramref name="parent"/> by name, or null.</summary>
    public static CommandDef? FindSubcommand(CommandDef parent, ReadOnlySpan<byte> name)
    {
        if (parent.Subcommands is null) return null;
        return parent.Subcommands.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(name, out var command) ? command : null;
    }

    /// <summary>Redis's text for an unknown command: the name and up to 128 characters of its arguments.</summary>
    public static string UnknownCommandError(CommandContext ctx)
    {
        var args = new StringBuilder();
        for (var i = 1; i < ctx.ArgCount && args.Length < 128; i++)
        {
            var text = Encoding.UTF8.GetString(ctx.Arg(i));
            var room = 128 - args.Length;
            args.Append('\'').Append(text.Length > room ? text[..room] : text).Append("' ");
        }
        var name = Encoding.UTF8.GetString(ctx.Arg(0));
        if (name.Length > 128) name = name[..128];
        return $"ERR unknown command '{name}', with args beginning with: {args}";
    }
}
