"""Every ```python example of the user documentation (docs/*.md), run against local servers.

How a page runs: its fenced ```python blocks are extracted in order and executed with
``exec`` in one namespace per page, so a block may use the names an earlier block defined.
A failing block fails the test with the page name, the block number (1-based, counting
every ```python block of the page) and the block's first line.

Placeholders, the one substitution: a page's FIRST ```python block defines the addresses
its examples use, as upper-case names with example values (``URL = "https://www.example.com/"``,
``PROXY_URL = "http://127.0.0.1:8080/"``, ...). After running that block the test rebinds
each name of ``PLACEHOLDERS`` the block defined to the address of a local server started
by the fixtures of conftest.py (nginx, nghttpd, tinyproxy, stunnel, microsocks, the SOCKS4
server); the example text is never rewritten. A later block that assigns one of these
names fails the test, so what a reader sees in the first block is all that changes.

Trust: the test servers use their own trustme certificate authorities. The test writes
their certificates to one PEM file and points ``SSL_CERT_FILE`` at it, so the default
contexts (``httpcore.default_ssl_context()``, ``ssl.create_default_context()``) trust them
and the examples need no ``ssl_context`` argument they would not need against a real site.

Async examples end with ``anyio.run(main)``; during the test ``anyio.run`` runs the
function twice, under asyncio and under trio (a call that names a ``backend`` runs once,
on that backend).

Blocks not run: a block immediately preceded by the line ``<!-- not run: <reason> -->``
is skipped (an example that needs a machine the test does not have, a Unix socket
server, ...). The reason must be non-empty, and a page may skip at most
``MAX_NOT_RUN_PER_PAGE`` blocks.

Logging configuration changed by an example (the logging page turns on DEBUG) is restored
after each page.
"""

from __future__ import annotations

import ast
import logging
import pathlib
import re
import ssl
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import anyio
import pytest

from tools.servers.microsocks import MicrosocksServer
from tools.servers.nghttpd import NghttpdServer
from tools.servers.nginx import NginxServer
from tools.servers.socks4 import Socks4Server
from tools.servers.stunnel import StunnelFront
from tools.servers.tinyproxy import TinyproxyServer

# Not resolved: under Bazel the pages are runfiles beside this file's tree (//docs:md).
DOCS = pathlib.Path(__file__).absolute().parent.parent.parent / "docs"

# The pages whose examples run here (the others in docs/ have none or belong to other tests).
PAGES = (
    "index.md",
    "quickstart.md",
    "requests-and-responses.md",
    "connection-pools.md",
    "http2.md",
    "proxies.md",
    "extensions.md",
    "network-backends.md",
    "exceptions.md",
    "logging.md",
    "differences.md",
)

MAX_NOT_RUN_PER_PAGE = 2

# Placeholder name -> what it stands for (documentation only; the values come from fixtures).
PLACEHOLDERS = {
    "URL": "nginx, TLS listener with HTTP/2 and HTTP/1.1 (ALPN): /small.txt",
    "HTTP_URL": "nginx, plain HTTP/1.1 listener: /small.txt",
    "API_URL": "nginx over TLS: /method (answers any method with its name)",
    "UPLOAD_URL": "nginx over TLS: /uploads/docs-example.txt (WebDAV PUT, then GET)",
    "SLOW_URL": "nginx over TLS: /slow/large.bin (the body stalls after 1 KiB)",
    "H2C_URL": "nginx, cleartext HTTP/2 with prior knowledge: /small.txt",
    "IP_URL": "nginx over TLS by IP address: /small.txt",
    "SERVER_NAME": "a name on nginx's certificate (localhost)",
    "TRAILERS_URL": "nghttpd over TLS: /small.txt (HTTP/2 with trailers)",
    "PROXY_URL": "tinyproxy (HTTP proxy, forwarding and CONNECT)",
    "AUTH_PROXY_URL": "tinyproxy requiring Basic USERNAME/PASSWORD",
    "HTTPS_PROXY_URL": "stunnel (TLS) in front of tinyproxy",
    "SOCKS5_URL": "microsocks (SOCKS5, no authentication)",
    "AUTH_SOCKS5_URL": "microsocks requiring USERNAME/PASSWORD",
    "SOCKS4_URL": "the Python SOCKS4 server, socks4://",
    "SOCKS4A_URL": "the same server, socks4a://",
    "USERNAME": "the proxies' user name",
    "PASSWORD": "the proxies' password",
}

_FENCE_OPEN = re.compile(r"^```python\s*$")
_FENCE_CLOSE = re.compile(r"^```\s*$")
_NOT_RUN = re.compile(r"^<!--\s*not run:(?P<reason>.*?)-->\s*$")


