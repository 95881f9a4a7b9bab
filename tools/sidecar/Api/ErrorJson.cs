namespace MoeDapr.Sidecar.Api;

/// <summary>Source-generated serialisation of <see cref="ErrorBody"/>.</summary>
[System.Text.Json.Serialization.JsonSerializable(typeof(ErrorBody))]
internal sealed partial class ErrorJson : System.Text.Json.Serialization.JsonSerializerContext;
