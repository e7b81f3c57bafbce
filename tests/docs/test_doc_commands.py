"""Every command in README.md and docs/*.md runs, so the docs stay true.

How the docs are written for this test:

- every fenced block says what it holds: ```sh (commands, run here), ```console
  (``$ command`` lines followed by the output they print; run here, and each printed
  line must appear in the real output), ```python, ```json, ```toml or ```text (not
  run; a test of its own may run them);
- in a command, ``[...]`` is optional (left out here), ``a|b`` is a choice (the first
  is taken), and FILE, PATH, DIR, NAME, N, S, TEXT, ADVERSARY, ``SHP-...`` and
  ``SEAL-...`` stand for values the fixture supplies; a line ending in ``\\`` continues on the next;
- options that set how much work is done (``--days``, ``--replications``, ``--repeats``
  ...) are shortened here so the run takes seconds; ``make TARGET`` is checked with
  ``make -n`` (a dry run: it must exist and expand, without recursing into the tests);
- a command whose comment starts with ``slow`` (``# slow: ...``) runs only under CI
  (``CI`` set), as a test of its own, so it must not depend on the lines before it.
- ``portwatch serve ...`` runs until it is stopped: here it runs with ``--help`` added,
  which checks that its options exist; tests/service starts the real server.

The commands of a block run in order in one scratch folder, which holds a simulated
trip (``shipment.json``, ``events.jsonl``), a link to the repository's ``tests`` and a
``.venv/bin/activate`` that puts this interpreter's ``portwatch`` on the PATH.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUN_LANGS = {"sh", "console"}
KNOWN_LANGS = RUN_LANGS | {"python", "json", "toml", "text"}
SPECTRUM = "tests/fieldid/data/PST02_iRPlus785_Z050_100_3200ms.txt"
TIMEOUT_S = 900

PLACEHOLDERS = {  # whole words only
    "FILE...": SPECTRUM, "FILE": SPECTRUM, "PATH": "doc-file.json", "DIR": "doc-folder",
    "NAME": "doc-compound", "N": "1", "S": "1", "TEXT": "doc", "ADVERSARY": "shotgun",
}
SHORT = {  # option -> the value it takes here
    "--days": "1", "--replications": "1", "-r": "1", "--repeats": "1",
    "--calibration-repeats": "1", "--clean": "2", "--attacked": "2",
}
APPEND = {  # command prefix -> options added when absent, to keep the run short
    "portwatch simulate": {"--workers": "1", "--days": "1", "-r": "1"},
    "portwatch fieldid evaluate": {"--repeats": "1", "--calibration-repeats": "1",
                                   "--laser": "1064"},
    "portwatch fieldid calibrate": {"--repeats": "1"},
}


@dataclass(frozen=True)
class Block:
    doc: str
    line: int
    lang: str
    text: str


@dataclass(frozen=True)
class Command:
    text: str
    slow: bool
    expected: tuple[str, ...] = ()  # console blocks: the lines it prints


def fenced_blocks(path: Path) -> list[Block]:
    blocks, lang, start, body = [], None, 0, []
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if line.startswith("```"):
            if lang is None:
                lang, start, body = line[3:].strip(), n, []
            else:
                blocks.append(Block(path.name, start, lang, "\n".join(body)))
                lang = None
        elif lang is not None:
            body.append(line)
    return blocks


def _split_comment(line: str) -> tuple[str, str]:
    """``cmd  # comment`` -> (cmd, comment); a ``#`` inside quotes is not a comment."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip(), line[i + 1:].strip()
    return line.rstrip(), ""


