"""Repository rules: the hermetic Python toolchain and the locked third-party wheels.

Both work offline. The interpreter is the host's python3 (or $HTTPCORE_BAZEL_PYTHON), wrapped
in an empty virtualenv so that the host's site-packages never leak into a test; the wheels
come from third_party/wheelhouse (filled by tools/fetch_wheels.sh) and are checked against
the sha256 hashes in third_party/requirements.lock before they are unpacked.
"""

def _host_python(rctx):
    explicit = rctx.os.environ.get("HTTPCORE_BAZEL_PYTHON")
    candidate = explicit if explicit else rctx.which("python3")
    if not candidate:
        fail("python3 not found on PATH; set HTTPCORE_BAZEL_PYTHON")

    # pyenv and similar put shims on PATH: ask the interpreter for its real path.
    result = rctx.execute([candidate, "-c", "import sys; print(sys.executable)"])
    if result.return_code != 0:
        fail("cannot run %s: %s" % (candidate, result.stderr))
    return result.stdout.strip()

def _python_toolchain_impl(rctx):
    python = _host_python(rctx)
    venv = rctx.path("venv")
    result = rctx.execute([python, "-m", "venv", "--without-pip", str(venv)])
    if result.return_code != 0:
        fail("cannot create the toolchain virtualenv: " + result.stderr)
    info = rctx.execute([
        python,
        "-c",
        "import sysconfig; print(sysconfig.get_paths()['include'])",
    ])
    rctx.symlink(info.stdout.strip(), "include")
    interpreter = str(venv) + "/bin/python3"
    rctx.file("BUILD.bazel", """\
load("@rules_python//python:defs.bzl", "py_runtime", "py_runtime_pair")

package(default_visibility = ["//visibility:public"])

py_runtime(
    name = "runtime",
    interpreter_path = "{interpreter}",
    python_version = "PY3",
    # Bazel 4's launcher defaults to '#!/usr/bin/env python', which may not exist.
    stub_shebang = "#!{interpreter}",
)

py_runtime_pair(name = "pair", py3_runtime = ":runtime")

toolchain(
    name = "toolchain",
    toolchain = ":pair",
    toolchain_type = "@bazel_tools//tools/python:toolchain_type",
)

cc_library(
    name = "headers",
    hdrs = glob(["include/**/*.h"]),
    includes = ["include"],
)
""".format(interpreter = interpreter))

python_toolchain = repository_rule(
    implementation = _python_toolchain_impl,
    environ = ["HTTPCORE_BAZEL_PYTHON", "PATH"],
    local = True,
)

def _locked_wheels_impl(rctx):
    lock = rctx.path(rctx.attr.lock)
    wheelhouse = lock.dirname.get_child("wheelhouse")
    script = rctx.path(rctx.attr._unpacker)
    result = rctx.execute(
        [_host_python(rctx), str(script), str(lock), str(wheelhouse), str(rctx.path("."))],
        quiet = False,
    )
    if result.return_code != 0:
        fail("unpacking the locked wheels failed:\n" + result.stdout + result.stderr)

locked_wheels = repository_rule(
    implementation = _locked_wheels_impl,
    attrs = {
        "lock": attr.label(allow_single_file = True, mandatory = True),
        "_unpacker": attr.label(default = "//third_party/python:unpack_wheels.py"),
    },
    environ = ["HTTPCORE_BAZEL_PYTHON", "PATH"],
)
