// The decode app exports to prometheus-net's process-wide default registry: one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
