"""An OpenAI-compatible embedding endpoint (`POST {base}/embeddings`) as an encoder.

Modules: `encoder` (RemoteEncoder, the Encoder the pipeline drives), `endpoint` (one HTTP
client: batching, concurrency, retries), `breaker` (one message for an endpoint that is
down), `identity` (which model answers, by its vectors), `tokens` (a window for models whose
tokenizer is not here), `errors` (what the pipeline and search catch; imports no HTTP
client, so the batch pipeline can import it cheaply).
"""
