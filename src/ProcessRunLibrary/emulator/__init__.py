"""A local Control Room emulator: the Process Run API over real HTTP, for tests.

Start it with ``processrun-emulator`` or ``python -m ProcessRunLibrary.emulator``; see
docs/emulator.md. Only the server needs aiohttp; this package imports nothing from the
library's keywords or client.
"""
