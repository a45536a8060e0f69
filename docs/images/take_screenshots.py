"""Take docs/images/template-dropdown.png, template-cascade.png and template-red.png:
screenshots of a village template open in LibreOffice Calc's window.

    .venv/bin/python docs/images/take_screenshots.py

Writes the same template as render_template.py (one synthetic village, a few roster
persons filled in, one new person typed with the usual mistakes), opens it in LibreOffice
Calc on a virtual screen (Xvfb, 1600x900) with a private profile (Chinese interface, no
tip of the day), moves about with xdotool as a user would with the keyboard and
photographs the screen with ImageMagick's import:

- template-red.png: the new person's row, red where the live checks found mistakes (a
  wrong ID check digit, a sex the ID contradicts, 0 已单位就业 without a unit), the cell
  of the missing unit selected with its prompt;
- template-dropdown.png: a blank row's 养老保险 cell with its prompt and its list open;
- template-cascade.png: 安徽省 typed in a blank row's 户口所在地省, then that row's
  户口所在地市 list open: the cities of 安徽省.

Needs a LibreOffice Calc with a GUI backend (Debian: libreoffice-calc, libreoffice-gtk3;
libreoffice-l10n-zh-cn for the Chinese interface, optional), xvfb, xdotool,
x11-xserver-utils (xmodmap, to type Chinese), imagemagick and CJK fonts (fonts-noto-cjk);
headless `soffice --convert-to` keeps working with these. Nothing is saved to the
template; LibreOffice and Xvfb are stopped at the end. Takes about 40 seconds.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

from render_template import rows  # noqa: E402

from engine import regions  # noqa: E402
from engine.demo_data import make_roster  # noqa: E402
from engine.templates import BLANK_UNITS, write_village_workbook  # noqa: E402
from engine.workbook import Identity, SheetRow, template_id  # noqa: E402

SCREEN = (1600, 900)
VILLAGE = "340602001006"
NEW_ROW = 16        # the new person typed with mistakes (12 roster rows from row 4)
BLANK_ROW = 17      # the first blank row
FONT = "Noto Sans CJK SC 10"
# what each picture keeps of the screen: width x height + left + top, in pixels
CROPS = {
    "template-red": "1340x610+0+0",
    "template-dropdown": "1150x690+0+0",
    "template-cascade": "1060x786+0+0",
}

PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="ShowTipOfTheDay" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Setup/Office"><prop oor:name="ooSetupLastVersion" oor:op="fuse"><value>7.4</value></prop></item>
<item oor:path="/org.openoffice.Office.Linguistic/General"><prop oor:name="UILocale" oor:op="fuse"><value>zh-CN</value></prop></item>
<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooLocale" oor:op="fuse"><value>zh-CN</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Input"><prop oor:name="AutoInput" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""


def template(folder: Path) -> Path:
    """The village template render_template.py prints, named as the real ones are."""
    roster = make_roster(scale=0.02, seed=2017)
    persons = [p for p in roster.persons if p["region_code"] == VILLAGE][:12]
    units = [u for u in roster.units if u["region_code"] == VILLAGE]
    identity = Identity(kind="template", template_id=template_id(VILLAGE), region_code=VILLAGE)
    name = regions.load().path_names(VILLAGE)[-1]
    return write_village_workbook(folder / f"{name}.xlsx", VILLAGE, identity, rows(VILLAGE, persons, units),
                                  (SheetRow(u, roster=True) for u in units), blank_persons=8,
                                  blank_units=BLANK_UNITS)


def start_xvfb() -> tuple[subprocess.Popen, str]:
    """Xvfb on the first free display; the display's name."""
    read, write = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24",
                             "-nolisten", "tcp"], pass_fds=(write,), stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    if not number:
        sys.exit("Xvfb did not start")
    return xvfb, f":{number}"


