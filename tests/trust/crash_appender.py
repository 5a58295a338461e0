"""Child process of test_crash: appends batches and publishes checkpoints until killed.

Prints ``cp <size>`` after each checkpoint is stored (published).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from twinverse.trust.keys import KeyPair
from twinverse.trust.log import EntryKind, Ledger
from twinverse.trust.note import NoteSigner

SIGNER = NoteSigner("twinverse.test/crash", KeyPair.from_seed(bytes(range(32))))


def main() -> None:
    path = Path(sys.argv[1])
    with Ledger(path, SIGNER, clock=time.time_ns).open() as log:
        n = log.size
        while True:
            batch = [f"{n + i}".encode() for i in range(500)]
            log.append_data(EntryKind.NOTE, batch)
            n += len(batch)
            if (n // 500) % 3 == 0:
                published = log.checkpoint()
                print(f"cp {published.checkpoint.size}", flush=True)


if __name__ == "__main__":
    main()
