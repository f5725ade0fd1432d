"""tools/unasync: the token translation, then the tree walk and its check, on temporary trees."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

import tools.unasync
from tools.unasync import HEADER_MARK, RULES, TranslationError, compile_rules, header, main, translate

# A small table with one rule of each kind, for the tree tests.
SMALL_RULES: dict[str, str | None] = {
    "AsyncThing": "Thing",
    "aclose": "close",
    "_async": "_sync",
    "async def": "def",
    "await": "",
    "@pytest.mark.anyio": None,
}
SMALL_SOURCE = textwrap.dedent(
    """\
    from __future__ import annotations

    import pytest

    from ._async.other import AsyncThing


    @pytest.mark.anyio
    async def test_thing(thing: AsyncThing) -> None:
        await thing.aclose()
    """
)
SMALL_TWIN = textwrap.dedent(
    """\
    from __future__ import annotations

    import pytest

    from ._sync.other import Thing


    def test_thing(thing: Thing) -> None:
        thing.close()
    """
)


def sync(source: str, rules: dict[str, str | None] | None = None) -> str:
    """The translation of a dedented source."""
    table = compile_rules(SMALL_RULES if rules is None else rules)
    return translate(textwrap.dedent(source), table).text


def write(root: pathlib.Path, path: str, text: str) -> pathlib.Path:
    file = root / path
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(text)
    return file


def run_check(root: pathlib.Path, rules: dict[str, str | None] = SMALL_RULES) -> int:
    return main(["--check", "--root", str(root)], rules)


def run_write(root: pathlib.Path, rules: dict[str, str | None] = SMALL_RULES) -> int:
    return main(["--root", str(root)], rules)


@pytest.fixture()
def tree(tmp_path: pathlib.Path) -> pathlib.Path:
    """A tree with one async lib module and one async test, twins not yet generated."""
    write(tmp_path, "libs/x/httpcore/_x/_async/__init__.py", '"""Async part."""\n')
    write(tmp_path, "libs/x/httpcore/_x/_async/thing.py", SMALL_SOURCE)
    write(tmp_path, "tests/x/_async/test_x_thing.py", SMALL_SOURCE)
    return tmp_path


# The translation: each kind of rule.


def test_name_rule_renames_an_identifier_in_code() -> None:
    assert sync("x = AsyncThing()\n") == "x = Thing()\n"


def test_name_rule_renames_an_attribute() -> None:
    assert sync("stream.aclose()\n") == "stream.close()\n"


def test_name_rule_leaves_longer_identifiers_alone() -> None:
    source = "xaclosey = _aclose + aclose_all + acloser + AsyncThings\n"
    assert sync(source) == source


def test_name_rule_renames_whole_words_inside_strings() -> None:
    assert sync('r = "<httpcore.AsyncThing>"\n') == 'r = "<httpcore.Thing>"\n'


def test_name_rule_leaves_partial_words_inside_strings_alone() -> None:
    source = 's = "xaclosey _aclose aclose_all AsyncThings"\n'
    assert sync(source) == source


def test_name_rule_renames_inside_docstrings_and_comments() -> None:
    source = '''\
        def f() -> None:
            """Calls ``aclose()``."""  # see aclose
        '''
    assert sync(source) == 'def f() -> None:\n    """Calls ``close()``."""  # see close\n'


def test_name_rule_renames_inside_f_strings() -> None:
    assert sync('s = f"{AsyncThing} aclose {x!r}"\n') == 's = f"{Thing} close {x!r}"\n'


def test_name_rule_renames_module_paths_in_imports() -> None:
    assert sync("from .._async.mock import AsyncThing\n") == "from .._sync.mock import Thing\n"


def test_async_def_becomes_def() -> None:
    assert sync("async def f() -> None:\n    pass\n") == "def f() -> None:\n    pass\n"


def test_async_with_and_async_for_become_with_and_for() -> None:
    rules: dict[str, str | None] = {"async with": "with", "async for": "for", "async def": "def"}
    source = """\
        async def f(a, b):
            async with a as x:
                async for y in b:
                    pass
            return [z async for z in b]
        """
    assert sync(source, rules) == textwrap.dedent(
        """\
        def f(a, b):
            with a as x:
                for y in b:
                    pass
            return [z for z in b]
        """
    )


def test_await_is_removed_with_the_space_after_it() -> None:
    source = """\
        async def f(a):
            x = (await a.read()) + await a.aclose()
            return await a
        """
    assert sync(source) == "def f(a):\n    x = (a.read()) + a.close()\n    return a\n"


def test_keyword_rules_leave_strings_and_comments_alone() -> None:
    source = 's = "async def f(): await g()"  # async def, await\n'
    assert sync(source) == source


def test_keyword_rule_needs_the_whole_run_of_words() -> None:
    # `async` alone (a plain name here) is no rule's business.
    source = "async_ = 1\nasync_def = 2\n"
    assert sync(source) == source


def test_drop_rule_removes_the_decorator_line() -> None:
    source = """\
        @pytest.mark.anyio
        async def test_a() -> None:
            pass
        """
    assert sync(source) == "def test_a() -> None:\n    pass\n"


def test_drop_rule_removes_an_indented_decorator_with_a_trailing_comment() -> None:
    source = """\
        class TestA:
            @pytest.mark.anyio  # runs on both backends
            async def test_a(self) -> None:
                pass
        """
    assert sync(source) == "class TestA:\n    def test_a(self) -> None:\n        pass\n"


def test_drop_rule_keeps_other_decorators_and_the_comments_above() -> None:
    source = """\
        # Why this test exists: aclose.
        @pytest.mark.anyio
        @pytest.mark.parametrize("x", [1])
        async def test_a(x: int) -> None:
            pass
        """
    assert sync(source) == textwrap.dedent(
        """\
        # Why this test exists: close.
        @pytest.mark.parametrize("x", [1])
        def test_a(x: int) -> None:
            pass
        """
    )


def test_drop_rule_ignores_the_same_text_inside_a_string() -> None:
    source = 's = """\n@pytest.mark.anyio\n"""\n'
    assert sync(source) == source


def test_layout_blank_lines_and_crlf_line_endings_are_kept() -> None:
    source = "x = 1\r\n\r\n\r\n# aclose\r\ny = AsyncThing\r\n"
    assert sync(source) == "x = 1\r\n\r\n\r\n# close\r\ny = Thing\r\n"


def test_translation_reports_the_rules_it_used() -> None:
    table = compile_rules(SMALL_RULES)
    used = translate("async def f(a):\n    return a.aclose\n", table).used
    assert used == {"async def", "aclose"}


def test_a_rule_used_only_inside_a_string_counts_as_used() -> None:
    assert translate('s = "AsyncThing"\n', compile_rules(SMALL_RULES)).used == {"AsyncThing"}


def test_source_that_does_not_tokenize_is_an_error() -> None:
    with pytest.raises(TranslationError, match="cannot tokenize"):
        translate("x = (\n", compile_rules(SMALL_RULES))


def test_translation_that_is_not_python_is_an_error() -> None:
    table = compile_rules({"async def": "def def"})
    with pytest.raises(TranslationError, match="not valid Python"):
        translate("async def f():\n    pass\n", table)


@pytest.mark.parametrize(
    "rules",
    [{"a-b": "c"}, {"AsyncX": "not a name"}, {"async def": "de-f"}],
    ids=["key", "name-value", "words-value"],
)
def test_malformed_rule_is_rejected(rules: dict[str, str | None]) -> None:
    with pytest.raises(ValueError, match="rule"):
        compile_rules(rules)


@pytest.mark.parametrize("name", sorted(k for k, v in RULES.items() if v and k.isidentifier() and k != "await"))
def test_each_name_rule_of_the_table_renames_its_name(name: str) -> None:
    assert sync(f"x = {name}\n", RULES) == f"x = {RULES[name]}\n"


def test_every_rule_of_the_table_is_well_formed() -> None:
    assert compile_rules(RULES).keys == set(RULES)


# The tree: writing, checking, and the header.


def test_write_creates_each_twin_beside_its_source(tree: pathlib.Path) -> None:
    assert run_write(tree) == 0
    twin = tree / "libs/x/httpcore/_x/_sync/thing.py"
    assert twin.read_text() == header("libs/x/httpcore/_x/_async/thing.py") + SMALL_TWIN
    assert (tree / "libs/x/httpcore/_x/_sync/__init__.py").is_file()
    assert (tree / "tests/x/_sync/test_x_thing.py").read_text().endswith(SMALL_TWIN)


def test_write_follows_subdirectories_of_async(tree: pathlib.Path) -> None:
    write(tree, "libs/x/httpcore/_x/_async/sub/deep.py", "async def f():\n    pass\n")
    assert run_write(tree) == 0
    assert (tree / "libs/x/httpcore/_x/_sync/sub/deep.py").read_text().endswith("def f():\n    pass\n")


def test_header_names_the_source_and_forbids_editing(tree: pathlib.Path) -> None:
    run_write(tree)
    first_line = (tree / "tests/x/_sync/test_x_thing.py").read_text().splitlines()[0]
    assert first_line == f"{HEADER_MARK} from tests/x/_async/test_x_thing.py: do not edit."


def test_check_passes_after_write(tree: pathlib.Path) -> None:
    run_write(tree)
    assert run_check(tree) == 0


def test_check_reports_missing_twins_and_writes_nothing(
    tree: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_check(tree) == 1
    assert "missing: libs/x/httpcore/_x/_sync/thing.py" in capsys.readouterr().err
    assert not (tree / "libs/x/httpcore/_x/_sync").exists()


def test_check_reports_a_stale_twin(tree: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_write(tree)
    write(tree, "libs/x/httpcore/_x/_async/thing.py", SMALL_SOURCE + "\nx = 1\n")
    capsys.readouterr()
    assert run_check(tree) == 1
    assert "stale: libs/x/httpcore/_x/_sync/thing.py" in capsys.readouterr().err


def test_check_reports_a_hand_edited_twin_as_stale(
    tree: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_write(tree)
    twin = tree / "tests/x/_sync/test_x_thing.py"
    twin.write_text(twin.read_text() + "# an edit\n")
    capsys.readouterr()
    assert run_check(tree) == 1
    assert "stale: tests/x/_sync/test_x_thing.py" in capsys.readouterr().err


def test_check_reports_a_twin_differing_only_in_line_endings(tree: pathlib.Path) -> None:
    run_write(tree)
    twin = tree / "libs/x/httpcore/_x/_sync/thing.py"
    twin.write_bytes(twin.read_bytes().replace(b"\n", b"\r\n"))
    assert run_check(tree) == 1


def test_write_rewrites_a_stale_twin(tree: pathlib.Path) -> None:
    run_write(tree)
    (tree / "libs/x/httpcore/_x/_sync/thing.py").write_text("stale\n")
    assert run_write(tree) == 0
    assert run_check(tree) == 0


def test_check_reports_a_twin_whose_source_is_gone(
    tree: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tree, "libs/x/httpcore/_x/_async/gone.py", "async def f():\n    await g()\n")
    run_write(tree)
    (tree / "libs/x/httpcore/_x/_async/gone.py").unlink()
    capsys.readouterr()
    assert run_check(tree) == 1
    assert "extra: libs/x/httpcore/_x/_sync/gone.py" in capsys.readouterr().err
    assert (tree / "libs/x/httpcore/_x/_sync/gone.py").exists()


def test_write_deletes_a_twin_whose_source_is_gone(tree: pathlib.Path) -> None:
    write(tree, "libs/x/httpcore/_x/_async/gone.py", "async def f():\n    await g()\n")
    run_write(tree)
    (tree / "libs/x/httpcore/_x/_async/gone.py").unlink()
    assert run_write(tree) == 0
    assert not (tree / "libs/x/httpcore/_x/_sync/gone.py").exists()
    assert run_check(tree) == 0


def test_hand_written_file_beside_the_twins_fails_and_is_kept(
    tree: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_write(tree)
    hand_written = write(tree, "libs/x/httpcore/_x/_sync/mine.py", "x = 1\n")
    capsys.readouterr()
    assert run_write(tree) == 1
    assert "libs/x/httpcore/_x/_sync/mine.py is not generated" in capsys.readouterr().err
    assert run_check(tree) == 1
    assert hand_written.read_text() == "x = 1\n"


def test_sync_directory_without_async_sibling_is_not_ours(tree: pathlib.Path) -> None:
    run_write(tree)
    write(tree, "libs/x/httpcore/_x/other/_sync/plain.py", "x = 1\n")
    assert run_check(tree) == 0


def test_directories_outside_libs_and_tests_are_not_searched(tree: pathlib.Path) -> None:
    run_write(tree)
    write(tree, "docs/_async/example.py", "async def f():\n    pass\n")
    assert run_check(tree) == 0
    assert not (tree / "docs/_sync").exists()


def test_unused_rule_fails_the_check(tree: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = dict(SMALL_RULES, AsyncNothing="Nothing")
    run_write(tree, rules)
    capsys.readouterr()
    assert run_check(tree, rules) == 1
    assert "unused rule 'AsyncNothing'" in capsys.readouterr().err


def test_unused_rule_fails_writing_too(tree: pathlib.Path) -> None:
    assert run_write(tree, dict(SMALL_RULES, AsyncNothing="Nothing")) == 1
    assert (tree / "libs/x/httpcore/_x/_sync/thing.py").exists()


def test_a_rule_used_by_any_one_file_is_used(tree: pathlib.Path) -> None:
    write(tree, "tests/y/_async/test_y.py", "x = AsyncOnlyHere\n")
    rules = dict(SMALL_RULES, AsyncOnlyHere="OnlyHere")
    run_write(tree, rules)
    assert run_check(tree, rules) == 0


def test_source_that_does_not_translate_fails_with_its_path(
    tree: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tree, "libs/x/httpcore/_x/_async/broken.py", "x = (\n")
    assert run_check(tree) == 1
    assert "cannot translate libs/x/httpcore/_x/_async/broken.py" in capsys.readouterr().err


def test_command_line_runs_as_a_module(tmp_path: pathlib.Path) -> None:
    # With the real table: this one-line source leaves its rules unused, so even writing fails.
    write(tmp_path, "libs/x/httpcore/_x/_async/plain.py", "x = 1\n")
    repository = pathlib.Path(tools.unasync.__file__).parent.parent.parent
    environment = dict(os.environ, PYTHONPATH=str(repository))
    command = [sys.executable, "-m", "tools.unasync", "--root", str(tmp_path)]
    check = subprocess.run([*command, "--check"], env=environment, capture_output=True, text=True)
    assert check.returncode == 1
    assert "missing: libs/x/httpcore/_x/_sync/plain.py" in check.stderr
    assert not (tmp_path / "libs/x/httpcore/_x/_sync").exists()
    written = subprocess.run(command, env=environment, capture_output=True, text=True)
    assert written.returncode == 1
    assert "unused rule" in written.stderr
    assert (tmp_path / "libs/x/httpcore/_x/_sync/plain.py").read_text().endswith("\nx = 1\n")
