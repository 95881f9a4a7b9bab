using MoeDapr.Prefill;
using MoeDapr.ServiceDefaults;

// Before anything loads libtorch: its OpenMP runtime reads the environment once.
NativeThreadingDefaults.Apply();

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddPrefillServices();

var app = builder.Build();
app.UsePrefill();
app.MapDefaultEndpoints();
app.Run();

/// <summary>Entry point, visible to functional tests.</summary>
public partial class Program;
