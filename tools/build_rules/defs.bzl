"""Macros for this repository: a lib, its compiled hot modules, its tests and its type check.

- httpcore_lib: a lib (one part of the `httpcore` package) as two py_libraries, `<name>`
  with its hot modules compiled by Cython and `<name>_pure` without, plus `:mypy`.
- pytest_test / pytest_tests: one py_test per test file, run by pytest.
- pytest_test_forms: the same test file against the compiled and the pure lib; each variant
  asserts which form of the hot modules it loaded.
Hot modules and the version come from //:build_config.bzl, which setup.py reads too.
"""

load("@rules_python//python:defs.bzl", "py_library", "py_test")
load("@rules_cc//cc:defs.bzl", "cc_binary")
load("//:build_config.bzl", "HOT_MODULES")

_PYTEST_MAIN = "//tools/build_rules:pytest_main.py"
_TYPECHECK_MAIN = "//tools/typecheck:typecheck.py"

# Third-party packages every test may use.
_TEST_DEPS = ["@pypi//:pytest", "@pypi//:anyio", "@pypi//:trio", "@pypi//:trustme"]

def hot_modules(lib):
    """The hot modules of `lib`, as paths inside the lib directory."""
    prefix = lib + ":"
    return [entry[len(prefix):] for entry in HOT_MODULES if entry.startswith(prefix)]

def hot_module_names(lib):
    """The dotted module names of `lib`'s hot modules."""
    return [path[:-len(".py")].replace("/", ".") for path in hot_modules(lib)]

def cython_extension(path):
    """Compile `path` (a pure-Python-mode .py in this package) to `<path without .py>.so`.

    The target name contains slashes, so the .so lands beside its .py in runfiles, where
    the extension loader wins over the source loader.
    """
    base = path[:-len(".py")]
    module = base.replace("/", ".")
    native.genrule(
        name = base + "_cython",
        # Every .pxd of the lib: a module's own, and those its .pxd cimports.
        srcs = [path] + native.glob(["httpcore/**/*.pxd"]),
        outs = [base + "_cython.c"],
        # The lib directory on the include path: Cython finds an augmenting .pxd by the
        # module's full name (httpcore/_pool/_selection.pxd), not beside the file.
        cmd = "$(location //tools/build_rules:cython_compile) -I %s --module-name %s -o $@ $(location %s)" % (
            native.package_name(),
            module,
            path,
        ),
        tools = ["//tools/build_rules:cython_compile"],
    )
    cc_binary(
        name = base + ".so",
        srcs = [base + "_cython.c"],
        deps = ["@python_toolchain//:headers"],
        copts = ["-O2", "-fno-strict-aliasing", "-Wno-unused-function", "-Wno-unreachable-code"],
        linkshared = True,
    )
    return ":" + base + ".so"

def _pure_label(dep):
    """"//libs/core" -> "//libs/core:core_pure"."""
    return "%s:%s_pure" % (dep, dep.split("/")[-1])

def httpcore_lib(name, deps = [], third_party = [], visibility = None):
    """A lib of this repository: libs/<name>/httpcore/_<name>/...

    deps: the libs below it (labels like "//libs/core"), all of them (the type check sees
    exactly these). third_party: @pypi labels it imports.
    """
    srcs = native.glob(["httpcore/**/*.py"])
    data = native.glob(["httpcore/**/*.pxd", "httpcore/**/py.typed"])
    extensions = [cython_extension(path) for path in hot_modules(name)]
    py_library(
        name = name + "_pure",
        srcs = srcs,
        data = data,
        imports = ["."],
        deps = deps + third_party,
        visibility = visibility,
    )
    py_library(
        name = name,
        srcs = srcs,
        data = data + extensions,
        imports = ["."],
        deps = deps + third_party,
        visibility = visibility,
    )
    lib_names = [name] + [dep.split("/")[-1].split(":")[0] for dep in deps]
    py_test(
        name = "mypy",
        srcs = [_TYPECHECK_MAIN],
        main = _TYPECHECK_MAIN,
        args = ["--root", ".", "--libs", ",".join(lib_names)],
        data = srcs + data + ["//:mypy.ini"],
        # The libs below as deps (not data), so their third-party imports are on the path.
        deps = ["@pypi//:mypy"] + third_party + [_pure_label(dep) for dep in deps],
        python_version = "PY3",
        size = "medium",
    )

def pytest_test(name, src, deps = [], data = [], args = [], **kwargs):
    """One test file run by pytest."""
    py_test(
        name = name,
        srcs = [_PYTEST_MAIN, src],
        main = _PYTEST_MAIN,
        args = ["$(rootpath %s)" % src] + args,
        data = data + ["//:pytest.ini", "//tests:conftest"],
        deps = deps + _TEST_DEPS,
        python_version = "PY3",
        **kwargs
    )

def pytest_tests(srcs, deps = [], data = [], **kwargs):
    """One pytest target per file, named after the file."""
    for src in srcs:
        pytest_test(name = src[:-len(".py")], src = src, deps = deps, data = data, **kwargs)

def pytest_test_forms(src, lib, deps = [], data = [], **kwargs):
    """`src` twice: against //libs/<lib> compiled and against its pure form.

    Each variant checks (tests/conftest.py) that every hot module of the lib loaded in the
    expected form, so a missing .so or a stray one fails the test.
    """
    name = src[:-len(".py")]
    modules = ",".join(hot_module_names(lib))
    for form, lib_target in [("compiled", "//libs/%s" % lib), ("pure", "//libs/%s:%s_pure" % (lib, lib))]:
        pytest_test(
            name = "%s_%s" % (name, form),
            src = src,
            deps = deps + [lib_target],
            data = data,
            args = ["--httpcore-form=" + form, "--httpcore-hot-modules=" + modules],
            **kwargs
        )
