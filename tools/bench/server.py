"""The benchmark's nginx: the test nginx of ``tools.servers.nginx`` with a bench configuration.

``BenchNginx`` reuses ``NginxServer`` for everything but the configuration: the temporary
prefix, the trustme CA and server certificate, the 10 MiB ``/large.bin``, the start with
retries on port clashes, the readiness wait and the bounded stop. What differs:

- one process (``master_process off``, one worker), no access log, ``open_file_cache``;
- four listeners: ``http`` (HTTP/1.1), ``https`` (TLS, ALPN ``http/1.1`` only, so S6 is the
  same protocol for every client), ``h2c`` (HTTP/2 prior knowledge, cleartext) and ``h2``
  (TLS, ALPN ``h2``);
- ``/2000.bin``: a 2000-byte static file; ``/large.bin``: 10 MiB; ``/sink``: reads and
  discards a request body of any size and answers 200 ``ok\\n``;
- optionally pinned to a set of CPUs (``os.sched_setaffinity`` on the one nginx process).
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import subprocess
import time
from typing import List, Optional, Set

from tools.bench.scenarios import SINK_PATH, SMALL_PATH, SMALL_SIZE_BYTES
from tools.servers.nginx import (
    READY_TIMEOUT_S,
    NginxServer,
    _accepts,
    _free_ports,
    _user_directive,
)

_POLL_INTERVAL_S = 0.02

_CONFIG = """\
daemon off;
master_process off;
worker_processes 1;
{user}
pid {prefix}/nginx.pid;
lock_file {prefix}/nginx.lock;
error_log {prefix}/error.log warn;

events {{
    worker_connections 4096;
}}

http {{
    access_log off;
    client_body_temp_path {prefix}/temp/client_body;
    proxy_temp_path {prefix}/temp/proxy;
    fastcgi_temp_path {prefix}/temp/fastcgi;
    uwsgi_temp_path {prefix}/temp/uwsgi;
    scgi_temp_path {prefix}/temp/scgi;
    default_type application/octet-stream;
    charset off;
    gzip off;
    etag off;
    server_tokens off;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    open_file_cache max=64 inactive=600s;
    keepalive_timeout 300s;
    keepalive_requests 100000000;
    http2_max_concurrent_streams 128;
    root {docroot};
    ssl_certificate {prefix}/server.pem;
    ssl_certificate_key {prefix}/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;

    server {{
        listen 127.0.0.1:{ports.http} backlog=4096;
        listen 127.0.0.1:{ports.https} ssl backlog=4096;
        include {prefix}/bench-locations.conf;
    }}
    server {{
        listen 127.0.0.1:{ports.h2c} http2 backlog=4096;
        listen 127.0.0.1:{ports.h2} ssl http2 backlog=4096;
        include {prefix}/bench-locations.conf;
    }}
}}
"""

_LOCATIONS = """\
location / {{
}}
location = {sink} {{
    client_max_body_size 0;
    return 200 "ok\\n";
}}
"""


@dataclasses.dataclass(frozen=True)
class BenchPorts:
    http: int
    https: int
    h2c: int
    h2: int

    def all(self) -> List[int]:
        return [self.http, self.https, self.h2c, self.h2]


class BenchNginx(NginxServer):
    """nginx for the benchmark (see the module docstring); ``cpus`` pins it."""

    def __init__(self, cpus: Optional[Set[int]] = None) -> None:
        super().__init__()
        self.cpus = cpus
        self._bench_ports: Optional[BenchPorts] = None

    @property
    def bench_ports(self) -> BenchPorts:
        if self._bench_ports is None:
            raise RuntimeError("nginx is not running")
        return self._bench_ports

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("nginx is not running")
        return self._process.pid

    def url(self, path: str = "/", *, port: Optional[int] = None, tls: bool = False) -> str:
        if port is None:
            port = self.bench_ports.https if tls else self.bench_ports.http
        return f"{'https' if tls else 'http'}://127.0.0.1:{port}{path}"

    def _try_start(self) -> Optional[str]:
        prefix: pathlib.Path = self.prefix
        docroot = prefix / "docroot"
        (docroot / SMALL_PATH.lstrip("/")).write_bytes(b"x" * SMALL_SIZE_BYTES)
        ports = BenchPorts(*_free_ports(4))
        (prefix / "bench-locations.conf").write_text(_LOCATIONS.format(sink=SINK_PATH))
        (prefix / "nginx.conf").write_text(
            _CONFIG.format(prefix=prefix, docroot=docroot, ports=ports, user=_user_directive())
        )
        error_log = prefix / "error.log"
        error_log.write_bytes(b"")
        command = [self.executable, "-p", str(prefix), "-c", str(prefix / "nginx.conf")]
        with open(prefix / "stderr.log", "wb") as stderr:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr, start_new_session=True
            )
        self._process = process
        self._bench_ports = ports
        if self.cpus:
            os.sched_setaffinity(process.pid, self.cpus)
        deadline = time.monotonic() + READY_TIMEOUT_S
        waiting = ports.all()
        while waiting and process.poll() is None and time.monotonic() < deadline:
            waiting = [port for port in waiting if not _accepts(port)]
            if waiting:
                time.sleep(_POLL_INTERVAL_S)
        if not waiting and process.poll() is None:
            return None
        self._terminate()
        self._bench_ports = None
        return (
            f"exit status {process.returncode}, ports not accepting: {waiting}\n"
            + (prefix / "stderr.log").read_text(errors="replace")
            + error_log.read_text(errors="replace")
        )

    def stop(self) -> None:
        self._bench_ports = None
        super().stop()
