using Microsoft.AspNetCore.Server.Kestrel.Core;
using MoeDapr.Router.Access;
using MoeDapr.Router.Options;

namespace MoeDapr.Router.Tests.Access;

public sealed class RouterAccessExtensionsTests
{
    [Theory]
    [InlineData("http://127.0.0.1:8080", null, 9090, "http://127.0.0.1:8080;http://127.0.0.1:9090")]
    [InlineData("http://localhost:8080;http://[::1]:8080", null, 9090, "http://localhost:8080;http://[::1]:8080;http://localhost:9090")]
    [InlineData("http://[::]:8080/", null, 9090, "http://[::]:8080/;http://[::]:9090")]
    [InlineData(null, "8080", 9090, "http://*:8080;http://*:9090")]
    [InlineData(null, null, 9090, "http://localhost:5000;http://localhost:9090")]
    public void WithAdminListener_AddsTheAdminPortOnTheClientsHost(string? urls, string? httpPorts, int adminPort, string expected) =>
        Assert.Equal(expected, RouterAccessExtensions.WithAdminListener(urls, httpPorts, adminPort));

    [Fact]
    public void ApplyLimits_CopiesEveryConnectionLimitOntoKestrel()
    {
        var limits = new RequestLimitsOptions
        {
            MaxRequestBodyBytes = 12_345,
            MinRequestBodyBytesPerSecond = 321,
            MinRequestBodyGracePeriod = TimeSpan.FromSeconds(7),
            RequestHeadersTimeout = TimeSpan.FromSeconds(3),
            KeepAliveTimeout = TimeSpan.FromSeconds(42),
            MaxConcurrentConnections = 77,
        };
        var kestrel = new KestrelServerOptions().Limits;

        RouterAccessExtensions.ApplyLimits(kestrel, limits);

        Assert.Equal(limits.MaxRequestBodyBytes, kestrel.MaxRequestBodySize);
        Assert.Equal(limits.MinRequestBodyBytesPerSecond, kestrel.MinRequestBodyDataRate!.BytesPerSecond);
        Assert.Equal(limits.MinRequestBodyGracePeriod, kestrel.MinRequestBodyDataRate.GracePeriod);
        Assert.Equal(limits.RequestHeadersTimeout, kestrel.RequestHeadersTimeout);
        Assert.Equal(limits.KeepAliveTimeout, kestrel.KeepAliveTimeout);
        Assert.Equal(limits.MaxConcurrentConnections, kestrel.MaxConcurrentConnections);
    }

    [Fact]
    public void ApplyLimits_ZeroRateAndConnections_TurnThoseLimitsOff()
    {
        var kestrel = new KestrelServerOptions().Limits;

        RouterAccessExtensions.ApplyLimits(kestrel, new RequestLimitsOptions { MinRequestBodyBytesPerSecond = 0, MaxConcurrentConnections = 0 });

        Assert.Null(kestrel.MinRequestBodyDataRate);
        Assert.Null(kestrel.MaxConcurrentConnections);
    }
}
