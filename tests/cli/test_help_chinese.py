"""The command line speaks Chinese (issue 14 item 8): every command's --help over the whole group
tree, and click's usage errors, carry none of click's English boilerplate and no English
placeholder (``TEXT``, ``ROUND_ID``, ``[OPTIONS]``)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from govwatch.cli import cli
from govwatch.cli.click_text import display_width

# click's own English (help pages, usage errors, prompts)
BOILERPLATE = (
    "Show this message",
    "Show the version",
    "Usage:",
    "Options:",
    "Commands:",
    "Arguments:",
    "Error:",
    "Missing option",
    "Missing argument",
    "Missing parameter",
    "Missing command",
    "No such command",
    "No such option",
    "Try '",
    "for help",
    "[default:",
    "[required]",
    "[env var:",
    "Invalid value",
    "is not a valid",
    "does not exist",
    "Got unexpected extra",
    "requires an argument",
    "Did you mean",
    "Aborted!",
    "[OPTIONS]",
    "COMMAND [ARGS]",
    "[ARGS]",
)
# a placeholder in capitals, as click makes them from a type (TEXT) or a name (ROUND_ID)
PLACEHOLDER = re.compile(r"(?<![\w/:.-])[A-Z][A-Z_]+(?:\.\.\.)?(?![\w/:.-])")
# the same placeholders written into a help text ("--notice FILE")
PLACEHOLDER_IN_TEXT = re.compile(r"\b(?:FILE|FIELD|VALUE|TEXT|PATH|DIR|NAME|INTEGER)\b")
OPTION_LINE = re.compile(r"^ {2}(-[\w-]+(?:, -[\w-]+)*)(?: (?P<metavar>\S+))?")


def commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))
        else:
            yield (*path, name)


ALL = list(commands(cli))


def english_in(output: str) -> list[str]:
    """What in ``output`` is click's English: boilerplate, or a placeholder in the usage line
    or in an option's column."""
    found = [phrase for phrase in BOILERPLATE if phrase in output]
    found += PLACEHOLDER_IN_TEXT.findall(output)
    for line in output.splitlines():
        if line.startswith("用法:"):
            words = line.split()[1:]
            found += [w for w in words if PLACEHOLDER.fullmatch(w.strip("[]."))]
        option = OPTION_LINE.match(line)
        metavar = option.group("metavar") if option else None
        if metavar and not metavar.startswith("[") and re.search(r"[A-Za-z]{2,}", metavar):
            found.append(f"{option.group(1)} {metavar}" if option else metavar)
    return found


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


def test_the_tree_is_walked() -> None:
    assert len(ALL) > 60  # every group and command, e.g. evaluation rounds' and ledger's
    assert ("evaluation", "review") in ALL and ("rules", "set") in ALL


@pytest.mark.parametrize("path", ALL, ids=lambda p: " ".join(p) or "govwatch")
def test_every_help_page_is_chinese(runner: CliRunner, path: tuple[str, ...]) -> None:
    answer = runner.invoke(cli, [*path, "--help"], prog_name="govwatch")
    assert answer.exit_code == 0, answer.output
    assert answer.output.startswith("用法: govwatch")
    assert english_in(answer.output) == [], answer.output


def _leaf(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


LEAVES = [p for p in ALL if p and not isinstance(_leaf(p), click.Group)]
GROUPS = [p for p in ALL if isinstance(_leaf(p), click.Group)]


@pytest.mark.parametrize("path", LEAVES, ids=" ".join)
def test_an_unknown_option_is_refused_in_chinese(runner: CliRunner, path: tuple[str, ...]) -> None:
    answer = runner.invoke(cli, [*path, "--no-such-option"], prog_name="govwatch")
    assert answer.exit_code == 2
    assert "没有选项“--no-such-option”" in answer.output
    assert english_in(answer.output) == [], answer.output


@pytest.mark.parametrize("path", GROUPS, ids=lambda p: " ".join(p) or "govwatch")
def test_an_unknown_command_is_refused_in_chinese(runner: CliRunner, path: tuple[str, ...]) -> None:
    answer = runner.invoke(cli, [*path, "no-such-command"], prog_name="govwatch")
    assert answer.exit_code == 2
    assert "没有命令“no-such-command”" in answer.output
    assert english_in(answer.output) == [], answer.output


REQUIRED = [
    p
    for p in LEAVES
    if any(param.required for param in _leaf(p).params if not getattr(param, "prompt", None))
]


@pytest.mark.parametrize("path", REQUIRED, ids=" ".join)
def test_a_missing_argument_or_option_is_named_in_chinese(
    runner: CliRunner, path: tuple[str, ...]
) -> None:
    answer = runner.invoke(cli, list(path), prog_name="govwatch", input="")
    assert answer.exit_code == 2, answer.output
    assert "缺少" in answer.output
    assert english_in(answer.output) == [], answer.output


def test_bad_values_are_refused_in_chinese(runner: CliRunner) -> None:
    for args in (
        ["calendar", "show", "not-a-year"],
        ["rules", "list", "--format", "xml"],
        ["import", "events", "/no/such/file.jsonl"],
    ):
        answer = runner.invoke(cli, args, prog_name="govwatch")
        assert answer.exit_code == 2, (args, answer.output)
        assert english_in(answer.output) == [], answer.output
        assert re.search(r"[\u4e00-\u9fff]", answer.output), answer.output


def test_help_columns_line_up_by_display_width(runner: CliRunner) -> None:
    """Chinese placeholders are two columns wide per character: the help texts still start in
    one column."""
    answer = runner.invoke(cli, ["evaluation", "review", "--help"], prog_name="govwatch")
    starts = set()
    for line in answer.output.splitlines():
        found = re.match(r"^( {2}-\S+(?:, -\S+)*(?: \S+)?) {2,}(\S)", line)
        if found:
            starts.add(display_width(line[: found.start(2)]))
    assert len(starts) == 1, answer.output
    assert max(display_width(line) for line in answer.output.splitlines()) <= 100