class Block:
    """One ```python block of a page."""

    def __init__(self, number: int, line: int, source: str, not_run: Optional[str]) -> None:
        self.number = number  # 1-based among the page's python blocks
        self.line = line  # 1-based line of the opening fence
        self.source = source
        self.not_run = not_run  # the reason, when marked "not run"

    def where(self, page: str) -> str:
        first = next((text for text in self.source.splitlines() if text.strip()), "")
        return f"{page}, example {self.number} (line {self.line}): {first.strip()!r}"


def python_blocks(text: str) -> List[Block]:
    """The ```python blocks of ``text`` in order, with their "not run" marks."""
    blocks: List[Block] = []
    lines = text.splitlines()
    index = 0
    previous = ""  # the last non-blank line before the current one
    while index < len(lines):
        line = lines[index]
        if _FENCE_OPEN.match(line):
            start = index
            body: List[str] = []
            index += 1
            while index < len(lines) and not _FENCE_CLOSE.match(lines[index]):
                body.append(lines[index])
                index += 1
            if index == len(lines):
                raise AssertionError(f"unclosed ```python block at line {start + 1}")
            mark = _NOT_RUN.match(previous.strip())
            reason = None if mark is None else mark.group("reason").strip()
            blocks.append(Block(len(blocks) + 1, start + 1, "\n".join(body) + "\n", reason))
            previous = lines[index]
        elif line.strip():
            previous = line
        index += 1
    return blocks


def assigned_names(source: str) -> List[str]:
    """Names a block binds at its top level or anywhere by plain assignment."""
    names: List[str] = []
    for node in ast.walk(ast.parse(source)):
        targets: List[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name):
                    names.append(sub.id)
    return names


@pytest.fixture
def placeholders(
    nginx: NginxServer,
    nghttpd: NghttpdServer,
    tinyproxy: TinyproxyServer,
    tinyproxy_auth: TinyproxyServer,
    https_proxy: StunnelFront,
    microsocks: MicrosocksServer,
    microsocks_auth: MicrosocksServer,
    socks4_server: Socks4Server,
) -> Dict[str, str]:
    h2 = nginx.ports.h2
    assert tinyproxy_auth.auth is not None and microsocks_auth.auth == tinyproxy_auth.auth
    username, password = tinyproxy_auth.auth
    values = {
        "URL": nginx.url("/small.txt", port=h2, tls=True),
        "HTTP_URL": nginx.url("/small.txt"),
        "API_URL": nginx.url("/method", port=h2, tls=True),
        "UPLOAD_URL": nginx.url("/uploads/docs-example.txt", port=h2, tls=True),
        "SLOW_URL": nginx.url("/slow/large.bin", port=h2, tls=True),
        "H2C_URL": nginx.url("/small.txt", port=nginx.ports.h2c),
        "IP_URL": nginx.url("/small.txt", port=h2, tls=True),
        "SERVER_NAME": "localhost",
        "TRAILERS_URL": nghttpd.url("/small.txt", tls=True),
        "PROXY_URL": tinyproxy.url,
        "AUTH_PROXY_URL": tinyproxy_auth.url,
        "HTTPS_PROXY_URL": https_proxy.url,
        "SOCKS5_URL": microsocks.url,
        "AUTH_SOCKS5_URL": microsocks_auth.url,
        "SOCKS4_URL": socks4_server.url,
        "SOCKS4A_URL": socks4_server.url.replace("socks4://", "socks4a://"),
        "USERNAME": username,
        "PASSWORD": password,
    }
    assert set(values) == set(PLACEHOLDERS)
    return values


