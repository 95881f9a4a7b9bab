using MoeDapr.Engine.Scheduling;

namespace MoeDapr.Engine;

/// <summary>The engine thread: builds the model, then runs posted commands, aborts and steps until disposal.</summary>
public sealed partial class InferenceEngine
{
    private void Loop(Func<EngineCore> build)
    {
        try
        {
            _core = build();
        }
        catch (Exception e)
        {
            _started.TrySetException(e);
            return;
        }

        _started.TrySetResult();
        var core = _core;
        var reader = _mailbox.Reader;
        Task<bool>? idle = null;
        while (!_stopping.IsCancellationRequested)
        {
            while (_aborts.TryDequeue(out var id))
            {
                core.Abort(id);
            }

            while (reader.TryRead(out var command))
            {
                Execute(command, core);
            }

            while (_aborts.TryDequeue(out var id))
            {
                core.Abort(id);
            }

            core.ExpireHandles();
            if (core.HasWork)
            {
                var observer = _stepObserver;
                core.Model.Timings.Enabled = observer is not null;
                try
                {
                    // Stats must show a newly admitted sequence as running before its first token reaches anyone.
                    if (core.Admit())
                    {
                        PublishStats(core);
                    }

                    core.Step();
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // A defect outside a forward pass (those fail only their batch): fail what runs, keep serving.
                    core.FailAll(e);
                }

                PublishStats(core);
                if (observer is not null && core.Model.Timings.Take() is { } timing)
                {
                    observer(timing);
                }
            }
            else
            {
                PublishStats(core);

                // One pending wait is kept across idle rounds (a new one each 50 ms would pile up waiters on the channel
                // until the next command); the timeout lets handles expire while nothing arrives.
                idle ??= reader.WaitToReadAsync(_stopping.Token).AsTask();
                try
                {
                    if (idle.Wait(IdleWait))
                    {
                        idle = null;
                    }
                }
                catch (AggregateException)
                {
                    idle = null; // stopping
                }
            }
        }

        core.AbortAll();
        while (reader.TryRead(out var command))
        {
            Execute(command, core);
        }

        core.AbortAll();
        core.Dispose();
    }

    /// <summary>Runs a posted command; commands report their own errors to their callers, so one failing cannot stop the engine thread.</summary>
    private static void Execute(Action<EngineCore> command, EngineCore core)
    {
        try
        {
            command(core);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            System.Diagnostics.Trace.TraceError($"engine command failed: {e}");
        }
    }

    private void PublishStats(EngineCore core)
    {
        _stats = core.Stats();
        _expertLoads = core.ExpertLoads();
    }
}
