using MoeDapr.Router;
using MoeDapr.ServiceDefaults;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddRouterServices();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapRouterEndpoints();
app.Run();

/// <summary>Entry point, visible to functional tests.</summary>
public partial class Program;
