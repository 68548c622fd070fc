"""The WeCom calendar and schedule API: an async client, typed models, errors."""

import sys

# httpx loads its own command line (rich, pygments) with itself when those are
# installed: about 40 ms of every `wesync sync`, which never runs it. A None entry
# makes that import fail, and httpx then defines a stub `httpx.main` instead.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
