"""The floor under `bench/startup.py`: the same stack with nothing of Kinoroom in it.

FastAPI, pydantic-settings, SQLAlchemy's asyncio engine on an SQLite file and uvicorn,
with one ``/healthz`` route and one query before it listens: what any server built on
these libraries pays before its first answer on this machine. It prints the banner
line `bench/startup.py` reads (``running at http://127.0.0.1:PORT``); run by it, not
by hand. The collector is paused while it imports, as ``kinoroom serve`` does.
"""

from __future__ import annotations

import gc

gc.disable()

import asyncio  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

import uvicorn  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from pydantic_settings import BaseSettings  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402


class Settings(BaseSettings):
    database_url: str = ""


app = FastAPI()


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def main() -> None:
    settings = Settings()
    sock = socket.create_server(("127.0.0.1", 0))
    with tempfile.TemporaryDirectory() as folder:
        engine = create_async_engine(settings.database_url or f"sqlite+aiosqlite:///{folder}/db")
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        gc.freeze()
        gc.enable()
        print(f"running at http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        await server.serve(sockets=[sock])
        await engine.dispose()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
