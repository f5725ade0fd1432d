"""``python -m httpcore``: a small curl-like command for debugging, built on the public API.

It sends one request through a ``ConnectionPool`` and streams the response body to stdout
(or a file), so what it shows is what the library does: the same connect, TLS, ALPN and
proxy paths, and with ``--trace`` the library's own trace events, timed. It uses nothing
but the public ``httpcore`` names and the standard library.

Exit codes are a contract for scripts (``EXIT_*`` below, the ``--help`` epilog and
docs/cli.md list them); several follow curl's numbers so that habits carry over.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import ssl
import sys
import threading
import time
import urllib.parse
from typing import IO, Any, BinaryIO, Dict, List, Mapping, Optional, Sequence, Tuple, Type

import httpcore

PROG = "python -m httpcore"

EXIT_OK = 0
EXIT_FAILURE = 1  # UnsupportedProtocol, and any httpcore error without a code of its own
EXIT_USAGE = 2  # argparse's own code for a bad command line
EXIT_PROXY = 5
EXIT_CONNECT = 7
EXIT_PROTOCOL = 8
EXIT_HTTP_ERROR = 22  # --fail and a status >= 400
EXIT_OUTPUT = 23  # the body could not be written (-o FILE, or stdout closed)
EXIT_INPUT = 26  # a local input could not be read (-d @FILE, -d @-, --cacert FILE)
EXIT_TIMEOUT = 28
EXIT_SEND = 55
EXIT_RECEIVE = 56
EXIT_INTERRUPTED = 130  # Ctrl-C, as a shell reports SIGINT

# Most specific first: the first matching class gives the exit code.
_EXCEPTION_EXIT_CODES: Tuple[Tuple[Type[Exception], int], ...] = (
    (httpcore.ProxyError, EXIT_PROXY),
    (httpcore.UnsupportedProtocol, EXIT_FAILURE),
    (httpcore.TimeoutException, EXIT_TIMEOUT),
    (httpcore.ConnectError, EXIT_CONNECT),
    (httpcore.WriteError, EXIT_SEND),
    (httpcore.ReadError, EXIT_RECEIVE),
    (httpcore.ProtocolError, EXIT_PROTOCOL),
    (httpcore.NetworkError, EXIT_FAILURE),
    (httpcore.ConnectionNotAvailable, EXIT_FAILURE),
)
_HTTPCORE_ERRORS = tuple(cls for cls, _ in _EXCEPTION_EXIT_CODES)

EXIT_CODES_HELP = f"""\
exit codes:
  {EXIT_OK:>3}  success (whatever the HTTP status, unless --fail)
  {EXIT_FAILURE:>3}  UnsupportedProtocol (URL scheme), or another httpcore error
  {EXIT_USAGE:>3}  usage error (bad option, header, URL, timeout, proxy URL)
  {EXIT_PROXY:>3}  ProxyError (the proxy refused or failed the tunnel / SOCKS handshake)
  {EXIT_CONNECT:>3}  ConnectError (refused, unreachable, DNS, TLS handshake or certificate)
  {EXIT_PROTOCOL:>3}  LocalProtocolError / RemoteProtocolError
  {EXIT_HTTP_ERROR:>3}  --fail and the status is 400 or more
  {EXIT_OUTPUT:>3}  the body could not be written (-o FILE, or a closed stdout)
  {EXIT_INPUT:>3}  a local input could not be read (-d @FILE, -d @-, --cacert FILE)
  {EXIT_TIMEOUT:>3}  ConnectTimeout, ReadTimeout, WriteTimeout or PoolTimeout (--timeout)
  {EXIT_SEND:>3}  WriteError (sending failed)
  {EXIT_RECEIVE:>3}  ReadError (receiving failed)
  {EXIT_INTERRUPTED:>3}  interrupted (Ctrl-C)
