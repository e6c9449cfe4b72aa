"""Whether the process traces, and the tracer every traced piece uses.

Off by default: no tracer provider, no tracing interceptors, no store spans, no ids in the
logs; what remains is one check per transaction. `bookings serve` turns it on when the
standard variable OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set:
spans then go to that OTLP/gRPC endpoint through a batch processor, and the SDK reads the
other standard OTEL_* variables itself (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
OTEL_TRACES_SAMPLER, OTEL_EXPORTER_OTLP_HEADERS, OTEL_BSP_*, OTEL_PROPAGATORS...).
OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none keep it off.

Tests enable a provider of their own (with an in-memory exporter) and disable it after.
"""

from __future__ import annotations

import os

from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from bookings_server import logs

#: The instrumentation scope of every span the server makes.
SCOPE = "bookings_server"
_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")

_tracer: trace.Tracer | None = None


def active_tracer() -> trace.Tracer | None:
    """The tracer to make spans with, or None when tracing is off."""
    return _tracer


def enable_tracing(provider: trace.TracerProvider) -> None:
    """Trace with `provider` from now on, and put trace ids into the log lines."""
    global _tracer
    _tracer = provider.get_tracer(SCOPE)
    logs.use_trace_ids(current_trace_ids)


def disable_tracing() -> None:
    global _tracer
    _tracer = None
    logs.use_trace_ids(None)


def current_trace_ids() -> dict[str, str]:
    """`trace_id` and `span_id` of the current span, as W3C hex, when one is active."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return {}
    return {"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}"}


def start_tracing_from_environment() -> TracerProvider | None:
    """Trace as the environment says (see above); the provider to shut down at exit, if any.

    It also becomes OpenTelemetry's global provider, for any library instrumentation."""
    provider = tracing_from_environment()
    if provider is not None:
        trace.set_tracer_provider(provider)
        enable_tracing(provider)
    return provider


def tracing_from_environment() -> TracerProvider | None:
    """A provider exporting over OTLP/gRPC when the environment names an endpoint, else None."""
    if not any(os.environ.get(name) for name in _ENDPOINT_VARIABLES):
        return None
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    if os.environ.get("OTEL_TRACES_EXPORTER", "otlp").lower() == "none":
        return None
    # Imported only when tracing is on: the exporter brings its own gRPC client stack.
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(resource=_resource())
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def _resource() -> Resource:
    """The SDK's resource from OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES, named "bookings"
    when they name no service."""
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: "bookings"}))
    return resource
