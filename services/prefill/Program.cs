using MoeDapr.Prefill;
using MoeDapr.ServiceDefaults;

// Before anything loads libtorch: its OpenMP runtime reads the environment once. Prefill runs long runs of large
// kernels: its threads spin a few ms between them instead of paying a futex wake-up per kernel.
NativeThreadingDefaults.Apply(OpenMpWaiting.BoundedSpin);

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddPrefillServices();

var app = builder.Build();
app.UsePrefill();
app.MapDefaultEndpoints();
app.Run();

/// <summary>Entry point, visible to functional tests.</summary>
public partial class Program;