def commands(block: Block) -> list[Command]:
    lines = block.text.splitlines()
    out: list[Command] = []
    if block.lang == "console":
        for line in lines:
            if line.startswith("$ "):
                out.append(Command(line[2:].strip(), slow=False))
            elif out and line.strip():
                last = out[-1]
                out[-1] = Command(last.text, last.slow, (*last.expected, line.rstrip()))
        return out
    joined: list[str] = []
    for line in lines:
        if joined and joined[-1].endswith("\\"):
            joined[-1] = joined[-1][:-1].rstrip() + " " + line.strip()
        else:
            joined.append(line)
    for line in joined:
        cmd, comment = _split_comment(line)
        if cmd.strip():
            out.append(Command(cmd.strip(), slow=comment.lower().startswith("slow")))
    return out


def _set_option(words: list[str], option: str, value: str) -> list[str]:
    if option in words:
        i = words.index(option)
        return [*words[: i + 1], value, *words[i + 2:]]
    return [*words, option, value]


def concrete(text: str) -> str:
    """The command as it runs here: optional parts dropped, choices and placeholders
    filled in, work-size options shortened."""
    text = re.sub(r"\s*\[[^\[\]]*\]", "", text)  # optional parts
    text = re.sub(r"(?<![\w-])([\w-]+)(?:\|[\w-]+)+", r"\1", text)  # a|b -> a
    words = [PLACEHOLDERS.get(w, w) for w in text.split()]
    for i in range(len(words) - 1):
        if words[i] in SHORT:
            words[i + 1] = SHORT[words[i]]
    head = " ".join(words[:3])
    for prefix, options in APPEND.items():
        if head.startswith(prefix):
            for option, value in options.items():
                if option not in words and not (option == "-r" and "--replications" in words):
                    words = _set_option(words, option, value)
    return " ".join(words)


def _shipment(cwd: Path) -> dict:
    for candidate in ("trip/shipment.json", "shipment.json"):
        if (cwd / candidate).is_file():
            return json.loads((cwd / candidate).read_text())
    raise AssertionError("SHP-... and SEAL-... need a simulated trip first")


@pytest.fixture
def scratch(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A scratch folder with a trip and the tests' data, and an environment in which
    ``portwatch`` and ``python`` are this interpreter."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, argv in (("portwatch", f'"{sys.executable}" -m portwatch'),
                       ("python", f'"{sys.executable}"')):
        script = bin_dir / name
        script.write_text(f'#!/bin/sh\nexec {argv} "$@"\n')
        script.chmod(0o755)
    cwd = tmp_path / "work"
    cwd.mkdir()
    (cwd / "tests").symlink_to(ROOT / "tests")
    (cwd / ".venv" / "bin").mkdir(parents=True)
    (cwd / ".venv" / "bin" / "activate").write_text(f'export PATH="{bin_dir}:$PATH"\n')
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH", "")) if p)
    done = subprocess.run(["portwatch", "custody", "simulate-trip", "--out", "."], cwd=cwd,
                          env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return cwd, env


@dataclass(frozen=True)
class Ran:
    """What a documented command did here: the command as run, its exit code, the
    lines it printed, and the lines the docs show it printing that it did not print."""

    text: str
    returncode: int
    output: str
    missing: tuple[str, ...]


def run_command(command: Command, cwd: Path, env: dict[str, str]) -> Ran:
    text = concrete(command.text)
    if "SHP-..." in text:
        text = text.replace("SHP-...", _shipment(cwd)["shipment_id"])
    if "SEAL-..." in text:
        text = text.replace("SEAL-...", _shipment(cwd)["seal"]["seal_id"])
    if text.startswith("portwatch serve"):
        text += " --help"
    if text.startswith("make "):
        text = f"make -n -C {shlex.quote(str(ROOT))} {text[5:]}"
    done = subprocess.run(["bash", "-c", text], cwd=cwd, env=env, capture_output=True,
                          text=True, check=False, timeout=TIMEOUT_S)
    printed = [line.rstrip() for line in done.stdout.splitlines()]
    return Ran(text, done.returncode, f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}",
               tuple(line for line in command.expected if line not in printed))


