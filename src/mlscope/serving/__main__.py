"""`python -m mlscope.serving`: the process the local deploy target starts in the background."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mlscope.errors import MlscopeError
from mlscope.serving.server import build_source, serve_forever


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlscope.serving")
    parser.add_argument("--model", default=None)
    parser.add_argument("--alias", default=None)
    parser.add_argument("--artifact", type=Path, default=None)
    parser.add_argument("--pointer", type=Path, default=None)
    parser.add_argument("--tracking-uri", default=None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--poll-s", type=float, default=5.0)
    args = parser.parse_args(argv)
    try:
        source = build_source(model=args.model, alias=args.alias, artifact=args.artifact,
                              pointer=args.pointer, tracking_uri=args.tracking_uri)
        serve_forever(source, host=args.host, port=args.port, poll_s=args.poll_s,
                      model_name=args.model or "model")
    except MlscopeError as exc:
        print(f"Error: {exc.one_line()}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
