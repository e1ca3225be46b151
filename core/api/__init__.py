"""The wire API: Python code generated from `protos/reelmark/v1/*.proto` (in `v1`) and the generator itself.

The generated modules are checked in, so neither users nor the daemon need protoc; `python -m
reelmark.core.api.generate` rewrites them, and a test fails when they no longer match the protos.
"""
