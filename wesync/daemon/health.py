"""The optional `[daemon] health_listen` server: GET /healthz and GET /metrics."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from wesync.daemon.metrics import Metrics

PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def create_health_app(metrics: Metrics) -> Starlette:
    async def healthz(request: Request) -> Response:
        healthy, body = metrics.health()
        return JSONResponse(body, status_code=200 if healthy else 503)

    async def prometheus(request: Request) -> Response:
        return PlainTextResponse(metrics.prometheus(), media_type=PROMETHEUS_TYPE)

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", prometheus, methods=["GET"]),
        ]
    )
