"""``python -m studio serve``: the HTTP API (docs/api.md).

    python -m studio serve [--host 127.0.0.1] [--port 8000] [--data DIR] [--token TOKEN]

The token may also come from the environment variable ``STUDIO_API_TOKEN``. Without a token
the service refuses to bind to anything but a loopback address: an open render service on a
network would let anyone fill the disk and the CPU.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from pathlib import Path

from studio.errors import InputError

TOKEN_ENV = "STUDIO_API_TOKEN"
MIN_TOKEN_CHARS = 16


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("serve", help="run the HTTP API (FastAPI)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; others need a token)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--data", default=None, metavar="DIR", help="database and files (default: <studio data dir>/api)")
    p.add_argument("--token", default=None, help=f"require 'Authorization: Bearer TOKEN' (or set {TOKEN_ENV})")
    p.add_argument("--max-upload-mb", type=float, default=20.0, metavar="MB", help="largest image upload (default 20)")
    p.add_argument("--max-duration-s", type=float, default=600.0, metavar="S", help="longest track a request may ask for (default 600)")
    p.set_defaults(func=run)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def settings_from_args(args: argparse.Namespace):
    """Validated ApiSettings (InputError for a bad port, a short token, or an open bind without one)."""
    from studio.api.app import ApiSettings
    from studio.library import default_data_dir
    from studio.types import MAX_DURATION_S, MIN_DURATION_S

    token = args.token if args.token is not None else os.environ.get(TOKEN_ENV) or None
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        raise InputError(f"the token must be at least {MIN_TOKEN_CHARS} characters; got {len(token)}")
    if token is None and not is_loopback(args.host):
        raise InputError(f"refusing to bind to {args.host!r} without a token; use --host 127.0.0.1, or pass --token (or set {TOKEN_ENV})")
    if not 1 <= args.port <= 65535:
        raise InputError(f"--port must be from 1 to 65535; got {args.port}")
    if not 0 < args.max_upload_mb <= 200:
        raise InputError(f"--max-upload-mb must be above 0 and at most 200; got {args.max_upload_mb:g}")
    if not MIN_DURATION_S <= args.max_duration_s <= MAX_DURATION_S:
        raise InputError(f"--max-duration-s must be from {MIN_DURATION_S:g} to {MAX_DURATION_S:g}; got {args.max_duration_s:g}")
    data = Path(args.data) if args.data else default_data_dir() / "api"
    return ApiSettings(data_dir=data, token=token, max_upload_bytes=int(args.max_upload_mb * 2**20),
                       max_duration_s=float(args.max_duration_s))


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    try:
        import uvicorn

        from studio.api.app import create_app
    except ImportError as exc:
        raise InputError(f"serve needs {exc.name}; run `pip install -r requirements.txt`") from None
    sys.stderr.write(f"serving on http://{args.host}:{args.port} (data in {settings.data_dir}; "
                     f"{'bearer token required' if settings.token else 'no token: localhost only'})\n")
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="warning")
    return 0
