"""A throwaway certificate authority for the TLS suite, made with trustme."""

from __future__ import annotations

from pathlib import Path

import trustme


class TlsFiles:
    ROBOT_LIBRARY_SCOPE = "SUITE"

    def create_test_certificates(self, directory: str) -> dict[str, str]:
        """Writes into ``directory`` and returns their paths: ``ca`` (the CA's certificate),
        ``cert`` and ``key`` (the server's, for 127.0.0.1 and localhost) and ``other_ca``
        (a CA that signed nothing here)."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        ca = trustme.CA()
        server = ca.issue_cert("127.0.0.1", "localhost")
        paths = {name: str(folder / f"{name}.pem") for name in ("ca", "cert", "key", "other_ca")}
        ca.cert_pem.write_to_path(paths["ca"])
        server.cert_chain_pems[0].write_to_path(paths["cert"])
        server.private_key_pem.write_to_path(paths["key"])
        trustme.CA().cert_pem.write_to_path(paths["other_ca"])
        return paths
