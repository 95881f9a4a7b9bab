using Dapr;
using Microsoft.AspNetCore.Http.HttpResults;
using MoeDapr.Contracts;
using MoeDapr.Contracts.Eplb;

namespace MoeDapr.Decode.Eplb;

/// <summary>The EPLB subscriptions of decode: load windows forwarded to the coordinator actor, plans handed to the applier.</summary>
public static class EplbEndpoints
{
    public static IEndpointRouteBuilder MapEplbEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/eplb");
        group.MapPost("/load-windows", ForwardWindow).WithTopic(PubSub.Name, EplbTopics.LoadWindows);
        group.MapPost("/plans", OfferPlan).WithTopic(PubSub.Name, EplbTopics.Plans);
        group.MapGet("/plan", GetApplied);
        return app;
    }

    /// <summary>Forwards a window to its model's coordinator; a failure answers 500 so that pub/sub delivers it again.</summary>
    private static async Task<Results<Ok, ProblemHttpResult>> ForwardWindow(ExpertLoadWindow window, CoordinatorClient coordinator, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(window.Model))
        {
            // Retrying a window without a model cannot succeed: acknowledge and drop it.
            return TypedResults.Ok();
        }

        try
        {
            await coordinator.For(window.Model).ReportWindowAsync(window).WaitAsync(CoordinatorClient.CallTimeout, cancellationToken);
            return TypedResults.Ok();
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            return TypedResults.Problem(title: "the EPLB coordinator did not take the window", detail: e.Message, statusCode: StatusCodes.Status500InternalServerError);
        }
    }

    private static Ok OfferPlan(ExpertPlacementPlan plan, PlanApplier applier)
    {
        applier.Offer(plan);
        return TypedResults.Ok();
    }

    private static Ok<AppliedPlan> GetApplied(PlanApplier applier) => TypedResults.Ok(new AppliedPlan(applier.AppliedVersion));
}
