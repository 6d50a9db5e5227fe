#!/usr/bin/env python3
"""Fails when a comment or document cites a document that is not in the
repository: someone who clones it must be able to follow every citation.

Reads the comments of every source file the repository tracks (C++,
Python, shell, CMake, Makefile; Python docstrings count as comments) and
the whole text of every Markdown file but its fenced code blocks, and
looks for
  - names of Markdown files (ending in ".md") and paths under the docs
    folder: each must name a file or folder of the repository, relative to
    its root or to the citing file's folder (as Markdown links are);
  - citations of a specification by section ("SPEC" and a section number),
    which the repository does not hold: cite docs/formats.md instead.
Addresses (`https://...`) lead outside the repository and are not checked,
nor is vendored third-party data (tests/data/age-cctv), nor the names of
files the tools write (GENERATED).

Usage: check_references.py SOURCE_DIR
Prints one line per dangling citation, "path:line: what", and exits 1 if
there is any (2 for bad usage).
"""
import io
import os
import re
import subprocess
import sys
import tokenize

# Files that tools write, named in their comments: not citations.
GENERATED = {
    "results.md": "bench/run.sh and bench/summarize.py write it into their output folder",
}
SKIPPED_FOLDERS = ("tests/data/age-cctv/",)

CPP_SUFFIXES = (".cpp", ".hpp", ".h", ".c", ".cc")
HASH_COMMENT_SUFFIXES = (".sh", ".cmake", ".in", ".yml", ".yaml")
HASH_COMMENT_NAMES = {"CMakeLists.txt", "Makefile"}

URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")
MARKDOWN_FILE = re.compile(r"(?<![\w./*$-])((?:[\w.-]+/)*[\w.-]+\.md)(?![\w-])")
DOCS_PATH = re.compile(r"(?<![\w./$-])(docs/[\w./-]*[\w/])")
SPEC_SECTION = re.compile(r"\bSPEC\s*(?:§|section\s+)?\d")


def tracked_files(root):
    """The repository's files, relative to root: git's index when root is a
    checkout, else every file under root but build trees."""
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-z"], capture_output=True, check=True)
        files = [f for f in out.stdout.decode("utf-8", "surrogateescape").split("\0") if f]
        if files:
            return files
    except (OSError, subprocess.CalledProcessError):
        pass
    files = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git" and not d.startswith("build")]
        files += [os.path.relpath(os.path.join(folder, n), root) for n in names]
    return files


def cpp_comments(text):
    """(line number, text) of each comment line of C or C++ source; string,
    character and raw string literals are skipped."""
    out, i, line, n = [], 0, 1, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append((line, text[i:end]))
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            for k, part in enumerate(text[i:end].split("\n")):
                out.append((line + k, part))
            line += text.count("\n", i, end)
            i = end
        elif c == "R" and i + 1 < n and text[i + 1] == '"' and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            open_paren = text.find("(", i + 2)
            delimiter = text[i + 2:open_paren]
            end = text.find(")" + delimiter + '"', open_paren)
            end = n if end < 0 or open_paren < 0 else end + len(delimiter) + 2
            line += text.count("\n", i, end)
            i = end
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            i = j + 1
        else:
            i += 1
    return out


def hash_comments(text):
    """(line number, text) of each '#' comment (shell, CMake, Makefile)."""
    out = []
    for number, line in enumerate(text.split("\n"), 1):
        m = re.search(r"(^|\s)#", line)
        if m:
            out.append((number, line[m.end() - 1:]))
    return out


def python_comments(text):
    """(line number, text) of each comment and docstring line of Python."""
    out = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return hash_comments(text)
    for tok in tokens:
        if tok.type == tokenize.COMMENT:
            out.append((tok.start[0], tok.string))
        elif tok.type == tokenize.STRING and tok.string.lstrip("rRbBuUfF").startswith(('"""', "'''")):
            for k, part in enumerate(tok.string.split("\n")):
                out.append((tok.start[0] + k, part))
    return out


def markdown_text(text):
    """(line number, text) of each line of Markdown outside fenced code."""
    out, fenced = [], False
    for number, line in enumerate(text.split("\n"), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            out.append((number, line))
    return out


def is_python(path, text):
    return path.endswith(".py") or text.startswith("#!") and "python" in text.split("\n", 1)[0]


def commentary(path, text):
    """The lines of `path` that are comments or documentation."""
    name = os.path.basename(path)
    if name.endswith(".md"):
        return markdown_text(text)
    if name.endswith(CPP_SUFFIXES):
        return cpp_comments(text)
    if is_python(path, text):
        return python_comments(text)
    if name.endswith(HASH_COMMENT_SUFFIXES) or name in HASH_COMMENT_NAMES or text.startswith("#!"):
        return hash_comments(text)
    return []


def dangling(root, files):
    """(path, line number, message) of each citation that names nothing in
    the repository."""
    present = set(files)
    folders = set()
    for f in files:
        d = os.path.dirname(f)
        while d and d not in folders:
            folders.add(d)
            d = os.path.dirname(d)

    def exists(rel):
        rel = os.path.normpath(rel)
        return rel in present or rel in folders

    found = []
    for path in sorted(files):
        if path.startswith(SKIPPED_FOLDERS):
            continue
        try:
            with open(os.path.join(root, path), encoding="utf-8") as f:
                text = f.read()
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue
        here = os.path.dirname(path)
        for number, line in commentary(path, text):
            line = URL.sub(" ", line)
            cited = set()
            for pattern in (MARKDOWN_FILE, DOCS_PATH):
                cited |= {m.group(1).rstrip(".") for m in pattern.finditer(line)}
            for c in sorted(cited):
                if os.path.basename(c) in GENERATED:
                    continue
                if not (exists(c) or exists(os.path.join(here, c))):
                    found.append((path, number, "cites " + c + ", which is not in the repository"))
            if SPEC_SECTION.search(line):
                found.append((path, number, "cites a SPEC section, which is not in the repository "
                                            "(cite docs/formats.md, or say what it says)"))
    return found


def main(argv):
    if len(argv) != 2:
        print("usage: check_references.py SOURCE_DIR", file=sys.stderr)
        return 2
    root = argv[1]
    found = dangling(root, tracked_files(root))
    for path, number, message in found:
        print(f"{path}:{number}: {message}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
