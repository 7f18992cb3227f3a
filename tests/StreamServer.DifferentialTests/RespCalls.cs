using System.Text;
using StreamServer.IntegrationTests.Conformance;

namespace StreamServer.DifferentialTests;

/// <summary>One command as strings, its reply as RESP text (for the tests that talk to both servers by hand).</summary>
internal static class RespCalls
{
    public static async Task<string> Call(RespConnection c, CancellationToken ct, params string[] args)
        => Encoding.UTF8.GetString(await c.RoundTripAsync([.. args.Select(Encoding.UTF8.GetBytes)], ct));
}
