"""Metrics (Prometheus) and traces (OpenTelemetry) of the server process.

A utility like logs.py: every layer may record into it, and it imports no layer, no gRPC and
no generated code (the store may use it). What reads gRPC calls lives in api/interceptors/
(metrics.py, tracing.py); what wires it at start-up lives in serving_observability.py and
cli/main.py.
"""
