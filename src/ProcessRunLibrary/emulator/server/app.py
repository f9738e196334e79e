"""create_app(): the one middleware and the route tables, nothing else."""

from __future__ import annotations

from aiohttp import web

from . import admin, files
from .api import processruns, stepruns, worker, workitems
from .context import Context
from .middleware import serve
from .web import CONTEXT

ROUTE_TABLES = (
    processruns.routes,
    workitems.routes,
    stepruns.routes,
    files.routes,
    admin.routes,
    worker.routes,
)
# aiohttp's own limits for the request line and each header (8190 by default), raised so
# that long queries reach the API and get its JSON errors; past them aiohttp answers 400
# with a text body.
MAX_LINE_SIZE = 64 * 1024


def create_app(ctx: Context) -> web.Application:
    app = web.Application(middlewares=[serve], client_max_size=ctx.limits.max_body_size)
    app[CONTEXT] = ctx
    app.on_cleanup.append(close)
    for routes in ROUTE_TABLES:
        app.router.add_routes(routes)
    return app


async def close(app: web.Application) -> None:
    await app[CONTEXT].close()


__all__ = ["MAX_LINE_SIZE", "Context", "create_app"]
