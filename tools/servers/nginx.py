"""A real nginx on loopback, run as the current user from a temporary prefix.

Used by the integration tests (a session fixture) and by the demo (``python -m tools.demo``).
``NginxServer.start()`` writes a configuration, a document root and trustme certificates
into a fresh temporary directory, starts ``nginx -p <dir> -c <dir>/nginx.conf`` in the
foreground (``daemon off``), and returns once every listener accepts TCP connections;
``stop()`` ends it (SIGTERM, a bounded wait, then SIGKILL) and removes the directory;
``restart()`` ends it the same way and starts it again on the same ports and directory.
Nothing listens anywhere but 127.0.0.1. No root needed: every path nginx writes (pid, lock,
logs, temp bodies, uploads) is inside the temporary directory; when run as root the worker
keeps the current user instead of nginx's default ``nobody``, so it can read and write there.

Listeners (attributes of ``ports``); all serve the same locations:

- ``http`` / ``https``: keep-alive on (75 s, unlimited requests per connection);
- ``h2``: TLS with ``http2`` (ALPN ``h2`` offered), for HTTP/2 clients;
- ``h2c``: cleartext HTTP/2 with prior knowledge (no HTTP/1.1 on this port);
- ``h2_few`` / ``h2c_few``: the same two, but nginx allows only ``FEW_STREAMS`` concurrent
  streams per connection (``http2_max_concurrent_streams``), for clients that must open
  another connection or queue when one is full;
- ``close_http`` / ``close_https``: ``keepalive_timeout 0``: every response carries
  ``Connection: close`` and nginx closes the connection after it;
- ``idle_close_http`` / ``idle_close_https``: ``keepalive_timeout 100ms``: keep-alive is
  advertised, then nginx closes the idle connection shortly after the response (the client
  learns it only from the socket: a FIN, or a TLS close_notify then a FIN).

Locations (see ``_LOCATIONS`` for the exact nginx text):

- ``/small.txt`` (``SMALL_BODY``), ``/large.bin`` (``LARGE_SIZE_BYTES`` of ASCII hex,
  sha256 in ``large_sha256``): static files, ``Content-Length`` framed;
- ``/chunked/<file>``: the same files through the SSI filter, which drops the length, so
  nginx sends them ``Transfer-Encoding: chunked`` to HTTP/1.1 clients;
- ``/uploads/<name>``: WebDAV ``PUT`` (201 new, 204 replaced) and ``DELETE`` into a directory
  of the prefix, ``GET`` reads the file back: uploads are verified end to end;
- ``/method``: answers 200 with the request method and a newline (any method; a request
  body is read and discarded); ``/ok``: 200 ``ok\\n``; ``/header/x-probe``: 200 with the
  value of the request's ``X-Probe`` header;
- ``/redirect/<code>`` for 301, 302, 303, 307, 308: to ``/method``; ``/redirect/chain``: 302 to
  ``/redirect/301``; ``/status/<code>`` for 204, 404, 500: that status;
- ``/slow/<file>``: the static files rate-limited to 1 byte/s after the first 1 KiB, so the
  headers and the start of the body arrive and then the body stalls;
- ``/silent``: proxied to a listening socket this object owns and never accepts on, so no
  response ever comes (nginx waits an hour for the upstream).
"""

from __future__ import annotations

import dataclasses
import grp
import hashlib
import os
import pathlib
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from typing import Any, List, Optional

import trustme

SMALL_BODY = b"Hello from nginx.\n"
LARGE_SIZE_BYTES = 10 * 1024 * 1024
# MAX_CONCURRENT_STREAMS of the ``h2_few`` / ``h2c_few`` listeners.
FEW_STREAMS = 4
READY_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 10.0
START_ATTEMPTS = 3
_POLL_INTERVAL_S = 0.02
_NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")
_HOSTNAMES = ("127.0.0.1", "localhost")

