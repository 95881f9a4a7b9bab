using MoeDapr.Decode;
using MoeDapr.ServiceDefaults;

// Before anything loads libtorch: its OpenMP runtime reads the environment once. Decode runs short steps back to
// back: its idle OpenMP thread sleeps at once instead of spinning on the core the step kernel needs.
NativeThreadingDefaults.Apply(OpenMpWaiting.Passive);

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddDecodeServices();

var app = builder.Build();
app.UseDecode();
app.MapDefaultEndpoints();
app.Run();

/// <summary>Entry point, visible to functional tests.</summary>
public partial class Program;
