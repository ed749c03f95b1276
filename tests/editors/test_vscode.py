"""The VS Code extension in ``editors/vscode``: its version and grammar against the repository, and
with Node.js, its own tests, its package, and its tokens against critlang's lexer.

The tests that need Node.js copy the extension into a temporary folder (with the examples and the
standard dictionary it tokenizes) and run ``npm ci``, ``npm test`` and ``vsce package`` there.
``npm ci`` installs exactly the packages of ``package-lock.json`` (from the npm registry, or from
npm's cache), and runs no install scripts (``editors/vscode/.npmrc``); nothing else is downloaded.
They skip without ``node`` and ``npm`` on PATH, or when ``CRITLANG_SKIP_NODE`` is set.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from lark import Lark, Token, Tree

from critlang.semantics.checker import FUNCTIONS, SELECTORS

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "editors" / "vscode"
GRAMMAR = EXTENSION / "syntaxes" / "critlang.tmLanguage.json"
LARK = ROOT / "grammar" / "critlang.lark"
REAL_FILES = sorted(
    [*(ROOT / "examples").glob("*.crit"), *(ROOT / "src" / "critlang" / "std").glob("*.crit")]
)

# What the .vsix must hold (vsce renames README.md and LICENSE), and what it must not.
VSIX_FILES = {
    "extension.vsixmanifest",
    "extension/package.json",
    "extension/readme.md",
    "extension/LICENSE.txt",
    "extension/language-configuration.json",
    "extension/syntaxes/critlang.tmLanguage.json",
    "extension/out/extension.js",
    "extension/node_modules/vscode-languageclient/package.json",
    "extension/node_modules/vscode-languageclient/node.js",
}
VSIX_EXCLUDED = re.compile(r"^extension/(src|test|\.npmrc|tsconfig\.json|out/.*\.map)|\.ts$")


def _lark_terminal(name: str) -> str:
    match = re.search(rf"^{name}(?:\.\d+)?: /(.*)/$", LARK.read_text(encoding="utf-8"), re.M)
    assert match is not None, f"no terminal {name} in {LARK}"
    return match.group(1)


def _grammar() -> dict[str, object]:
    return json.loads(GRAMMAR.read_text(encoding="utf-8"))


def _repository_pattern(name: str) -> str:
    rule = _grammar()["repository"][name]  # type: ignore[index]
    return str(rule["match"])


# ---- without Node.js ----------------------------------------------------------------------------


def test_the_extension_has_the_python_package_version() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    assert package["version"] == pyproject["project"]["version"]
    assert package["name"] == "critlang"
    assert package["contributes"]["grammars"][0]["scopeName"] == "source.critlang"
    assert package["contributes"]["configuration"]["properties"]["critlang.server.command"][
        "default"
    ] == ["critlang", "lsp"]


def test_the_grammar_copies_the_lexer_terminals() -> None:
    """Dates, codes, numbers, quantities and units are matched with the lexer's own expressions
    (the unit text is the part of QUANTITY after its keyword lookahead, the same as UNIT's)."""
    quantity = _lark_terminal("QUANTITY")
    unit = _lark_terminal("UNIT")
    unit_body = unit[unit.index("(?:[xX*×]") :]
    assert quantity.endswith(unit_body)
    assert unit_body in _repository_pattern("quantity")
    assert _lark_terminal("NUMBER") in _repository_pattern("number")
    assert _lark_terminal("DATE") in _repository_pattern("date")
    systems = re.match(r"\(\?:([^)]*)\):", _lark_terminal("CODE"))
    assert systems is not None
    assert f"({systems.group(1)})(:)" in _repository_pattern("code")


def test_the_grammar_knows_every_keyword_function_and_selector() -> None:
    text = GRAMMAR.read_text(encoding="utf-8")
    keywords = set(re.findall(r'"([A-Za-z_]+)"', LARK.read_text(encoding="utf-8")))
    words = keywords | set(FUNCTIONS) | set(SELECTORS)
    missing = sorted(
        word for word in words if not re.search(rf"(?<![A-Za-z_]){word}(?![A-Za-z_])", text)
    )
    assert not missing, f"not in {GRAMMAR.name}: {missing}"


# ---- with Node.js -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Built:
    folder: Path  # the copy of editors/vscode, with node_modules
    test_output: str
    vsix: Path


def _run(command: list[str], cwd: Path, timeout: float) -> str:
    environment = {
        **os.environ,
        "npm_config_audit": "false",
        "npm_config_fund": "false",
        "npm_config_update_notifier": "false",
        "NO_UPDATE_NOTIFIER": "1",
    }
    try:
        result = subprocess.run(
            command,
            cwd=cwd,
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(
            f"{' '.join(command)} took more than {timeout} s\n{error.stdout}\n{error.stderr}"
        )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        hint = (
            " (no npm registry or cache? set CRITLANG_SKIP_NODE=1 to skip)"
            if "ci" in command
            else ""
        )
        pytest.fail(f"{' '.join(command)} exited {result.returncode}{hint}\n{output[-6000:]}")
    return output


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    if os.environ.get("CRITLANG_SKIP_NODE"):
        pytest.skip("CRITLANG_SKIP_NODE is set")
    node, npm, npx = shutil.which("node"), shutil.which("npm"), shutil.which("npx")
    if node is None or npm is None or npx is None:
        pytest.skip("the VS Code extension's tests need node, npm and npx on PATH")
    # The same layout as the repository: test/tokenize.js and test/sync-snapshots.js read
    # ../../examples and ../../src/critlang/std.
    root = tmp_path_factory.mktemp("vscode")
    folder = root / "editors" / "vscode"
    shutil.copytree(
        EXTENSION, folder, ignore=shutil.ignore_patterns("node_modules", "out", "*.vsix")
    )
    for path in REAL_FILES:
        target = root / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)

    _run([npm, "ci", "--no-audit", "--no-fund", "--prefer-offline"], folder, timeout=600)
    test_output = _run([npm, "test"], folder, timeout=300)
    vsix = root / "critlang.vsix"
    # --no: never download vsce (it is a dev dependency); no repository URL to declare yet.
    _run(
        [npx, "--no", "@vscode/vsce", "package", "--allow-missing-repository", "--out", str(vsix)],
        folder,
        timeout=300,
    )
    return Built(folder=folder, test_output=test_output, vsix=vsix)


def test_npm_test_passes(built: Built) -> None:
    """``npm test``: the client compiles, the scope tests and the snapshots pass, and every token
    of the examples and the standard dictionary has a scope."""
    output = built.test_output
    for name in ("declarations", "expressions", "items", "values"):
        assert f"test/{name}.test.crit run successfuly" in output  # (sic) the tool's spelling
    assert "match the repository's examples" in output
    assert re.search(
        rf"tokenized {len(REAL_FILES)} file\(s\), \d+ lines: every token has a scope", output
    )
    for name in ("NCT07480213", "vegfr1-pdl1-cart"):
        assert f"test/snap/{name}.crit run successfully" in output


def test_the_package_holds_the_extension(built: Built) -> None:
    assert built.vsix.is_file()
    with zipfile.ZipFile(built.vsix) as vsix:
        names = set(vsix.namelist())
        manifest = json.loads(vsix.read("extension/package.json"))
        grammar = json.loads(vsix.read("extension/syntaxes/critlang.tmLanguage.json"))
    assert names >= VSIX_FILES, sorted(VSIX_FILES - names)
    assert not [name for name in names if VSIX_EXCLUDED.search(name)]
    assert not [name for name in names if "/node_modules/" in name and "/.bin/" in name]
    # only the client's runtime dependencies, not the development tools
    assert not [
        name
        for name in names
        if "node_modules/typescript/" in name or "node_modules/@vscode/vsce" in name
    ]
    assert manifest["version"] == json.loads((EXTENSION / "package.json").read_text())["version"]
    assert grammar["scopeName"] == "source.critlang"


# ---- the grammar's tokens against the lexer's ---------------------------------------------------

# The scope a token of the lexer must have, by terminal; NAME depends on where it stands.
SCOPES = {
    "COMMENT": "comment.line.number-sign",
    "STRING": "string.quoted.double",
    "DATE": "constant.numeric.date",
    "CODE": "constant.other.code",
    "NUMBER": "constant.numeric",
    "UNIT": "keyword.other.unit",
    "TRIAL_ID": "entity.name.namespace.trial",
    "DOTTED_ID": "entity.name.tag.criterion",
    "COMPARATOR": "keyword.operator.comparison",
    "ADD_OPERATOR": "keyword.operator.arithmetic",
    "MUL_OPERATOR": "keyword.operator.arithmetic",
}
WINDOWS = {"within", "before", "after", "at_least_before"}
KEYWORD_SCOPES = (
    "keyword.",
    "storage.type.",
    "support.type.",
    "support.constant.",
    "constant.language.",
)


def _expected(token: Token, path: list[Tree[Token]]) -> tuple[str, ...]:
    """Scope fragments, one of which each piece of the token's text must have."""
    parent = str(path[-1].data) if path else ""
    if token.type in SCOPES:
        return (SCOPES[token.type],)
    if token.type == "NAME":
        if parent == "criterion_id":
            return ("entity.name.tag.criterion",)
        if parent == "declaration":
            return ("entity.name.variable.declaration",)
        if parent == "anchor_declaration":
            return ("entity.name.variable.anchor",)
        if parent == "define":
            return ("entity.name.function.definition",)
        if parent == "call" and path[-1].children[0] is token:
            return ("support.function.", "entity.name.function.call")
        if parent == "name" and len(path) > 1 and str(path[-2].data) in WINDOWS:
            return ("variable.other.constant.anchor",)
        return ("variable.other",)
    if re.fullmatch(r"[A-Za-z_]+", token):
        return KEYWORD_SCOPES
    return ("punctuation.", "keyword.operator.")


@functools.cache
def _lexer() -> tuple[Lark, list[Token]]:
    """critlang's parser as ``critlang.syntax.parser`` builds it, keeping every token (keywords
    and punctuation too) and collecting the comments in the list it returns."""
    comments: list[Token] = []
    parser = Lark(
        LARK.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        keep_all_tokens=True,
        propagate_positions=True,
        lexer_callbacks={"COMMENT": comments.append},
    )
    return parser, comments


def _lexer_tokens(text: str) -> list[tuple[Token, list[Tree[Token]]]]:
    """Each token of ``text`` and the rules it stands in, the innermost last."""
    parser, comments = _lexer()
    comments.clear()
    tree = parser.parse(text)
    found: list[tuple[Token, list[Tree[Token]]]] = [(comment, []) for comment in comments]

    def walk(tree: Tree[Token], path: list[Tree[Token]]) -> None:
        for child in tree.children:
            if isinstance(child, Token):
                found.append((child, [*path, tree]))
            elif isinstance(child, Tree):
                walk(child, [*path, tree])

    walk(tree, [])
    return found


def _code_points(line: str, utf16: int) -> int:
    """The index in ``line`` of a UTF-16 offset (vscode-textmate counts in UTF-16 code units)."""
    return len(line.encode("utf-16-le")[: 2 * utf16].decode("utf-16-le"))


def test_the_grammar_agrees_with_the_lexer_on_the_real_files(built: Built) -> None:
    """Every token critlang's lexer reads in the examples and the standard dictionary gets the
    TextMate scope of its kind: a NAME is a variable (or an anchor, a declared name, a criterion ID,
    a function), a QUANTITY a number then a unit, a keyword a keyword, and so on."""
    node = shutil.which("node")
    assert node is not None
    files = [str(path) for path in REAL_FILES]
    dumped = json.loads(
        _run([node, "test/tokenize.js", "--json", *files], built.folder, timeout=120)
    )
    wrong: list[str] = []
    for file in files:
        text = Path(file).read_text(encoding="utf-8")
        lines = text.split("\n")
        pieces: dict[int, list[tuple[int, int, list[str]]]] = {}
        for line, start, end, scopes in dumped[file]:
            row = lines[line - 1]
            pieces.setdefault(line, []).append(
                (_code_points(row, start), _code_points(row, end), scopes)
            )
        for token, path in _lexer_tokens(text):
            assert token.line is not None
            assert token.end_line is not None
            expected = _expected(token, path)
            found: list[list[str]] = []
            for line in range(token.line, token.end_line + 1):
                first = token.column - 1 if line == token.line else 0
                last = token.end_column - 1 if line == token.end_line else len(lines[line - 1])
                for start, end, scopes in pieces[line]:
                    if (
                        start < last
                        and end > first
                        and lines[line - 1][max(start, first) : min(end, last)].strip()
                    ):
                        found.append(scopes)
            if token.type == "QUANTITY":
                right = (
                    bool(found)
                    and "constant.numeric.critlang" in found[0]
                    and "keyword.other.unit.critlang" in found[-1]
                )
            else:
                right = bool(found) and all(
                    any(fragment in scope for scope in scopes for fragment in expected)
                    for scopes in found
                )
            if not right:
                where = f"{Path(file).relative_to(ROOT)}:{token.line}:{token.column}"
                wrong.append(
                    f"{where} {token.type} {str(token)[:40]!r}: {expected} but {[s[1:] for s in found]}"
                )
    assert not wrong, "\n".join(wrong[:30])