_LOCATIONS = """\
location / {{
}}
location /chunked/ {{
    alias {docroot}/;
    ssi on;
    ssi_types *;
}}
location /uploads/ {{
    dav_methods PUT DELETE;
    create_full_put_path on;
    dav_access user:rw;
    client_max_body_size 0;
}}
location = /method {{
    return 200 "$request_method\\n";
}}
location = /ok {{
    return 200 "ok\\n";
}}
location = /header/x-probe {{
    return 200 "$http_x_probe";
}}
location = /redirect/301 {{ return 301 /method; }}
location = /redirect/302 {{ return 302 /method; }}
location = /redirect/303 {{ return 303 /method; }}
location = /redirect/307 {{ return 307 /method; }}
location = /redirect/308 {{ return 308 /method; }}
location = /redirect/chain {{ return 302 /redirect/301; }}
location = /status/204 {{ return 204; }}
location = /status/404 {{ return 404; }}
location = /status/500 {{ return 500; }}
location /slow/ {{
    alias {docroot}/;
    limit_rate_after 1k;
    limit_rate 1;
}}
location = /silent {{
    proxy_pass http://127.0.0.1:{silent_port};
    proxy_connect_timeout 1h;
    proxy_send_timeout 1h;
    proxy_read_timeout 1h;
}}
"""

_CONFIG = """\
daemon off;
# One process (no master/worker pair): stopping it cannot leave an orphan worker.
master_process off;
worker_processes 1;
{user}
pid {prefix}/nginx.pid;
lock_file {prefix}/nginx.lock;
error_log {prefix}/error.log warn;

events {{
    worker_connections 1024;
}}

http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/temp/client_body;
    proxy_temp_path {prefix}/temp/proxy;
    fastcgi_temp_path {prefix}/temp/fastcgi;
    uwsgi_temp_path {prefix}/temp/uwsgi;
    scgi_temp_path {prefix}/temp/scgi;
    types {{
        text/plain txt;
        application/octet-stream bin;
    }}
    default_type text/plain;
    charset off;
    gzip off;
    server_tokens off;
    sendfile on;
    root {docroot};
    ssl_certificate {prefix}/server.pem;
    ssl_certificate_key {prefix}/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;

    server {{
        listen 127.0.0.1:{ports.http};
        listen 127.0.0.1:{ports.https} ssl;
        keepalive_timeout 75s;
        keepalive_requests 1000000;
        include {prefix}/locations.conf;
    }}
    server {{
        listen 127.0.0.1:{ports.h2} ssl http2;
        listen 127.0.0.1:{ports.h2c} http2;
        keepalive_timeout 75s;
        keepalive_requests 1000000;
        include {prefix}/locations.conf;
    }}
    server {{
        listen 127.0.0.1:{ports.h2_few} ssl http2;
        listen 127.0.0.1:{ports.h2c_few} http2;
        http2_max_concurrent_streams {few_streams};
        keepalive_timeout 75s;
        keepalive_requests 1000000;
        include {prefix}/locations.conf;
    }}
    server {{
        listen 127.0.0.1:{ports.close_http};
        listen 127.0.0.1:{ports.close_https} ssl;
        keepalive_timeout 0;
        include {prefix}/locations.conf;
    }}
    server {{
        listen 127.0.0.1:{ports.idle_close_http};
        listen 127.0.0.1:{ports.idle_close_https} ssl;
        keepalive_timeout 100ms;
        include {prefix}/locations.conf;
    }}
}}
"""


class NginxError(RuntimeError):
    """nginx is missing, or did not start or stop as expected."""


@dataclasses.dataclass(frozen=True)
class NginxPorts:
    """The TCP ports of the listeners (see the module docstring)."""

    http: int
    https: int
    h2: int
    h2c: int
    close_http: int
    close_https: int
    idle_close_http: int
    idle_close_https: int
    h2_few: int
    h2c_few: int

    def all(self) -> List[int]:
        return [int(getattr(self, field.name)) for field in dataclasses.fields(self)]