"""

PROXY_SCHEMES = ("http", "https", "socks5", "socks5h", "socks4", "socks4a")
# RFC 9110 §5.6.2: methods and header names are tokens.
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+\Z")
_TRACE_INDENT = " " * len("[  0.0000s] ")
# Keys of a ``.started`` event's info worth a glance; the rest (contexts, timeouts, the
# request object, socket options) are either shown elsewhere or noise.
_STARTED_KEYS = ("host", "port", "path", "server_hostname", "stream_id")

HTTP1_ONLY = "http1"
HTTP2_ALPN = "http2"
HTTP2_PRIOR_KNOWLEDGE = "http2-prior-knowledge"


class _InputError(Exception):
    """A local input (data file, stdin, CA file) could not be read: exit ``EXIT_INPUT``."""


class _OutputError(Exception):
    """The body could not be written: exit ``EXIT_OUTPUT``."""


# --- command line ------------------------------------------------------------------------


def _header(text: str) -> Tuple[bytes, bytes]:
    name, colon, value = text.partition(":")
    name = name.strip()
    if not colon or not name:
        raise argparse.ArgumentTypeError(f"expected 'Name: value', got {text!r}")
    if not _TOKEN.match(name):
        raise argparse.ArgumentTypeError(f"not a header name token: {name!r}")
    # fsencode gives back the bytes the shell passed, whatever their encoding.
    return os.fsencode(name), os.fsencode(value.strip())


def _method(text: str) -> str:
    if not _TOKEN.match(text):
        raise argparse.ArgumentTypeError(f"not an HTTP method token: {text!r}")
    return text


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text!r}")
    return seconds


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Send one HTTP request with httpcore and write the response body to\n"
        "stdout: a curl-like tool for debugging connections, TLS, HTTP/2 and proxies.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("url", metavar="URL", help="http:// or https:// URL to request")
    parser.add_argument(
        "-X", "--request", metavar="METHOD", type=_method, dest="method",
        help="request method (default: GET, or POST when -d is given)",
    )
    parser.add_argument(
        "-H", "--header", metavar="'NAME: VALUE'", type=_header, action="append",
        dest="headers", default=[], help="add a request header (repeatable)",
    )
    parser.add_argument(
        "-d", "--data", metavar="DATA",
        help="request body: the text itself, @FILE for a file's bytes, @- for stdin",
    )
    version = parser.add_mutually_exclusive_group()
    version.add_argument(
        "--http1", action="store_const", const=HTTP1_ONLY, dest="http_version",
        help="HTTP/1.1 only (the default)",
    )
    version.add_argument(
        "--http2", action="store_const", const=HTTP2_ALPN, dest="http_version",
        help="offer h2 and http/1.1 by TLS ALPN (plain http:// stays HTTP/1.1)",
    )
    version.add_argument(
        "--http2-prior-knowledge", action="store_const", const=HTTP2_PRIOR_KNOWLEDGE,
        dest="http_version", help="HTTP/2 only, without negotiation (also over http://)",
    )
    parser.set_defaults(http_version=HTTP1_ONLY)
    parser.add_argument(
        "--proxy", metavar="URL",
        help="proxy URL: http://, https://, socks5://, socks5h://, socks4://, socks4a:// "
        "(USER:PASSWORD@ in it becomes the proxy credentials)",
    )
    parser.add_argument("--uds", metavar="PATH", help="connect to this Unix domain socket")
    parser.add_argument(
        "--timeout", metavar="SECONDS", type=_seconds,
        help="limit for each connect, read, write and pool wait (default: none)",
    )
    parser.add_argument(
        "--cacert", metavar="FILE",
        help="trust only the CA certificates in this PEM file (default: the system store "
        "and certifi's bundle)",
    )
    parser.add_argument(
        "-k", "--insecure", action="store_true",
        help="skip the certificate and host name checks",
    )
    parser.add_argument(
        "-i", "--include", action="store_true",
        help="write the status line and response headers before the body",
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write the body to FILE instead of stdout"
    )
    parser.add_argument(
        "--fail", action="store_true",
        help=f"write nothing and exit {EXIT_HTTP_ERROR} when the status is 400 or more",
    )
    parser.add_argument(
        "--trace", action="store_true",
        help="write the library's trace events to stderr, timed from the start",
    )
    parser.add_argument(
        "--version", action="version", version=f"httpcore {httpcore.__version__}"
    )
    return parser


def _proxy(parser: argparse.ArgumentParser, text: str, insecure: bool,
           cacert: Optional[str]) -> httpcore.Proxy:
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in PROXY_SCHEMES:
        parser.error(f"--proxy: scheme must be one of {', '.join(PROXY_SCHEMES)}: {text!r}")
    try:
        if not parts.hostname:
            parser.error(f"--proxy: no host in {text!r}")
        parts.port  # noqa: B018 - only to validate it: urlsplit parses the port lazily
    except ValueError as exc:
        parser.error(f"--proxy: {exc}: {text!r}")
    auth: Optional[Tuple[bytes, bytes]] = None
    userinfo, at, host_port = parts.netloc.rpartition("@")
    if at:
        # Proxy() ignores a URL's userinfo: credentials go through its ``auth`` argument.
        username, _, password = userinfo.partition(":")
        auth = (urllib.parse.unquote_to_bytes(username), urllib.parse.unquote_to_bytes(password))
        text = urllib.parse.urlunsplit(parts._replace(netloc=host_port))
    proxy_context = None
    if parts.scheme == "https":
        # A context of its own: the proxy connection sets ALPN http/1.1 on it, the origin
        # connection sets its own ALPN on the pool's context.
        proxy_context = _ssl_context(insecure, cacert) or httpcore.default_ssl_context()
    try:
        return httpcore.Proxy(text, auth=auth, ssl_context=proxy_context)
    except (TypeError, ValueError) as exc:  # e.g. non-ASCII text: the URL rules of API.md §2
        parser.error(f"--proxy: {exc}: {text!r}")


def _ssl_context(insecure: bool, cacert: Optional[str]) -> Optional[ssl.SSLContext]:
    """The TLS context the options ask for; None leaves the library's default."""
    if insecure:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False  # must come before CERT_NONE, which it would veto
        context.verify_mode = ssl.CERT_NONE
        return context
    if cacert is not None:
        try:
            return ssl.create_default_context(cafile=cacert)
        except (OSError, ssl.SSLError) as exc:
            raise _InputError(f"--cacert {cacert}: {exc}") from exc
    return None