class Calc:
    """LibreOffice Calc showing one workbook, driven with xdotool."""

    def __init__(self, book: Path, profile: Path, env: dict[str, str]) -> None:
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(PROFILE, encoding="utf-8")
        gtk = profile / "config" / "gtk-3.0"    # a CJK interface font: list heights fit the Chinese
        gtk.mkdir(parents=True)
        (gtk / "settings.ini").write_text(f"[Settings]\ngtk-font-name={FONT}\n", encoding="utf-8")
        self.env = {**env, "XDG_CONFIG_HOME": str(profile / "config")}
        self.process = subprocess.Popen(
            ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--calc", "--norestore", "--nologo",
             "--nodefault", str(book)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.window = self.wait_window(f"{book.name}.*LibreOffice")
        self.xdotool("windowmove", self.window, "0", "0")
        self.xdotool("windowsize", "--sync", self.window, str(SCREEN[0]), str(SCREEN[1]))
        self.xdotool("windowfocus", "--sync", self.window)
        time.sleep(3)
        self.key("Escape")

    def run(self, *args: str) -> str:
        return subprocess.run(args, env=self.env, check=True, capture_output=True, text=True,
                              timeout=60).stdout

    def xdotool(self, *args: str) -> str:
        return self.run("xdotool", *args)

    def wait_window(self, name: str, timeout: float = 120) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", name], env=self.env,
                                   capture_output=True, text=True).stdout.split()
            if found:
                return found[0]
            time.sleep(1)
        sys.exit(f"no window {name!r} after {timeout} s")

    def key(self, *keys: str, wait: float = 0.5) -> None:
        self.xdotool("key", "--delay", "100", *keys)
        time.sleep(wait)

    def type(self, text: str, wait: float = 0.5) -> None:
        """Chinese through keys mapped beforehand (xmodmap) on spare keycodes: xdotool's own
        mapping of a character is undone before LibreOffice reads the key, which then loses it."""
        if text.isascii():
            self.xdotool("type", "--delay", "80", text)
        else:
            spare = [line.split()[1] for line in self.run("xmodmap", "-pke").splitlines()
                     if line.strip().endswith("=")]
            chars = sorted(set(text))
            self.run("xmodmap", *(arg for code, char in zip(spare[:len(chars)], chars, strict=True)
                                  for arg in ("-e", f"keycode {code} = U{ord(char):04X}")))
            time.sleep(1)
            self.xdotool("key", "--delay", "150", *(f"U{ord(char):04X}" for char in text))
        time.sleep(wait)

    def goto(self, cell: str) -> None:
        """Through the Name Box (Ctrl+Shift+F5), as a user would."""
        self.key("Escape", "Escape")
        self.key("ctrl+shift+F5")
        self.type(cell)
        self.key("Return", wait=1.5)

    def shoot(self, name: str) -> Path:
        time.sleep(1.5)
        out = HERE / f"{name}.png"
        subprocess.run(["import", "-window", "root", "-crop", CROPS[name], "+repage", str(out)],
                       env=self.env, check=True, timeout=60)
        return out

    def close(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)


def main() -> None:
    missing = [tool for tool in ("soffice", "Xvfb", "xdotool", "xmodmap", "import") if not shutil.which(tool)]
    if missing:
        sys.exit(f"needs {', '.join(missing)} (libreoffice-calc, xvfb, xdotool, x11-xserver-utils, imagemagick)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        book = template(folder)
        xvfb, display = start_xvfb()
        env = {**os.environ, "DISPLAY": display, "SAL_USE_VCLPLUGIN": "gtk3", "LANG": "C.UTF-8",
               "LC_ALL": "C.UTF-8", "NO_AT_BRIDGE": "1"}
        calc = None
        try:
            calc = Calc(book, folder / "profile", env)
            calc.goto(f"I{NEW_ROW}")                  # 工作单位名称 missing: red, with its prompt
            print(calc.shoot("template-red"))
            calc.goto(f"W{BLANK_ROW}")                # 养老保险 of a blank row: prompt and list
            calc.key("alt+Down", wait=1.5)
            print(calc.shoot("template-dropdown"))
            calc.goto(f"L{BLANK_ROW}")                # 户口所在地省: 安徽省, then its cities
            calc.type("安徽省")
            calc.key("Return")
            calc.goto(f"M{BLANK_ROW}")
            calc.key("alt+Down", wait=1.5)
            print(calc.shoot("template-cascade"))
        finally:
            if calc is not None:
                calc.close()
            xvfb.terminate()
            xvfb.wait(timeout=30)


if __name__ == "__main__":
    main()
