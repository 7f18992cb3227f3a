using StreamServer.Execution;

namespace StreamServer.Tests.Execution;

/// <summary>notify-keyspace-events as Redis's keyspaceEventsStringToFlags / keyspaceEventsFlagsToString read and print it.</summary>
public sealed class KeyspaceEventsTests
{
    [Theory]
    [InlineData("", "")]
    [InlineData("KEA", "AKE")]
    [InlineData("Ex", "xE")]
    [InlineData("g$lshzxetd", "A")]
    [InlineData("Kgx", "gxK")]
    [InlineData("AKEmn", "AKEm")] // "n" is left out after "A", as Redis prints it
    [InlineData("lKl", "lK")]
    [InlineData("Etn", "tnE")]
    public void Parse_ThenFormat_PrintsWhatRedisPrints(string classes, string printed)
    {
        Assert.True(KeyspaceEvents.TryParse(classes, out var flags));
        Assert.Equal(printed, KeyspaceEvents.Format(flags));
    }

    [Theory]
    [InlineData("Q")]
    [InlineData("KEAq")]
    [InlineData(" ")]
    public void Parse_ACharacterThatNamesNoClass_Fails(string classes) => Assert.False(KeyspaceEvents.TryParse(classes, out _));

    [Fact]
    public void All_IsEveryClassButKeyspaceKeyeventKeyMissAndNew()
    {
        Assert.True(KeyspaceEvents.TryParse("A", out var all));
        Assert.Equal(NotifyClass.All, all);
        Assert.Equal(NotifyClass.None, all & (NotifyClass.Keyspace | NotifyClass.Keyevent | NotifyClass.KeyMiss | NotifyClass.New));
        Assert.NotEqual(NotifyClass.None, all & NotifyClass.Stream);
    }
}
