"""An OpenAI-compatible embedding endpoint (`POST {base}/embeddings`) as an encoder.

Modules: `encoder` (RemoteEncoder, the Encoder the pipeline drives), `endpoint` (one HTTP
client: batching, concurrency, retries), `breaker` (one message for an endpoint that is
down), `identity` (which model answers, by its vectors), `tokens` (a window for models whose
tokenizer is not here), `errors` (what the pipeline and search catch; imports no HTTP
client, so the batch pipeline can import it cheaply).

The defaults below live here, not in `endpoint`, so the settings can name them without
importing an HTTP client.
"""

# The environment variable that holds the API key unless the settings name another one.
API_KEY_ENV = "CODESEARCH_EMBED_API_KEY"
# 64 texts per request and 4 requests in flight: see `endpoint` for why.
DEFAULT_REQUEST_BATCH_SIZE = 64
DEFAULT_MAX_CONCURRENCY = 4
# Libraries that log every request at INFO (httpx) or each step at DEBUG (httpcore): the
# faces set them to WARNING, so a log holds one line per problem, not one per batch.
NOISY_LOGGERS = ("httpx", "httpcore")