def _content(data: Optional[str]) -> Optional[bytes]:
    if data is None:
        return None
    try:
        if data == "@-":
            return sys.stdin.buffer.read()
        if data.startswith("@"):
            with open(data[1:], "rb") as file:
                return file.read()
    except OSError as exc:
        raise _InputError(f"-d {data}: {exc}") from exc
    return os.fsencode(data)


# --- tracing -----------------------------------------------------------------------------


def _text(value: bytes) -> str:
    return value.decode("ascii", "backslashreplace")


def _address(value: Any) -> str:
    if isinstance(value, tuple) and len(value) >= 2:
        return f"{value[0]}:{value[1]}"
    return str(value)


class Tracer:
    """The ``trace`` extension of ``--trace``: one stderr line per event, plus details.

    ``body_bytes`` is kept by the caller (it counts what it writes out), so the body size
    shown at ``receive_response_body.complete`` is what the user got.
    """

    def __init__(self, stream: IO[str], started: float) -> None:
        self._stream = stream
        self._started = started
        self._lock = threading.Lock()  # sync HTTP/2 may trace from its reader thread
        self._requests: Dict[str, Any] = {}
        self.body_bytes = 0

    def __call__(self, name: str, info: Dict[str, Any]) -> None:
        elapsed = time.perf_counter() - self._started
        prefix, _, rest = name.partition(".")
        operation, _, phase = rest.rpartition(".")
        summary, details = self._describe(prefix, operation, phase, info)
        lines = [f"[{elapsed:8.4f}s] {name}{summary}"]
        lines += [_TRACE_INDENT + detail for detail in details]
        with self._lock:
            try:
                self._stream.write("\n".join(lines) + "\n")
                self._stream.flush()
            except OSError:
                pass  # a closed stderr must not turn into a failed request

    def _describe(
        self, prefix: str, operation: str, phase: str, info: Mapping[str, Any]
    ) -> Tuple[str, List[str]]:
        if phase == "failed":
            exc = info.get("exception")
            return " " + _describe_exception(exc) if exc is not None else "", []
        if phase == "started":
            if "request" in info:
                self._requests[prefix] = info["request"]
            shown = [f"{key}={info[key]}" for key in _STARTED_KEYS if info.get(key) is not None]
            return "".join(" " + item for item in shown), []
        value = info.get("return_value")
        if operation in ("connect_tcp", "connect_unix_socket") and value is not None:
            local = value.get_extra_info("client_addr")
            remote = value.get_extra_info("server_addr")
            if local is not None and remote is not None:
                return f" local={_address(local)} remote={_address(remote)}", []
        if operation == "start_tls" and value is not None:
            return _describe_tls(value.get_extra_info("ssl_object")), []
        if operation == "send_request_headers":
            return "", _describe_request(self._requests.get(prefix), prefix)
        if operation == "receive_response_headers" and isinstance(value, tuple):
            return _describe_response_head(value)
        if operation == "receive_response_body":
            return f" body={self.body_bytes} bytes", []
        return "", []


