"""Starting the HTTP server."""
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from webapp.config import load


class Hello(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def address(settings):
    """The (host, port) pair the server binds to."""
    return (settings["host"], settings["port"])


def serve(settings=None):
    """Run the server until interrupted."""
    settings = load() if settings is None else settings
    httpd = ThreadingHTTPServer(address(settings), Hello)
    print("listening on http://%s:%d" % address(settings))
    httpd.serve_forever()
