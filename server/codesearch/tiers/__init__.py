"""Where vectors come from before the model: the local store, then a shared tier.

`shared` is the Redis/Valkey tier (SharedVectorTier); `cache` puts it under the local
store as one VectorCache for the batch pipeline (TieredVectorCache).
"""
