"""The reference checker on a scratch tree (no git: every file counts):
it reports dangling citations in comments and documents, and leaves alone
what is not a citation (string literals, addresses, code blocks, files
that exist)."""
import os
import shutil
import tempfile
import unittest

import check_references


class CheckReferencesTest(unittest.TestCase):
    def tree(self, files):
        root = tempfile.mkdtemp(prefix="check-references-")
        self.addCleanup(shutil.rmtree, root)
        for path, text in files.items():
            os.makedirs(os.path.join(root, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(root, path), "w", encoding="utf-8") as f:
                f.write(text)
        return root, check_references.dangling(root, check_references.tracked_files(root))

    def test_dangling_citations_are_reported(self):
        _, found = self.tree({
            "docs/formats.md": "# Formats\nSee [design](design.md) and NOTES.md.\n",
            "src/a.cpp": "int x;  // the layout (FORMATS.md §1)\n/* and docs/missing.md */\n",
            "src/b.hpp": "// a destination (SPEC §9)\n",
            "tools/c.py": '"""Reads what docs/gone/ says."""\n# see OLD.md\n',
            "scripts/d.sh": "#!/bin/sh\n# as SPEC section 3 says\necho hi\n",
        })
        self.assertEqual(sorted((p, n) for p, n, _ in found), [
            ("docs/formats.md", 2), ("docs/formats.md", 2),
            ("scripts/d.sh", 2),
            ("src/a.cpp", 1), ("src/a.cpp", 2),
            ("src/b.hpp", 1),
            ("tools/c.py", 1), ("tools/c.py", 2),
        ])
        self.assertIn("cites FORMATS.md", " ".join(m for _, _, m in found))

    def test_what_is_not_a_dangling_citation_passes(self):
        _, found = self.tree({
            "README.md": "See docs/formats.md §8, [it](docs/formats.md), bench/README.md,\n"
                         "https://example.org/docs/x.md and the docs/ folder.\n"
                         "```\nbakthat backup docs/nothing.md\n```\n",
            "docs/formats.md": "Back to [the README](../README.md).\n",
            "bench/README.md": "Writes results.md into its output folder.\n",
            "src/a.cpp": 'const char* p = "docs/a.pdf";  // docs/formats.md §1\n'
                         'const char* q = R"(x "docs/y.md" ")";\n',
            "tools/b.py": 'NAME = "docs/z.md"\n',
        })
        self.assertEqual(found, [])


if __name__ == "__main__":
    unittest.main()
