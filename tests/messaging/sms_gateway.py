"""A stand-in SMS gateway for the tests: a real HTTP server on loopback, run as its own process.

It behaves as a gateway that honours ``Idempotency-Key``: a request whose key it already accepted is answered
200 again and not delivered a second time. What it does with the next requests is scripted through
``POST /plan`` (a list of ``"ok"``, ``"500"``, ``"400"``, ``"429"``, ``"accept-then-hang"``: deliver, then answer
too late), and ``GET /state`` tells what it received and delivered.

Run: ``python sms_gateway.py PORT_FILE TOKEN``; it writes its port to PORT_FILE once it listens.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LOCK = threading.Lock()
STATE: dict[str, list] = {"plan": [], "requests": [], "delivered": []}


class Handler(BaseHTTPRequestHandler):
    token = ""

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return

    def _json(self, code: int, body: object, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        with LOCK:
            self._json(200, {"requests": STATE["requests"], "delivered": STATE["delivered"]})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.path == "/plan":
            with LOCK:
                STATE["plan"] = json.loads(raw)
            return self._json(200, {"ok": True})
        key = self.headers.get("Idempotency-Key", "")
        with LOCK:
            STATE["requests"].append({"key": key, "auth": self.headers.get("Authorization", ""),
                                      "content_type": self.headers.get("Content-Type", ""),
                                      "body": raw.decode("utf-8", "replace")})
            step = STATE["plan"].pop(0) if STATE["plan"] else "ok"
        if self.headers.get("Authorization", "") != f"Bearer {self.token}":
            return self._json(401, {"error": "unauthorized"})
        if step in ("500", "400"):
            return self._json(int(step), {"error": step})
        if step == "429":
            return self._json(429, {"error": "slow down"}, {"Retry-After": "600"})
        try:
            message = json.loads(raw)
        except json.JSONDecodeError:
            return self._json(400, {"error": "not JSON"})
        with LOCK:
            known = {d["key"] for d in STATE["delivered"]}
            if key not in known:
                STATE["delivered"].append({"key": key, **message})
        if step == "accept-then-hang":
            time.sleep(30)  # the client gives up first: it must retry with the same key
        self._json(200, {"id": key, "status": "accepted"})


def main() -> None:
    port_file, Handler.token = Path(sys.argv[1]), sys.argv[2]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_file.write_text(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()
