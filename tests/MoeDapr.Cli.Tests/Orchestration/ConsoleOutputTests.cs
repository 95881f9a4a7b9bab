namespace MoeDapr.Cli.Tests.Orchestration;

public sealed class ConsoleOutputTests
{
    [Theory]
    [InlineData("== APP - router == warn: something slow", "[router] warn: something slow")]
    [InlineData("== APP - decode-2 ==       continuation line", "[decode-2]       continuation line")]
    [InlineData("moedapr-sidecar: app=router http=1 grpc=2", "[sidecar] moedapr-sidecar: app=router http=1 grpc=2")]
    [InlineData("== APP ==  not a run-file line", "[sidecar] == APP ==  not a run-file line")]
    public void FormatLine_HostOutput_LabelsTheAppThatWroteIt(string line, string shown)
    {
        Assert.Equal(shown, ConsoleOutput.FormatLine(line));
    }

    [Fact]
    public void QuietLogLevels_KeepWarningsAndTheProjectsEventsOnly()
    {
        var levels = ConsoleOutput.QuietLogLevels;

        Assert.Equal("Warning", levels["Logging__LogLevel__Default"]);
        Assert.Equal("Information", levels["Logging__LogLevel__MoeDapr"]);
        Assert.Equal("Warning", levels["Logging__LogLevel__Microsoft.AspNetCore"]);
        Assert.Equal("None", levels["Logging__LogLevel__Microsoft.Extensions.Diagnostics.HealthChecks"]);
    }
}
