"""Parses every .swift file under ios/ with tree-sitter's Swift grammar; fails on any error.

A syntax check only: it proves each file is well-formed Swift as the grammar reads it (no
stray braces, half-written declarations), not that it type-checks, links against the
bindings, or runs. That needs a Swift toolchain and Xcode, which this machine lacks.
"""

import pathlib
import sys

import tree_sitter
import tree_sitter_swift

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "ios")
parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_swift.language()))
files = sorted(root.rglob("*.swift"))
bad = 0


def problems(node):
    if node.is_error or node.is_missing:
        yield node
    elif node.has_error:
        for child in node.children:
            yield from problems(child)


for path in files:
    tree = parser.parse(path.read_bytes())
    for node in problems(tree.root_node):
        bad += 1
        line, col = node.start_point
        kind = "missing " + node.type if node.is_missing else "cannot parse"
        print(f"{path}:{line + 1}:{col + 1}: {kind}", file=sys.stderr)
if not files:
    sys.exit(f"no .swift files under {root}")
print(f"{len(files)} Swift files parse{'' if bad == 0 else f'; {bad} errors'}")
sys.exit(1 if bad else 0)
