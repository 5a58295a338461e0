"""RDF Dataset Canonicalization (RDFC-1.0) of JSON-LD documents, for ``eddsa-rdfc-2022``.

The canonicaliser is PyLD's (``URDNA2015``, the algorithm RDFC-1.0 standardised).
JSON-LD contexts are never fetched: the ones twinverse ships are in
``contexts/`` (the W3C Verifiable Credentials v2 context as published in
Digital Bazaar's ``@digitalbazaar/credentials-context`` 3.2.0 under the W3C
Software and Document License, the one-line examples v2 vocabulary, and
twinverse's own supplier-claims vocabulary); a document naming any other context
is refused with its URL.

JSON-LD silently drops a term no context defines, so a claim outside the
contexts would not be signed at all. Canonicalisation therefore refuses such
documents (the "safe mode" vc-di-eddsa asks for): the document is also
expanded with a sentinel ``@vocab`` before its contexts, and any term that
lands in the sentinel's namespace is named in the error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any, Final

from twinverse.trust.errors import TrustFormatError

SHIPPED: Final = {
    "https://www.w3.org/ns/credentials/v2": "credentials-v2.jsonld",
    "https://www.w3.org/ns/credentials/examples/v2": "credentials-examples-v2.jsonld",
    "https://twinverse.example/ns/supplier/v1": "twinverse-supplier-v1.jsonld",
}
_UNDEFINED: Final = "urn:twinverse:undefined-term#"


@cache
def _context(name: str) -> dict[str, Any]:
    text = resources.files("twinverse.trust").joinpath("contexts", name).read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


class ContextNotShippedError(TrustFormatError):
    code = "context-not-shipped"


def _loader(url: str, options: object = None) -> dict[str, Any]:
    name = SHIPPED.get(url)
    if name is None:
        raise ContextNotShippedError(
            f"JSON-LD context {url!r} is not shipped with twinverse, and contexts are never "
            f"fetched; shipped: {', '.join(SHIPPED)}"
        )
    return {"contextUrl": None, "documentUrl": url, "document": _context(name)}


def canonical_nquads(document: Mapping[str, Any]) -> bytes:
    """The canonical N-Quads (RDFC-1.0) of a JSON-LD document, UTF-8; refuses undefined terms."""
    context = document.get("@context", [])
    # First, so that any @vocab of the document's own contexts still wins over it.
    contexts = context if isinstance(context, list) else [context]
    probe = {**document, "@context": [{"@vocab": _UNDEFINED}, *contexts]}
    expanded = json.dumps(_jsonld("expand", probe, {"documentLoader": _loader}))
    undefined = sorted(set(re.findall(re.escape(_UNDEFINED) + r'([^"]+)"', expanded)))
    if undefined:
        raise TrustFormatError(
            f"terms not defined by the document's contexts (JSON-LD would drop them unsigned): "
            f"{', '.join(undefined)}"
        )
    options = {"algorithm": "URDNA2015", "format": "application/n-quads"}
    text = _jsonld("normalize", document, {**options, "documentLoader": _loader})
    if not isinstance(text, str):
        raise TrustFormatError("RDFC-1.0 canonicalisation did not produce N-Quads")
    return text.encode("utf-8")


def _jsonld(operation: str, document: Mapping[str, Any], options: dict[str, Any]) -> Any:
    from pyld import jsonld  # imported here: only this cryptosuite needs it

    try:
        return getattr(jsonld, operation)(dict(document), options)
    except jsonld.JsonLdError as err:
        cause: BaseException | None = err
        while cause is not None:  # PyLD wraps our loader's error; say what it said
            if isinstance(cause, ContextNotShippedError):
                raise cause from None
            cause = getattr(cause, "cause", None) or cause.__cause__
        raise TrustFormatError(f"not canonicalisable as JSON-LD (RDFC-1.0): {err}") from err
