"""Add zh_CN translations to the catalog: `python scripts/translate.py 'English=中文' ...`.

Then `make translations`. Run `make extract-messages` first so the new msgids exist.
"""

from __future__ import annotations

import sys

from babel.messages.pofile import read_po, write_po

CATALOG = "translations/zh_Hans_CN/LC_MESSAGES/messages.po"


def main(pairs: list[str]) -> None:
    with open(CATALOG, "rb") as fh:
        catalog = read_po(fh)
    for pair in pairs:
        source, _, target = pair.partition("=")
        msg = catalog.get(source)
        if msg is None:
            catalog.add(source, target)
        else:
            msg.string = target
            msg.flags.discard("fuzzy")
    with open(CATALOG, "wb") as fh:
        write_po(fh, catalog, sort_output=True, width=100)


if __name__ == "__main__":
    main(sys.argv[1:])
