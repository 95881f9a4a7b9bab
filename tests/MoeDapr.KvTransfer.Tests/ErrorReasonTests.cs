using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using static MoeDapr.Contracts.KvTransfer.KvTransferErrorReason;
using static MoeDapr.KvTransfer.Tests.TestSupport;

namespace MoeDapr.KvTransfer.Tests;

/// <summary>Every reason kv-transfer gives reaches the client as that reason, over the control API and over the socket plane.</summary>
public sealed class ErrorReasonTests
{
    /// <summary>Reasons the client decides itself: no answer of kv-transfer carries them.</summary>
    private static readonly KvTransferErrorReason[] ClientOnly = [Unknown, KvTransferErrorReason.Timeout, Protocol];

    private static readonly KvTransferErrorReason[] ControlReasons = [InvalidRequest, NotFound, WrongState, Capacity, TooManyLeases, LengthMismatch, ChecksumMismatch, HeaderMismatch];

    private static readonly KvTransferErrorReason[] SocketReasons = [NotFound, NotCommitted, WrongState, LengthMismatch, ChecksumMismatch, Busy];

    public static TheoryData<KvTransferErrorReason> Control => new(ControlReasons);

    public static TheoryData<KvTransferErrorReason> Socket => new(SocketReasons);

    [Fact]
    public void EveryReason_IsTheClientsOwnOrHasARoundTripBelow()
    {
        var covered = ClientOnly.Concat(ControlReasons).Concat(SocketReasons).ToHashSet();

        Assert.All(Enum.GetValues<KvTransferErrorReason>(), reason => Assert.Contains(reason, covered));
    }

    [Theory]
    [MemberData(nameof(Control))]
    public async Task ControlApi_Refusal_ReachesTheClientWithTheReasonKvTransferSent(KvTransferErrorReason reason)
    {
        using var factory = new KvTransferFactory(maxLeases: reason == TooManyLeases ? 1 : null);
        var recorder = new ReasonRecorder();
        using var client = new KvTransferClient(
            new KvTransferHttpControl(factory.CreateDefaultClient(new Uri("http://localhost/"), recorder)),
            new KvTransferClientOptions { HostId = KvTransferFactory.HostId, Requester = "tests" });

        var error = await Assert.ThrowsAsync<KvTransferException>(() => ProvokeOnControlAsync(reason, client, factory.CapacityBytes));

        Assert.Equal(reason, error.Reason);
        Assert.Equal(reason.ToString(), recorder.LastReason); // sent by kv-transfer, not inferred from the status
    }

