"""Reading the S1 prints back: text per page (pdftotext), fonts (pdffonts), and the QR codes
decoded from the rendered page (pdftoppm, then zbarimg from zbar-tools)."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

POPPLER = all(shutil.which(t) for t in ("pdffonts", "pdftotext", "pdftoppm"))
ZBAR = shutil.which("zbarimg") is not None


def _run(*argv: str) -> str:
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


class Pdf:
    """`with Pdf(data) as pdf:` the PDF written to a temporary file, read with poppler."""

    def __init__(self, data: bytes) -> None:
        assert data.startswith(b"%PDF-"), data[:20]
        self.data = data

    def __enter__(self) -> Pdf:
        self._dir = tempfile.TemporaryDirectory(prefix="s1-pdf-")
        self.dir = Path(self._dir.name)
        self.path = self.dir / "doc.pdf"
        self.path.write_bytes(self.data)
        return self

    def __exit__(self, *exc: object) -> None:
        self._dir.cleanup()

    def pages(self) -> list[str]:
        """The text of each page (`pdftotext -layout`: pages end with a form feed)."""
        return _run("pdftotext", "-layout", str(self.path), "-").split("\f")[:-1]

    def assert_cjk_embedded(self) -> None:
        """Every font is Noto Sans CJK and embedded (or Chinese prints as empty boxes)."""
        rows = _run("pdffonts", str(self.path)).splitlines()[2:]
        found = [(row.split()[0], row.split()[-5]) for row in rows if row.strip()]
        assert found, "no fonts in the PDF"
        assert all("Noto-Sans-CJK" in name and emb == "yes" for name, emb in found), found

    def qr_codes(self, page: int = 1) -> list[str]:
        """What the QR codes printed on `page` say, read from a 200 dpi picture of it."""
        prefix = self.dir / f"page{page}"
        _run(
            "pdftoppm",
            "-png",
            "-r",
            "200",
            "-f",
            str(page),
            "-l",
            str(page),
            str(self.path),
            str(prefix),
        )
        (png,) = self.dir.glob(f"page{page}*.png")
        out = subprocess.run(
            ["zbarimg", "-q", "--raw", "-Sdisable", "-Sqrcode.enable", str(png)],
            capture_output=True,
            text=True,
            check=False,
        )
        return out.stdout.splitlines()


@contextlib.contextmanager
def spy_qr() -> Iterator[list[str]]:
    """Record what the purchasing prints ask the QR code to encode (and still draw it)."""
    from suite.printing import qr_data_uri

    encoded: list[str] = []

    def spy(data: str, **kw: Any) -> str:
        encoded.append(data)
        return qr_data_uri(data, **kw)

    with mock.patch("modules.purchasing.views.prints.qr_data_uri", spy):
        yield encoded