def _describe_tls(ssl_object: Any) -> str:
    if ssl_object is None:
        return ""
    cipher = ssl_object.cipher()
    return (
        f" version={ssl_object.version()}"
        f" alpn={ssl_object.selected_alpn_protocol() or '-'}"
        f" cipher={cipher[0] if cipher else '-'}"
    )


def _describe_request(request: Any, prefix: str) -> List[str]:
    if request is None:
        return []
    version = "HTTP/2" if prefix == "http2" else "HTTP/1.1"
    lines = [f"> {_text(request.method)} {_text(request.url.target)} {version}"]
    lines += [f"> {_text(name)}: {_text(value)}" for name, value in request.headers]
    return lines


def _describe_response_head(value: Tuple[Any, ...]) -> Tuple[str, List[str]]:
    if len(value) == 4:  # HTTP/1.1: (http_version, status, reason_phrase, headers)
        http_version, status, reason, headers = value
        status_line = f"{_text(http_version)} {status} {_text(reason)}".rstrip()
    else:  # HTTP/2: (status, headers)
        status, headers = value
        status_line = f"HTTP/2 {status}"
    lines = [f"< {status_line}"]
    lines += [f"< {_text(name)}: {_text(val)}" for name, val in headers]
    return f" status={status}", lines


# --- the request -------------------------------------------------------------------------


def _response_head(response: httpcore.Response) -> bytes:
    version: bytes = response.extensions.get("http_version", b"HTTP/1.1")
    reason: bytes = response.extensions.get("reason_phrase", b"")
    line = version + b" " + str(response.status).encode("ascii")
    if reason:
        line += b" " + reason
    fields = b"".join(name + b": " + value + b"\r\n" for name, value in response.headers)
    return line + b"\r\n" + fields + b"\r\n"


class _Sink:
    """Where the body goes, opened only once a response arrived (no empty file on error)."""

    def __init__(self, path: Optional[str]) -> None:
        self._path = None if path == "-" else path
        self._file: Optional[BinaryIO] = None

    def write(self, data: bytes) -> None:
        try:
            if self._file is None:
                if self._path is None:
                    self._file = sys.stdout.buffer
                else:
                    self._file = open(self._path, "wb")
            self._file.write(data)
            # Flushed chunk by chunk so a pipe sees the body as it arrives.
            self._file.flush()
        except OSError as exc:
            if isinstance(exc, BrokenPipeError) and self._path is None:
                _silence_stdout()
            target = "stdout" if self._path is None else self._path
            raise _OutputError(f"{target}: {exc}") from exc

    def close(self) -> None:
        if self._file is not None and self._path is not None:
            self._file.close()


def _silence_stdout() -> None:
    # The reader went away (``| head``): point stdout at /dev/null, or the interpreter's
    # final flush of what is still buffered fails again and prints a traceback.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass  # not a real file descriptor (an in-process capture): nothing to silence


def _report(message: str, hint: Optional[str] = None) -> None:
    try:
        sys.stderr.write(f"httpcore: {message}\n")
        if hint:
            sys.stderr.write(f"httpcore: hint: {hint}\n")
        sys.stderr.flush()
    except OSError:
        pass


def _describe_exception(exc: BaseException) -> str:
    """``ClassName: message`` on one line (some exceptions, e.g. PoolTimeout, have none)."""
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _exit_code(exc: Exception) -> int:
    for cls, code in _EXCEPTION_EXIT_CODES:
        if isinstance(exc, cls):
            return code
    return EXIT_FAILURE


