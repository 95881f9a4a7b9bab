using System.Net.Http.Headers;

namespace MoeDapr.Sidecar.PubSub;

/// <summary>How the app answered a delivery.</summary>
public enum DeliveryOutcome
{
    Success,
    Retry,
    Drop,
}
