"""The process :mod:`benchmarks.instructions` runs under callgrind.

Run as ``python -m benchmarks.counted URL VARIANT PAGES VIEWS ROWS WARM_UP
REQUESTS`` from the checkout mounted at :data:`benchmarks.instructions.MOUNT`.
The package is imported from there, not from where an editable install points,
so that every path the process holds is the same whichever directory the
checkout is in.
"""

from __future__ import annotations

import ctypes
import gc
import pathlib
import sys

import flask_admin.contrib

flask_admin.contrib.__path__.insert(
    0, str(pathlib.Path(__file__).parents[1] / "flask_admin" / "contrib")
)

from .instructions import Setup  # noqa: E402 - after the path above
from .variants import BY_NAME  # noqa: E402
from .variants import request_page  # noqa: E402


def child(setup: Setup, url: str) -> None:
    """Count each page's requests from a ``ctypes`` callback; print the pages
    in the order callgrind dumps them."""
    bench = BY_NAME[setup.variant].build(url, setup.views)
    bench.person_view.page_size = setup.page_size
    # No cookies: flashed messages would pile up in the session cookie.
    client = bench.app.test_client(use_cookies=False)
    page = ""

    def measured() -> None:
        for _ in range(setup.requests):
            request_page(client, page)

    callback = ctypes.CFUNCTYPE(None)(measured)

    for page in setup.pages:
        for _ in range(setup.warm_up):
            request_page(client, page)

        gc.collect()
        gc.disable()
        callback()
        gc.enable()
        print(page, flush=True)

    bench.dispose()


if __name__ == "__main__":
    child(Setup.parse(sys.argv[2:]), sys.argv[1])
