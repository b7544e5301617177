"""A sockside hooks back end for the namespace /notes, in Python's standard library only.

The protocol is docs/hooks.md. Run it beside the server (see README.md):
    HOOKS_SECRET=... PORT=8000 python3 app.py
"""
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = os.environ["HOOKS_SECRET"].encode()  # the HMAC key is the secret's raw bytes
WINDOW = 300  # seconds: older or newer timestamps are refused

lock = threading.Lock()
signatures = {}  # signature -> when it stops mattering (its timestamp + WINDOW)
notes = []
disconnects = []  # for the e2e test only (GET /hooks/_seen); a real app would log them


def refusal(headers, body):
    """The three checks of docs/hooks.md; None when the request may be trusted."""
    ts, sig = headers.get("X-Sockside-Timestamp", ""), headers.get("X-Sockside-Signature", "")
    mac = hmac.new(SECRET, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(("v1=" + mac).encode(), sig.encode()):
        return "bad signature"
    now = time.time()
    if not ts.isdigit() or abs(now - int(ts)) > WINDOW:
        return "timestamp too old or too far ahead"
    with lock:
        for s in [s for s, until in signatures.items() if until < now]:
            del signatures[s]
        if sig in signatures:
            return "replayed request"
        signatures[sig] = int(ts) + WINDOW
    return None


def session_name(cookie_header):
    try:
        morsel = SimpleCookie(cookie_header or "").get("session")
    except CookieError:
        return None
    return morsel.value if morsel and morsel.value else None


def connect(req, headers):
    name = session_name(headers.get("Cookie"))
    if name is None:
        return {"ok": False, "error": "sign in first", "data": {"signIn": "/login"}}
    return {"ok": True, "user": {"id": name, "name": name}, "join": ["board"], "relay": ["typing"]}


def event(req, headers):  # only connect requests carry the Cookie: the socket's user is in req
    arg = req["args"][0] if req["args"] else None
    if req["event"] == "note:add":
        text = arg.get("text") if isinstance(arg, dict) else None
        if not isinstance(text, str) or not text.strip():
            return {"ack": [{"ok": False, "error": "text must not be empty"}]}
        with lock:
            note = {"id": len(notes) + 1, "text": text, "from": req["user"]["name"]}
            notes.append(note)
        return {"emit": [{"event": "note:added", "args": [note], "to": ["board"]}],
                "ack": [{"ok": True, "id": note["id"]}]}
    if req["event"] == "note:list":
        with lock:
            return {"ack": [list(notes)]}
    return {"ack": [{"ok": False, "error": "unknown event"}]}


def disconnect(req, headers):
    with lock:
        disconnects.append({"sid": req["sid"], "reason": req["reason"]})
    print(f"disconnect {req['sid']}: {req['reason']}", file=sys.stderr, flush=True)
    return {}


HOOKS = {"/hooks/connect": connect, "/hooks/event": event, "/hooks/disconnect": disconnect}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # the server keeps connections alive between requests
    disable_nagle_algorithm = True  # headers and body are two writes: don't hold the body back 40 ms

    def answer(self, status, value):
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        hook = HOOKS.get(self.path)
        if hook is None:
            return self.answer(404, {"error": "no such hook"})
        if self.headers.get("X-Sockside-Hooks-Version") != "1":
            return self.answer(400, {"error": "this app speaks hooks protocol version 1"})
        refused = refusal(self.headers, body)
        if refused:
            return self.answer(401, {"error": refused})
        self.answer(200, hook(json.loads(body), self.headers))

    def do_GET(self):
        if self.path != "/hooks/_seen":  # the e2e test's view of the disconnect hooks
            return self.answer(404, {"error": "not found"})
        with lock:
            seen_so_far = list(disconnects)
        self.answer(200, seen_so_far)

    def log_message(self, format, *args):  # quiet: one line per hook is noise
        pass


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "0"))), Handler)
    print(f"listening on 127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()
