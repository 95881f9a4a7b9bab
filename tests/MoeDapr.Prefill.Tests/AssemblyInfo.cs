// prefill and kv-transfer export to prometheus-net's process-wide default registry: one test class at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
