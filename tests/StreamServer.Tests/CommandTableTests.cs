using System.Text;
using StreamServer.Commands;
using StreamServer.Execution;

namespace StreamServer.Tests;

/// <summary>Command lookup by the request's bytes: Redis's dictSdsKeyCaseCompare (ASCII letters without case, other bytes exact).</summary>
public sealed class CommandTableTests
{
    private static readonly CommandTable Table = CreateTable();

    private static CommandTable CreateTable()
    {
        var table = new CommandTable();
        CommandRegistry.RegisterAll(table);
        return table;
    }

    [Theory]
    [InlineData("get")]
    [InlineData("GET")]
    [InlineData("gEt")]
    public void Find_IgnoresTheCaseOfAsciiLetters(string name)
        => Assert.Equal("get", Table.Find(Encoding.ASCII.GetBytes(name))?.Name);

    [Theory]
    [InlineData("ge")]
    [InlineData("gett")]
    [InlineData("g\u00c9t")]
    [InlineData("")]
    public void Find_UnknownNames_ReturnNull(string name)
        => Assert.Null(Table.Find(Encoding.Latin1.GetBytes(name)));

    [Fact]
    public void FindSubcommand_IgnoresCase()
    {
        var xgroup = Table.Find("XGROUP"u8)!;
        Assert.Equal("xgroup|create", CommandTable.FindSubcommand(xgroup, "CrEaTe"u8)?.FullName);
        Assert.Null(CommandTable.FindSubcommand(xgroup, "creat"u8));
    }

    [Fact]
    public void FindSubcommand_OnlyLettersAreFolded()
    {
        var client = Table.Find("client"u8)!;
        Assert.Equal("client|no-evict", CommandTable.FindSubcommand(client, "NO-EVICT"u8)?.FullName);
        Assert.Null(CommandTable.FindSubcommand(client, "no\revict"u8)); // '\r' | 0x20 is '-'
    }

    [Fact]
    public void ByteAndStringLookups_Agree()
    {
        foreach (var command in Table.All)
        {
            Assert.Same(command, Table.Find(command.Name.ToUpperInvariant()));
            Assert.Same(command, Table.Find(Encoding.ASCII.GetBytes(command.Name.ToUpperInvariant())));
        }
    }
}
