"""The README's grpcurl and buf curl commands, run verbatim against a live server.

A command is a `grpcurl ...` or `buf curl ...` line in a ```sh block; the `# => text` lines
under it are texts its output must contain. A command whose expected output holds an error
code (`Code: NotFound`) must fail; every other command must succeed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import AuthMetadata, StartServer

README = Path(__file__).resolve().parent.parent / "README.md"
README_ADDRESS = "localhost:50051"
_SH_BLOCK = re.compile(r"```sh\n(.*?)```", re.DOTALL)
_COMMAND_PREFIXES = ("grpcurl ", "buf curl ")


@dataclass(frozen=True)
class ReadmeCommand:
    line: str
    expected: tuple[str, ...]

    @property
    def must_fail(self) -> bool:
        return any("Code:" in text or '"code":' in text for text in self.expected)


def readme_commands() -> list[ReadmeCommand]:
    commands: list[ReadmeCommand] = []
    for block in _SH_BLOCK.findall(README.read_text()):
        for line in block.splitlines():
            if line.startswith(_COMMAND_PREFIXES):
                commands.append(ReadmeCommand(line, ()))
            elif line.startswith("# => ") and commands:
                last = commands[-1]
                commands[-1] = ReadmeCommand(last.line, (*last.expected, line[len("# => ") :]))
    return commands


def test_the_readme_shows_grpcurl_and_buf_curl_commands() -> None:
    lines = [command.line for command in readme_commands()]

    assert any(line.startswith("grpcurl ") and line.endswith(" list") for line in lines)
    assert any(" describe " in line for line in lines)
    assert any("Health/Check" in line for line in lines)
    assert any("--list-methods" in line for line in lines)
    assert sum("authorization: Bearer $TOKEN" in line for line in lines) >= 2


@pytest.mark.parametrize("command", readme_commands(), ids=lambda command: command.line[:90])
def test_readme_command_works_against_a_live_server(
    command: ReadmeCommand, start_server: StartServer, auth_metadata: AuthMetadata
) -> None:
    server = start_server()
    token = auth_metadata(server, site_id="demo-site")[0][1].removeprefix("Bearer ")
    venv_bin = str(Path(sys.executable).parent)

    result = subprocess.run(
        ["bash", "-c", command.line.replace(README_ADDRESS, server.address)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TOKEN": token, "PATH": f"{venv_bin}:{os.environ['PATH']}"},
    )
    output = result.stdout + result.stderr

    assert (result.returncode != 0) == command.must_fail, output
    for text in command.expected:
        assert text in output
