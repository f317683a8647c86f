"""ASGI entry point for running under any server: `gunicorn -k uvicorn_worker.UvicornWorker server.asgi:app`.

`charter serve` is the supported way; it checks migrations first.
"""

from charter import logs
from server.app import create_app

logs.configure()
app = create_app(inprocess_worker=True)