def find_nginx() -> str:
    """The nginx executable: ``$NGINX``, else ``nginx`` on PATH or in the usual places."""
    explicit = os.environ.get("NGINX")
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise NginxError(f"$NGINX is {explicit!r}, which is not an executable file")
        return explicit
    found = shutil.which("nginx")
    if found:
        return found
    for candidate in _NGINX_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    raise NginxError(
        "nginx not found (looked at $NGINX, PATH and "
        + ", ".join(_NGINX_CANDIDATES)
        + "): the integration tests and the demo need it; on Debian: apt-get install nginx"
    )


def _free_ports(count: int) -> List[int]:
    """``count`` distinct loopback ports that were free a moment ago."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _large_body() -> bytes:
    """``LARGE_SIZE_BYTES`` of hex text (no ``<``, so the SSI filter passes it unchanged)."""
    block = b"".join(
        hashlib.sha256(str(i).encode()).hexdigest().encode() + b"\n" for i in range(16384)
    )
    repeats = LARGE_SIZE_BYTES // len(block) + 1
    return (block * repeats)[:LARGE_SIZE_BYTES]


def _user_directive() -> str:
    if os.geteuid() != 0:
        return ""  # the directive only matters to a master started as root
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    return f"user {user} {group};"


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


class NginxServer:
    """One nginx process serving the listeners and locations above."""

    def __init__(self) -> None:
        self.executable = find_nginx()
        self.ca: Any = trustme.CA()
        self._server_cert: Any = self.ca.issue_cert(*_HOSTNAMES)
        large = _large_body()
        self.large_sha256 = hashlib.sha256(large).hexdigest()
        self._large: Optional[bytes] = large
        self._prefix: Optional[pathlib.Path] = None
        self._process: Optional[subprocess.Popen[bytes]] = None
        self._silent: Optional[socket.socket] = None
        self._ports: Optional[NginxPorts] = None
        self._restart_ports: Optional[NginxPorts] = None  # set during restart()
        self._early_error_log = True

    # --- what clients need ------------------------------------------------------------

    @property
    def ports(self) -> NginxPorts:
        if self._ports is None:
            raise NginxError("nginx is not running")
        return self._ports

    @property
    def prefix(self) -> pathlib.Path:
        if self._prefix is None:
            raise NginxError("nginx is not running")
        return self._prefix

    @property
    def uploads(self) -> pathlib.Path:
        """The directory ``/uploads/`` maps to."""
        return self.prefix / "docroot" / "uploads"

    @property
    def silent_port(self) -> int:
        """A port owned by this object that accepts TCP connections and never answers."""
        if self._silent is None:
            raise NginxError("nginx is not running")
        return int(self._silent.getsockname()[1])

    def url(self, path: str = "/", *, port: Optional[int] = None, tls: bool = False) -> str:
        """``http(s)://127.0.0.1:<port><path>``; the port defaults to the keep-alive listener."""
        if port is None:
            port = self.ports.https if tls else self.ports.http
        scheme = "https" if tls else "http"
        return f"{scheme}://127.0.0.1:{port}{path}"

    def client_ssl_context(self) -> ssl.SSLContext:
        """A new client context that trusts only this server's certificate authority."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        self.ca.configure_trust(context)
        return context

    def ca_pem_path(self) -> pathlib.Path:
        """The CA certificate as a PEM file (for tools that want a path)."""
        return self.prefix / "ca.pem"

    # --- life cycle -------------------------------------------------------------------

    def start(self) -> NginxServer:
        """Start nginx and wait (bounded) until every listener accepts connections."""
        if self._process is not None:
            raise NginxError("nginx is already running")
        self._prefix = pathlib.Path(tempfile.mkdtemp(prefix="httpcore-nginx-"))
        try:
            self._prepare_prefix(self._prefix)
            self._silent = socket.create_server(("127.0.0.1", 0), backlog=1024)
            last_error = ""
            for _ in range(START_ATTEMPTS):
                error = self._try_start()
                if error is None:
                    return self
                last_error = error
                if 'invalid option: "e"' in error and self._early_error_log:
                    self._early_error_log = False  # an nginx older than 1.19.5: retry without
                    continue
                if "Address already in use" not in error:
                    break
            raise NginxError(f"nginx did not start:\n{last_error}")
        except BaseException:
            self.stop()
            raise

    def _prepare_prefix(self, prefix: pathlib.Path) -> None:
        docroot = prefix / "docroot"
        (docroot / "uploads").mkdir(parents=True)
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (prefix / "temp" / name).mkdir(parents=True)
        (docroot / "small.txt").write_bytes(SMALL_BODY)
        assert self._large is not None
        (docroot / "large.bin").write_bytes(self._large)
        self._large = None  # only the hash is kept
        self._server_cert.cert_chain_pems[0].write_to_path(str(prefix / "server.pem"))
        with open(prefix / "server.pem", "ab") as chain:
            for pem in self._server_cert.cert_chain_pems[1:]:
                chain.write(pem.bytes())
        self._server_cert.private_key_pem.write_to_path(str(prefix / "server.key"))
        self.ca.cert_pem.write_to_path(str(prefix / "ca.pem"))

    def restart(self) -> NginxServer:
        """Stop nginx and start it again on the same ports, keeping the prefix (documents,
        certificates, uploads). Clients see their connections closed, then refused connects
        until every listener accepts again, which is when this returns (bounded)."""
        self._restart_ports = self.ports
        try:
            self._terminate()
            last_error = ""
            for _ in range(START_ATTEMPTS):
                error = self._try_start()
                if error is None:
                    return self
                last_error = error
                if "Address already in use" not in error:
                    break
        finally:
            self._restart_ports = None
        raise NginxError(f"nginx did not restart on the same ports:\n{last_error}")

    def _try_start(self) -> Optional[str]:
        """One attempt on fresh ports (a restart's: the old ones): None once ready, else
        what nginx said."""
        prefix = self.prefix
        ports = self._restart_ports
        if ports is None:
            ports = NginxPorts(*_free_ports(len(dataclasses.fields(NginxPorts))))
        docroot = prefix / "docroot"
        (prefix / "locations.conf").write_text(
            _LOCATIONS.format(docroot=docroot, silent_port=self.silent_port)
        )
        (prefix / "nginx.conf").write_text(
            _CONFIG.format(
                prefix=prefix,
                docroot=docroot,
                ports=ports,
                user=_user_directive(),
                few_streams=FEW_STREAMS,
            )
        )
        error_log = prefix / "error.log"
        error_log.write_bytes(b"")
        command = [self.executable, "-p", str(prefix), "-c", str(prefix / "nginx.conf")]
        if self._early_error_log:
            # The error log used before the configuration is read (nginx 1.19.5 and later).
            command += ["-e", str(error_log)]
        stderr = open(prefix / "stderr.log", "wb")
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                start_new_session=True,  # its own process group, so a kill reaches all of it
            )
        finally:
            stderr.close()
        self._process = process
        self._ports = ports
        deadline = time.monotonic() + READY_TIMEOUT_S
        waiting = ports.all()
        while waiting:
            if process.poll() is not None:
                break
            waiting = [port for port in waiting if not _accepts(port)]
            if waiting:
                if time.monotonic() > deadline:
                    break
                time.sleep(_POLL_INTERVAL_S)
        if not waiting and process.poll() is None:
            return None
        self._terminate()
        return (
            f"exit status {process.returncode}, ports not accepting: {waiting}\n"
            + (prefix / "stderr.log").read_text(errors="replace")
            + error_log.read_text(errors="replace")
        )

    def _terminate(self) -> None:
        process = self._process
        self._process = None
        self._ports = None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # nginx's fast shutdown
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=STOP_TIMEOUT_S)

    def stop(self) -> None:
        """Stop nginx (bounded), close the silent socket, remove the prefix. Idempotent."""
        try:
            self._terminate()
        finally:
            if self._silent is not None:
                self._silent.close()
                self._silent = None
            if self._prefix is not None:
                shutil.rmtree(self._prefix, ignore_errors=True)
                self._prefix = None

    def error_log(self) -> str:
        """nginx's error log so far (for failure messages)."""
        try:
            return (self.prefix / "error.log").read_text(errors="replace")
        except OSError:
            return ""

    def __enter__(self) -> NginxServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