    [Theory]
    [MemberData(nameof(Socket))]
    public async Task SocketPlane_Refusal_ReachesTheClientWithItsReason(KvTransferErrorReason reason)
    {
        using var factory = new KvTransferFactory(socketMaxConnections: reason == Busy ? 1 : null);
        using var client = factory.NewClient(sharedMemory: false);

        var error = await Assert.ThrowsAsync<KvTransferException>(() => ProvokeOnSocketAsync(reason, client));

        Assert.Equal(reason, error.Reason);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task OpenRead_BeforeCommit_IsNotCommitted(bool sharedMemory)
    {
        using var factory = new KvTransferFactory();
        using var client = factory.NewClient(sharedMemory);
        await using var writer = await client.AllocateAsync(SmallLayout, null, CancellationToken.None);

        var error = await Assert.ThrowsAsync<KvTransferException>(() => client.OpenReadAsync(writer.Handle, CancellationToken.None));

        Assert.Equal(NotCommitted, error.Reason);
    }

    private static async Task ProvokeOnControlAsync(KvTransferErrorReason reason, KvTransferClient client, long capacity)
    {
        var control = client.Control;
        var payload = Payload(SmallLayout);
        var checksum = KvChecksum.Compute(payload);
        var ct = CancellationToken.None;
        switch (reason)
        {
            case InvalidRequest:
                await control.AllocateAsync(new KvAllocateRequest(0, null, null, "tests"), ct);
                break;
            case NotFound:
                await control.RenewAsync(KvHandle.New(), new KvRenewRequest(), ct);
                break;
            case WrongState:
                await using (var writer = await client.AllocateAsync(SmallLayout, null, ct))
                {
                    writer.Write(payload);
                    await writer.CommitAsync(ct);
                    await control.CommitAsync(writer.Handle, new KvCommitRequest(payload.Length, KvChecksum.ToHex(checksum)), ct);
                }

                break;
            case Capacity:
                await control.AllocateAsync(new KvAllocateRequest(capacity + KvNativeBuffer.PageSize, null, null, "tests"), ct);
                break;
            case TooManyLeases:
                await control.AllocateAsync(new KvAllocateRequest(payload.Length, null, null, "tests"), ct);
                await control.AllocateAsync(new KvAllocateRequest(payload.Length, null, null, "tests"), ct);
                break;
            case LengthMismatch:
                await using (var writer = await client.AllocateAsync(SmallLayout, null, ct))
                {
                    writer.Write(payload);
                    await writer.CommitAsync(ct, bytesWritten: payload.Length - 1);
                }

                break;
            case ChecksumMismatch:
                // Pushed bytes are hashed as they arrive, so a commit that claims another checksum is caught.
                var allocation = await control.AllocateAsync(new KvAllocateRequest(payload.Length, SmallLayout, null, "tests", PreferredPlane: KvDataPlane.Socket), ct);
                using (var buffer = Native(payload))
                {
                    await KvSocketClient.PushAsync(allocation.Endpoint.SocketHost, allocation.Endpoint.SocketPort, Guid.ParseExact(allocation.Handle, "N"), buffer.Address, payload.Length, checksum, ct);
                }

                await control.CommitAsync(allocation.Handle, new KvCommitRequest(payload.Length, KvChecksum.ToHex(checksum ^ 1)), ct);
                break;
            case HeaderMismatch:
                await using (var writer = await client.AllocateAsync(SmallLayout, null, ct))
                {
                    writer.Write(new byte[payload.Length]); // no MDKV header
                    await writer.CommitAsync(ct);
                }

                break;
            default:
                throw new InvalidOperationException($"no way to provoke {reason} on the control API");
        }
    }

    private static async Task ProvokeOnSocketAsync(KvTransferErrorReason reason, KvTransferClient client)
    {
        var payload = Payload(SmallLayout);
        var checksum = KvChecksum.Compute(payload);
        var ct = CancellationToken.None;
        var allocation = await client.Control.AllocateAsync(new KvAllocateRequest(payload.Length, SmallLayout, null, "tests", PreferredPlane: KvDataPlane.Socket), ct);
        var (host, port, handle) = (allocation.Endpoint.SocketHost, allocation.Endpoint.SocketPort, Guid.ParseExact(allocation.Handle, "N"));
        using var buffer = Native(payload);
        Task Push(long length, ulong sum) => KvSocketClient.PushAsync(host, port, handle, buffer.Address, length, sum, ct);
        Task Pull(Guid which) => KvSocketClient.PullAsync(host, port, which, buffer.Address, buffer.Length, ct);
        switch (reason)
        {
            case NotFound:
                await Pull(Guid.NewGuid());
                break;
            case NotCommitted:
                await Pull(handle);
                break;
            case WrongState:
                await Push(payload.Length, checksum);
                await client.Control.CommitAsync(allocation.Handle, new KvCommitRequest(payload.Length, KvChecksum.ToHex(checksum)), ct);
                await Push(payload.Length, checksum);
                break;
            case LengthMismatch:
                await Push(payload.Length - 1, checksum);
                break;
            case ChecksumMismatch:
                await Push(payload.Length, checksum ^ 1);
                break;
            case Busy:
                using (var holder = new System.Net.Sockets.Socket(SocketType.Stream, ProtocolType.Tcp))
                {
                    await holder.ConnectAsync(host, port); // takes the only connection slot while the plane waits for its request
                    await Pull(handle);
                }

                break;
            default:
                throw new InvalidOperationException($"no way to provoke {reason} on the socket plane");
        }
    }

    private static KvNativeBuffer Native(byte[] bytes)
    {
        var buffer = new KvNativeBuffer(bytes.Length);
        Marshal.Copy(bytes, 0, buffer.Address, bytes.Length);
        return buffer;
    }

    /// <summary>Keeps the <c>reason</c> member of the last refusal, as it came over the wire.</summary>
    private sealed class ReasonRecorder : DelegatingHandler
    {
        public string? LastReason { get; private set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (response.StatusCode >= HttpStatusCode.BadRequest)
            {
                await response.Content.LoadIntoBufferAsync(cancellationToken);
                using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
                LastReason = problem.RootElement.TryGetProperty(KvTransferRoutes.ReasonMember, out var sent) ? sent.GetString() : null;
            }

            return response;
        }
    }
}