def assert_ran_as_documented(ran: Ran) -> None:
    assert ran.returncode == 0, f"{ran.text}\n{ran.output}"
    assert ran.missing == (), f"{ran.text}: the docs show {ran.missing}; it printed {ran.output}"


def _blocks_to_run() -> list:
    params = []
    for path in DOCS:
        for block in fenced_blocks(path):
            if block.lang in RUN_LANGS:
                params.append(pytest.param(block, id=f"{block.doc}:{block.line}"))
    return params


def _slow_commands() -> list:
    params = []
    for path in DOCS:
        for block in fenced_blocks(path):
            if block.lang in RUN_LANGS:
                params += [pytest.param(c, id=f"{block.doc}:{block.line}:{c.text[:40]}")
                           for c in commands(block) if c.slow]
    return params


def test_every_fenced_block_says_what_it_holds():
    unlabelled = [f"{b.doc}:{b.line} ({b.lang or 'no language'})"
                  for path in DOCS for b in fenced_blocks(path) if b.lang not in KNOWN_LANGS]
    assert unlabelled == []


def test_the_docs_hold_commands():
    blocks = _blocks_to_run()
    assert len(blocks) >= 5
    assert any(c.slow for p in blocks for c in commands(p.values[0]))


@pytest.mark.parametrize("block", _blocks_to_run())
def test_doc_block_runs(block: Block, scratch):
    cwd, env = scratch
    for command in commands(block):
        if not command.slow:
            assert_ran_as_documented(run_command(command, cwd, env))


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("CI"), reason="marked slow in the docs; runs under CI")
@pytest.mark.parametrize("command", _slow_commands())
def test_slow_doc_command_runs(command: Command, scratch):
    cwd, env = scratch
    assert_ran_as_documented(run_command(command, cwd, env))


@pytest.mark.parametrize(("written", "runs"), [
    ("portwatch custody status SHP-...   [--as-of 2026-03-01T14:05:00Z]",
     "portwatch custody status SHP-..."),
    ("portwatch identify FILE... [--laser 785|1064] [--library PATH] [--json]",
     f"portwatch identify {SPECTRUM}"),
    ("portwatch fieldid library add NAME FILE --class controlled|cutting_agent|benign "
     "--library PATH [--laser N]",
     f"portwatch fieldid library add doc-compound {SPECTRUM} --class controlled "
     "--library doc-file.json"),
    ("portwatch simulate otay-mesa -p rules --days 7 --replications 6 --seed 2024",
     "portwatch simulate otay-mesa -p rules --days 1 --replications 1 --seed 2024 "
     "--workers 1"),
    ("portwatch fieldid evaluate [--seed S]",
     "portwatch fieldid evaluate --repeats 1 --calibration-repeats 1 --laser 1064"),
])
def test_concrete_fills_in_the_placeholders(written, runs):
    assert concrete(written) == runs


def test_commands_join_continuations_and_find_slow_ones():
    block = Block("x.md", 1, "sh", "a \\\n  --b 1   # slow: long\nc  # fast\n\n# note only")
    assert commands(block) == [Command("a --b 1", slow=True), Command("c", slow=False)]
    console = Block("x.md", 1, "console", "$ portwatch x\nline one\n  line two")
    assert commands(console) == [Command("portwatch x", False, ("line one", "  line two"))]


def test_a_failing_or_silent_command_is_caught(scratch):
    """The check itself can fail: a command that exits non-zero, and one that does not
    print what the docs show, are both reported."""
    cwd, env = scratch
    failed = run_command(Command("portwatch no-such-command", slow=False), cwd, env)
    assert failed.returncode != 0
    quiet = run_command(Command("portwatch scenarios", False, ("not printed",)), cwd, env)
    assert quiet.returncode == 0 and quiet.missing == ("not printed",)
    with pytest.raises(AssertionError):
        assert_ran_as_documented(failed)
    with pytest.raises(AssertionError):
        assert_ran_as_documented(quiet)
