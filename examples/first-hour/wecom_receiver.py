"""A local stand-in for a WeCom (企业微信) group robot, for the first-hour tutorial.

It listens on 127.0.0.1 only, answers like the real robot (``{"errcode": 0, "errmsg": "ok"}``;
93000 for a wrong ``key``) and appends each message's content to an inbox file, so you can see
what your team's group would receive. Standard library only. Stop it with Ctrl-C (or
``kill %1`` when started with ``&``).

    python examples/first-hour/wecom_receiver.py --port 8765 --inbox wecom-inbox.md
    export LUOPAN_WECOM_URL="http://127.0.0.1:8765/cgi-bin/webhook/send?key=first-hour"
"""

from __future__ import annotations

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

KEY = "first-hour"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--inbox", type=Path, default=Path("wecom-inbox.md"))
    args = parser.parse_args(argv)
    inbox: Path = args.inbox

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            parts = urlsplit(self.path)
            key = parse_qs(parts.query).get("key", [""])[0]
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if parts.path != "/cgi-bin/webhook/send" or key != KEY:
                reply = {"errcode": 93000, "errmsg": "invalid webhook url"}
            else:
                data = json.loads(body)
                kind = data.get("msgtype", "text")
                content = str(data.get(kind, {}).get("content", ""))
                with inbox.open("a", encoding="utf-8") as fh:
                    fh.write(f"----- {kind} -----\n{content}\n")
                reply = {"errcode": 0, "errmsg": "ok"}
            raw = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"WeCom receiver on http://127.0.0.1:{args.port} → {inbox}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
