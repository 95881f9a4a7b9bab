using MoeDapr.KvTransfer;
using MoeDapr.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddKvTransferServices();

var app = builder.Build();
app.UseKvTransfer();
app.MapDefaultEndpoints();
app.Run();

/// <summary>Entry point, visible to functional tests.</summary>
public partial class Program;
