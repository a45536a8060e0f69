"""click's own messages in Chinese (engine/i18n.py, engine/locale/): what a user sees on a
usage error or --help, the catalogue against click's source, and the committed .mo."""

from __future__ import annotations

import fnmatch
import gettext
import importlib
import importlib.util
import locale
import os
import re
import string
import tomllib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import click
import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_python
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from click.testing import CliRunner

import engine.cli
from engine.i18n import DOMAIN, LANGUAGE, LOCALE_DIR, catalogue, use_chinese

ROOT = Path(__file__).resolve().parents[1]
PO = LOCALE_DIR / LANGUAGE / "LC_MESSAGES" / f"{DOMAIN}.po"
MO = PO.with_suffix(".mo")

# Usage-line placeholders click does not pass through gettext are set in engine/cli.py
# (options_metavar, subcommand_metavar, argument metavars): nothing English is allowed.
UNTRANSLATABLE: tuple[str, ...] = ()


@pytest.fixture(scope="module")
def main() -> Iterator[click.Group]:
    """engine.cli.main as built after use_chinese(), as the program builds it.

    click translates a few strings when objects are built (click.Path's "file" in
    "File 'x' does not exist."), so the module is reloaded after use_chinese(); gettext's
    default domain and LANGUAGE are put back, and the module rebuilt, afterwards.
    """
    domain, language = gettext.textdomain(), os.environ.get("LANGUAGE")
    use_chinese()
    yield importlib.reload(engine.cli).main
    gettext.textdomain(domain)
    if language is None:
        os.environ.pop("LANGUAGE", None)
    else:
        os.environ["LANGUAGE"] = language
    importlib.reload(engine.cli)


def _names(group: click.Group) -> tuple[set[str], set[str]]:
    """Command names, and argument names (FILES) and option choices (first, second) of the
    whole command tree."""
    commands: set[str] = set()
    arguments: set[str] = set()
    for name, command in group.commands.items():
        commands.add(name)
        for p in command.params:
            if isinstance(p, click.Argument) and p.name:
                arguments.add(p.name.upper())
            if isinstance(p.type, click.Choice):
                arguments |= {str(c) for c in p.type.choices}
        if isinstance(command, click.Group):
            sub_commands, sub_arguments = _names(command)
            commands |= sub_commands
            arguments |= sub_arguments
    return commands, arguments


def english_left(text: str, group: click.Group, *expected: str) -> list[str]:
    """Runs of 3+ ASCII letters in text, other than what is meant to be there: 'canbao',
    command names, option names (--scale, -h) and choices, argument names (FILES), the tokens the
    user typed or canbao itself wrote (`expected`) and the usage placeholders that gettext
    cannot reach (UNTRANSLATABLE)."""
    for token in sorted((*expected, *UNTRANSLATABLE), key=len, reverse=True):
        text = text.replace(token, " ")
    text = re.sub(r"(?<![\w-])--?[A-Za-z][\w-]*", " ", text)           # options
    commands, arguments = _names(group)
    words = sorted({"canbao", *commands, *arguments}, key=len, reverse=True)
    text = re.sub(r"\b(" + "|".join(map(re.escape, words)) + r")\b", " ", text)
    return re.findall(r"[A-Za-z]{3,}", text)


def run(group: click.Group, *args: str) -> click.testing.Result:
    return CliRunner().invoke(group, list(args), prog_name="canbao")


def test_help_is_chinese(main: click.Group) -> None:
    result = run(main, "--help")
    assert result.exit_code == 0, result.output
    assert "用法：" in result.output and "选项" in result.output and "命令" in result.output
    assert "显示此帮助并退出。" in result.output and "显示版本号并退出。" in result.output
    for english in ("Usage:", "Options", "Commands", "Show this message", "Show the version"):
        assert english not in result.output
    # canbao's own help texts name the workspace folders and backup's DIR
    assert english_left(result.output, main, "inbox/", "outbox/", "DIR") == []


def test_command_help_is_chinese(main: click.Group) -> None:
    result = run(main, "demo", "-h")
    assert result.exit_code == 0, result.output
    assert "用法：" in result.output and "选项" in result.output and "[默认：2017]" in result.output
    assert "Usage:" not in result.output and "Options" not in result.output
    assert "default:" not in result.output


@pytest.mark.parametrize(("args", "chinese", "usage"), [
    (("ingest",), "错误：缺少参数 '文件...'", True),
    (("status", "--nope"), "错误：没有 --nope 这个选项。", True),
    (("demo", "--scale", "5"), "错误：'--scale' 的值无效：5.0 不在范围 0.0001<=x<=1.0 内。", True),
    (("nosuch",), "错误：没有 nosuch 这个命令。", True),
    (("statu",), "错误：没有 statu 这个命令。 是不是要输入 'status'？", True),
    (("ingest", "/does/not/exist"), "错误：'文件...' 的值无效：文件 '/does/not/exist' 不存在。", True),
    (("conflicts", "--keep", "third"), "'third' 不是可选的值（'first', 'second'）。", True),
    (("demo", "--seed", "many"), "'many' 不是符合要求的数字。", True),
    (("check", "{tmp}/a.xlsx", "b.xlsx"), "错误：多出了参数（b.xlsx）", True),
    # errors raised while splitting the command line: click prints no usage line for them
    (("demo", "--seed"), "错误：选项 '--seed' 后面需要 1 个值。", False),
    (("watch", "--once=yes"), "错误：选项 '--once' 后面不能带值。", False),
])
def test_usage_errors_are_chinese(main: click.Group, args: tuple[str, ...], chinese: str, usage: bool,
                                  tmp_path: Path) -> None:
    (tmp_path / "a.xlsx").touch()        # an existing file, so that click reaches the extra one
    args = tuple(a.replace("{tmp}", str(tmp_path)) for a in args)
    result = run(main, *args)
    assert result.exit_code == 2, result.output
    assert chinese in result.output, result.output
    if usage:
        assert result.output.startswith("用法： canbao ")
        assert f"运行 canbao {args[0] if args[0] in main.commands else ''}".rstrip() in result.output
        assert "--help 查看帮助。" in result.output
    for english in ("Usage:", "Error:", "Try ", "Missing", "No such", "Invalid value", "does not exist"):
        assert english not in result.output
    assert english_left(result.output, main, *args) == [], result.output


