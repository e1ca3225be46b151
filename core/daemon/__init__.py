"""The reelmark daemon: one servicer behind gRPC and a JSON-over-HTTP gateway, a bounded job queue with engine
workers apart from the RPC threads, the store, and the security rules for binding beyond 127.0.0.1.

Modules, one job each: `errors` (status-carrying errors), `security` (addresses, token, media roots),
`cache` (analysis keys, fingerprint memo), `jobs` (queue, workers, progress, cancellation), `service` (the
API's logic, transport-free), `grpc_server`
(gRPC transport, health, reflection, limits), `gateway` (HTTP JSON transport, CORS), `server` (wiring, signals,
shutdown), `commands` (the `serve`, `jobs` and `cancel` commands).
"""
