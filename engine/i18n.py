"""click's own messages in Simplified Chinese: "用法：", "选项", "错误：缺少参数 …", "运行 … 查看帮助。".

The catalogue is engine/locale/zh_CN/LC_MESSAGES/click.po, compiled (and committed) as
click.mo by scripts/compile_locale.py; its msgids are click's strings, exactly.

How click translates. Each click module does `from gettext import gettext as _` (and
`ngettext`): the standard library's module-level functions, not a translation object.
So `_(msg)` is `gettext.dgettext(<default domain>, msg)` at the moment click formats the
message, and dgettext finds its catalogue with `gettext.translation(domain,
<folder bound to the domain>)`, taking the language from the environment variables
LANGUAGE, LC_ALL, LC_MESSAGES, LANG (the first one set wins). It never asks
locale.setlocale(); with none of the variables set (the usual case on Windows) or LANG=C,
there is no catalogue and the English msgid is shown.

What use_chinese() does, in this process only:

1. `gettext.bindtextdomain("click", engine/locale)`: where the "click" domain lives.
2. `gettext.textdomain("click")`: makes "click" the default domain, the one that click's
   `_`/`ngettext` look in (it was "messages", for which nothing is installed).
3. `os.environ["LANGUAGE"] = "zh_CN"`: needed because (see above) dgettext passes no
   language and reads it from the environment only. LANGUAGE is the GNU variable that
   chooses the language of messages and nothing else: unlike LANG or LC_ALL it changes no
   locale category (encoding, number and date formats, sorting), and the process locale
   is not touched. os.environ is this process's environment (and that of programs it
   starts); the user's shell is never changed. It overrides a LANGUAGE the user may have
   set: canbao speaks Chinese only.

Other code in the process that uses gettext's default domain (argparse, optparse) now
looks in click.mo, finds none of its strings, and stays as it was.

Why not the alternatives:
- Replacing `_` and `ngettext` inside each click module with a GNUTranslations object's
  methods: relies on click's private module globals, misses the modules click imports
  later (click._termui_impl, click.shell_completion) and breaks silently when click
  changes how it imports gettext.
- `gettext.install()`: sets `builtins._`, which click does not use.
- Shipping the catalogue as messages.mo for the old default domain: still needs the
  language from the environment, and takes over that domain for every library.

When to call: before engine/cli.py builds its commands, i.e. at the top of that module.
click translates most messages when it shows them, but a few when objects are built:
click.Path's kind (_("file"), as in "文件 'x' 不存在。") when the argument is declared,
and the --version help text. Calling it again changes nothing (the same three values are
set; gettext caches the parsed catalogue), and it does not import click.
"""

from __future__ import annotations

import gettext
import os
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "click"
LANGUAGE = "zh_CN"


def use_chinese() -> None:
    """Make click's usage lines, help headings and error messages Simplified Chinese."""
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)
    os.environ["LANGUAGE"] = LANGUAGE


def catalogue() -> gettext.NullTranslations:
    """The Chinese catalogue itself (raises OSError if the .mo is missing): for checks."""
    return gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[LANGUAGE])