def _hint(exc: Exception, args: argparse.Namespace) -> Optional[str]:
    message = str(exc)
    if isinstance(exc, httpcore.ConnectError):
        if "CERTIFICATE_VERIFY_FAILED" in message:
            return (
                "the server's certificate is not trusted: pass --cacert FILE with the CA "
                "that signed it, or -k/--insecure to skip the check"
            )
        if "WRONG_VERSION_NUMBER" in message or "record layer failure" in message:
            return "the server did not answer in TLS: is this a plain http:// port?"
    if isinstance(exc, httpcore.UnsupportedProtocol):
        return "write the URL with its scheme, http:// or https://"
    if isinstance(exc, httpcore.TimeoutException) and args.timeout is not None:
        seconds = f"{args.timeout:g}"
        return f"a connect, read, write or pool wait took longer than --timeout {seconds} s"
    if isinstance(exc, httpcore.RemoteProtocolError) and args.http_version != HTTP1_ONLY:
        return "does this server speak HTTP/2? try --http1"
    return None


def _run(args: argparse.Namespace, proxy: Optional[httpcore.Proxy], url: httpcore.URL,
         started: float) -> int:
    content = _content(args.data)
    method = args.method or ("POST" if content is not None else "GET")
    extensions: Dict[str, Any] = {}
    if args.timeout is not None:
        extensions["timeout"] = {
            "connect": args.timeout, "read": args.timeout,
            "write": args.timeout, "pool": args.timeout,
        }
    tracer: Optional[Tracer] = None
    if args.trace:
        tracer = Tracer(sys.stderr, started)
        extensions["trace"] = tracer
    pool = httpcore.ConnectionPool(
        ssl_context=_ssl_context(args.insecure, args.cacert),
        proxy=proxy,
        http1=args.http_version != HTTP2_PRIOR_KNOWLEDGE,
        http2=args.http_version != HTTP1_ONLY,
        uds=args.uds,
    )
    sink = _Sink(args.output)
    try:
        with pool, pool.stream(
            method, url, headers=args.headers, content=content, extensions=extensions
        ) as response:
            if args.fail and response.status >= 400:
                reason = _text(response.extensions.get("reason_phrase", b""))
                _report(f"--fail: the server answered {response.status} {reason}".rstrip())
                return EXIT_HTTP_ERROR
            if args.include:
                sink.write(_response_head(response))
            for chunk in response.iter_stream():
                if tracer is not None:
                    tracer.body_bytes += len(chunk)
                sink.write(chunk)
    except _HTTPCORE_ERRORS as exc:
        _report(_describe_exception(exc), _hint(exc, args))
        return _exit_code(exc)
    except (ImportError, RuntimeError, ValueError) as exc:
        # h2 or socksio missing (RuntimeError naming the extra), or an option the proxy
        # cannot take (ValueError: a SOCKS4 password): a one-line report, not a traceback.
        _report(_describe_exception(exc))
        return EXIT_FAILURE
    finally:
        sink.close()
    return EXIT_OK


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command with ``argv`` (default: ``sys.argv[1:]``); return the exit code.

    Uses ``sys.stdin``, ``sys.stdout`` and ``sys.stderr`` as they are at call time. Never
    raises for bad input or a failed request; the exit code says what went wrong.
    """
    started = time.perf_counter()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        try:
            url = httpcore.URL(args.url)
        except (TypeError, ValueError) as exc:
            parser.error(f"invalid URL {args.url!r}: {exc}")
        proxy = None
        if args.proxy is not None:
            proxy = _proxy(parser, args.proxy, args.insecure, args.cacert)
    except SystemExit as exc:
        # argparse exits (2 on a usage error, 0 after --help); main() returns instead, so
        # callers and tests get a code rather than an exception.
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except _InputError as exc:
        _report(str(exc))
        return EXIT_INPUT
    try:
        return _run(args, proxy, url, started)
    except _InputError as exc:
        _report(str(exc))
        return EXIT_INPUT
    except _OutputError as exc:
        _report(f"cannot write the body: {exc}")
        return EXIT_OUTPUT
    except KeyboardInterrupt:
        _report("interrupted")
        return EXIT_INTERRUPTED


__all__ = ["main"]