def test_english_left_finds_english(main: click.Group) -> None:
    text = "用法： canbao ingest [选项] 文件...\nError: Missing argument 'FILES...'."
    assert english_left(text, main) == ["Error", "Missing", "argument"]


def test_use_chinese_is_idempotent_and_leaves_the_locale_alone(main: click.Group) -> None:
    before = locale.setlocale(locale.LC_ALL)
    use_chinese()
    use_chinese()
    assert locale.setlocale(locale.LC_ALL) == before
    assert gettext.gettext("Usage:") == "用法："
    assert gettext.ngettext("Option {name!r} requires an argument.",
                            "Option {name!r} requires {nargs} arguments.", 2) == "选项 {name!r} 后面需要 {nargs} 个值。"
    assert run(main, "status", "--nope").output.count("没有 --nope 这个选项。") == 1


# The catalogue ------------------------------------------------------------------------

def _po() -> Catalog:
    with PO.open("rb") as f:
        return read_po(f)


def _forms(value: object) -> tuple[str, ...]:
    """A message id or string as its forms: 'x' -> ('x',); ('one', 'many') as is."""
    if isinstance(value, (list, tuple)):
        return tuple(str(v) for v in value)
    return () if value is None else (str(value),)


def _click_msgids() -> set[str]:
    """Every msgid in the installed click's `_(...)` and `ngettext(...)` calls (singular)."""
    found = {"required"}       # the one msgid click passes through a variable: _(extra["required"])
    for path in Path(click.__file__).parent.glob("*.py"):
        with path.open("rb") as f:
            for _line, _func, messages, _comments in extract_python(f, {"_": None, "ngettext": (1, 2)}, [], {}):
                first = _forms(messages)[0] if messages else None
                if first:
                    found.add(first)
    return found


def test_catalogue_covers_every_click_message() -> None:
    ids = {_forms(m.id)[0] for m in _po() if m.id}
    missing = _click_msgids() - ids
    assert not missing, f"click has messages that {PO.name} lacks (add them, then run scripts/compile_locale.py): {missing}"


def _fields(text: str) -> set[str]:
    brace = {name.split("!")[0].split(".")[0].split("[")[0]
             for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}
    percent = set(re.findall(r"%\((\w+)\)[sdr]", text))
    return brace | percent


def test_every_message_is_translated_and_its_placeholders_exist() -> None:
    """A placeholder the English does not fill would crash click's .format(): never allowed.
    Leaving one out is allowed (a plural's single Chinese form; an English type name)."""
    catalog = _po()
    assert catalog.num_plurals == 1 and catalog.plural_expr == "0"
    for message in catalog:
        if not message.id:
            continue
        ids, strings = _forms(message.id), _forms(message.string)
        assert not message.fuzzy and all(strings), f"untranslated: {ids[0]!r}"
        allowed = set[str]().union(*(_fields(i) for i in ids))
        for s in strings:
            assert _fields(s) <= allowed, f"{ids[0]!r}: {s!r} uses {_fields(s) - allowed}"
            if "%(" not in ids[0]:
                s.format(**dict.fromkeys(allowed, "x"))      # well-formed braces


def _load_compile_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("compile_locale", ROOT / "scripts" / "compile_locale.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _messages(mo: Path) -> dict[tuple[str, ...], tuple[str, ...]]:
    with mo.open("rb") as f:
        return {_forms(m.id): _forms(m.string) for m in read_mo(f) if m.id}


def test_committed_mo_is_up_to_date(tmp_path: Path) -> None:
    written = _load_compile_script().compile_all(LOCALE_DIR, out_dir=tmp_path)
    assert written, "no .po found"
    for fresh in written:
        committed = LOCALE_DIR / fresh.relative_to(tmp_path)
        assert committed.exists(), f"{committed} missing: run scripts/compile_locale.py"
        assert _messages(committed) == _messages(fresh), f"{committed} is stale: run scripts/compile_locale.py"


def test_mo_loads_with_the_standard_library_and_ships_in_the_package() -> None:
    translations = catalogue()
    assert translations.gettext("Show this message and exit.") == "显示此帮助并退出。"
    assert translations.ngettext("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)", 3) \
        == "是不是要输入 {possibilities}？"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["engine"]
    relative = MO.relative_to(LOCALE_DIR.parent).as_posix()
    assert any(fnmatch.fnmatch(relative, p) for p in patterns), patterns
