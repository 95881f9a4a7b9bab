using MoeDapr.Sidecar.Cli;

return await SidecarProgram.RunAsync(args);
