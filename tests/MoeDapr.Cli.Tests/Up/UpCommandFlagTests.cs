using System.Globalization;

namespace MoeDapr.Cli.Tests.Up;

/// <summary><c>moedapr up</c>'s naming and console flags, checked before anything starts.</summary>
public sealed class UpCommandFlagTests
{
    [Fact]
    public async Task UpHelp_Always_OffersServedNamesAndVerbose()
    {
        var result = await CliProcess.RunAsync("up", "--help");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("--served-model-name", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("--verbose", result.StdOut, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(" ")]
    [InlineData(" padded")]
    public async Task Up_BlankOrPaddedServedName_FailsNamingTheFlag(string name)
    {
        var port = ServiceProcess.FreePort().ToString(CultureInfo.InvariantCulture);

        var result = await CliProcess.RunAsync("up", "--port", port, "--served-model-name", "good", "--served-model-name", name);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--served-model-name:", result.StdErr, StringComparison.Ordinal);
    }
}
