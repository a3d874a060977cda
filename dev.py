"""Set up a virtual environment and run the example admin or the test suite.

Needs only Python 3.10+ and access to PyPI::

    python3 dev.py example   # serve the example admin on http://127.0.0.1:5000/admin/
    python3 dev.py test      # run the whole test suite (extra arguments go to pytest)
"""

from __future__ import annotations

import pathlib
import subprocess
import sys
import venv

ROOT = pathlib.Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def install(*requirements: str) -> None:
    """Create ``.venv`` if needed and install this project into it, editable."""
    if not PYTHON.exists():
        venv.create(VENV, with_pip=True)
        run(str(PYTHON), "-m", "pip", "install", "--quiet", "--upgrade", "pip")

    run(str(PYTHON), "-m", "pip", "install", "--quiet", "-e", str(ROOT), *requirements)


def run(*command: str) -> None:
    """Run a command from the project root; stop with its exit code if it fails."""
    result = subprocess.run(command, cwd=ROOT)

    if result.returncode:
        raise SystemExit(result.returncode)


def main(argv: list[str]) -> None:
    """Dispatch ``example`` or ``test``."""
    if not argv or argv[0] not in {"example", "test"}:
        raise SystemExit(__doc__)

    if argv[0] == "example":
        install("--group", "example")
        run(str(PYTHON), "examples/sqla_lite/app.py", *argv[1:])
    else:
        install("--group", "tests")
        run(str(PYTHON), "-m", "pytest", *argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
