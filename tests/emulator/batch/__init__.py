"""Batch data plane of the azlua local emulator (standard library only).

The core builds BatchService(ctx) once and calls service.handle(req, account, subpath)
for every request under /batch/{account}; service.stop() at shutdown.
"""
from .service import BatchService

__all__ = ["BatchService"]
