"""Test helper (not a test): a minimal blob endpoint for resourceFiles/outputFiles tests
when Azurite is not at hand.  GET blob, PUT blob (BlockBlob), List Blobs (restype=container&comp=list).
It does not check SAS signatures; it records the query of every request so tests can."""
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape


class _H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def _split(self):
        u = urllib.parse.urlsplit(self.path)
        parts = urllib.parse.unquote(u.path).lstrip("/").split("/", 2)   # account, container, blob
        q = dict(urllib.parse.parse_qsl(u.query))
        self.server.seen.append((self.command, u.path, q, {k.lower(): v for k, v in self.headers.items()}))
        return parts, q

    def _send(self, code, body=b"", ctype="application/octet-stream"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        parts, q = self._split()
        if len(parts) == 2 and q.get("comp") == "list":
            key = (parts[0], parts[1])
            prefix = q.get("prefix", "")
            names = sorted(b for (a, c, b) in self.server.blobs if (a, c) == key and b.startswith(prefix))
            xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults><Blobs>%s</Blobs><NextMarker/>" \
                  "</EnumerationResults>" % "".join("<Blob><Name>%s</Name></Blob>" % escape(n) for n in names)
            return self._send(200, xml.encode(), "application/xml")
        data = self.server.blobs.get(tuple(parts)) if len(parts) == 3 else None
        if data is None:
            return self._send(404, b"<Error><Code>BlobNotFound</Code></Error>", "application/xml")
        self._send(200, data)

    def do_PUT(self):
        parts, q = self._split()
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n)
        if len(parts) != 3 or self.headers.get("x-ms-blob-type") != "BlockBlob":
            return self._send(400, b"<Error><Code>InvalidHeaderValue</Code></Error>", "application/xml")
        self.server.blobs[tuple(parts)] = data
        self._send(201)


class BlobFake:
    def start(self):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self.httpd.daemon_threads = True
        self.httpd.blobs = {}
        self.httpd.seen = []
        self.base = "http://127.0.0.1:%d/devstoreaccount1" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    @property
    def blobs(self):
        return self.httpd.blobs

    def put(self, container, name, data):
        self.httpd.blobs[("devstoreaccount1", container, name)] = data

    def get(self, container, name):
        return self.httpd.blobs.get(("devstoreaccount1", container, name))

    def url(self, container, name=None, sas="sv=2021-12-02&sr=c&sp=racwl&sig=fake"):
        return "%s/%s%s?%s" % (self.base, container, "/" + urllib.parse.quote(name) if name else "", sas)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