@pytest.fixture
def trusted_test_cas(
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    nginx: NginxServer,
    nghttpd: NghttpdServer,
    https_proxy: StunnelFront,
) -> None:
    """Default SSL contexts trust the test servers' CAs, for this test only."""
    bundle = tmp_path / "test-cas.pem"
    bundle.write_bytes(
        b"".join(server.ca.cert_pem.bytes() for server in (nginx, nghttpd, https_proxy))
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    assert ssl.create_default_context().get_ca_certs(), "SSL_CERT_FILE was not honoured"


@pytest.fixture
def anyio_run_on_both(monkeypatch: pytest.MonkeyPatch) -> Iterator[List[str]]:
    """``anyio.run(fn)`` runs ``fn`` under asyncio, then under trio; returns the log."""
    real_run = anyio.run
    ran: List[str] = []

    def run(func: Callable[..., Any], *args: Any, backend: Optional[str] = None, **kw: Any) -> Any:
        result: Any = None
        for name in (backend,) if backend is not None else ("asyncio", "trio"):
            result = real_run(func, *args, backend=name, **kw)
            ran.append(name)
        return result

    monkeypatch.setattr(anyio, "run", run)
    yield ran


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Undo what an example does to logging (levels, handlers)."""
    parts = ("connection", "http11", "http2", "proxy", "socks")
    names = ["", "httpcore"] + [f"httpcore.{part}" for part in parts]
    saved: List[Tuple[logging.Logger, int, List[logging.Handler], bool]] = []
    for name in names:
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, list(logger.handlers), logger.propagate))
    try:
        yield
    finally:
        for logger, level, handlers, propagate in saved:
            for handler in logger.handlers:
                if handler not in handlers:
                    handler.close()
            logger.handlers[:] = handlers
            logger.setLevel(level)
            logger.propagate = propagate


def test_pages_exist_and_have_examples() -> None:
    for page in PAGES:
        path = DOCS / page
        assert path.is_file(), f"docs/{page} is missing"
    examples = sum(len(python_blocks((DOCS / page).read_text())) for page in PAGES)
    assert examples > 0


def test_every_page_is_in_the_index() -> None:
    index = (DOCS / "index.md").read_text()
    for page in PAGES:
        if page != "index.md":
            assert f"({page})" in index, f"docs/index.md does not link {page}"


def run_page(page: str, text: str, placeholders: Dict[str, str]) -> Tuple[int, int]:
    """Run the examples of ``text`` (the page ``page``); return (run, not run) counts."""
    blocks = python_blocks(text)
    skipped = [block for block in blocks if block.not_run is not None]
    for block in skipped:
        assert block.not_run, f"{block.where(page)}: a 'not run' mark needs a reason"
    assert len(skipped) <= MAX_NOT_RUN_PER_PAGE, (
        f"docs/{page}: {len(skipped)} blocks are not run, at most {MAX_NOT_RUN_PER_PAGE} may be"
    )
    namespace: Dict[str, Any] = {"__name__": f"docs_{page.replace('.', '_').replace('-', '_')}"}
    for block in blocks:
        try:
            code = compile(block.source, f"<docs/{page} example {block.number}>", "exec")
        except SyntaxError as exc:
            raise AssertionError(f"{block.where(page)} does not compile: {exc}") from exc
        if block.number > 1:
            rebound = sorted(set(assigned_names(block.source)) & set(PLACEHOLDERS))
            assert not rebound, (
                f"{block.where(page)} assigns {rebound}: placeholders belong in the first block"
            )
        if block.not_run is not None:
            continue
        try:
            exec(code, namespace)
        except BaseException as exc:
            raise AssertionError(f"{block.where(page)} failed: {exc!r}") from exc
        if block.number == 1:
            for name in PLACEHOLDERS:
                if name in namespace:
                    namespace[name] = placeholders[name]
    return len(blocks) - len(skipped), len(skipped)


_SAMPLE_PAGE = """\
# A page

```python
URL = "https://www.example.com/"
seen = []
```

Text, then a shell block that is not run:

```shell
echo hello
```

<!-- not run: needs a machine with a printer -->
```python
raise SystemExit("never run")
```

```python
seen.append(URL)
```
"""


def test_the_runner_rebinds_placeholders_and_skips_marked_blocks() -> None:
    blocks = python_blocks(_SAMPLE_PAGE)
    assert [(block.number, block.not_run) for block in blocks] == [
        (1, None),
        (2, "needs a machine with a printer"),
        (3, None),
    ]
    assert run_page("sample.md", _SAMPLE_PAGE, {"URL": "http://127.0.0.1:1/"}) == (2, 1)


def test_a_failing_example_names_its_page_and_number() -> None:
    page = _SAMPLE_PAGE + '\n```python\nassert seen == ["elsewhere"]\n```\n'
    with pytest.raises(AssertionError, match=r"sample\.md, example 4 \(line \d+\)"):
        run_page("sample.md", page, {"URL": "http://127.0.0.1:1/"})


def test_a_placeholder_assigned_after_the_first_block_is_refused() -> None:
    page = _SAMPLE_PAGE + '\n```python\nURL = "https://elsewhere.example/"\n```\n'
    with pytest.raises(AssertionError, match="placeholders belong in the first block"):
        run_page("sample.md", page, {"URL": "http://127.0.0.1:1/"})


def test_a_not_run_mark_needs_a_reason() -> None:
    page = _SAMPLE_PAGE.replace("not run: needs a machine with a printer", "not run:")
    with pytest.raises(AssertionError, match="needs a reason"):
        run_page("sample.md", page, {"URL": "http://127.0.0.1:1/"})


@pytest.mark.parametrize("page", PAGES)
def test_page_examples_run(
    page: str,
    placeholders: Dict[str, str],
    trusted_test_cas: None,
    anyio_run_on_both: List[str],
    restore_logging: None,
) -> None:
    text = (DOCS / page).read_text()
    run, _ = run_page(page, text, placeholders)
    assert run > 0, f"docs/{page} has no example that runs"
    sources = [block.source for block in python_blocks(text) if block.not_run is None]
    if any("anyio.run(main)" in source for source in sources):
        assert {"asyncio", "trio"} <= set(anyio_run_on_both), f"docs/{page}: no async run"
