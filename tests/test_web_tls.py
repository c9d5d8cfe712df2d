"""The browser client over TLS: with a certificate and key configured, the page is https and
play is wss, on the same web port. A throwaway self-signed certificate made with openssl."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from mud.config import Settings
from tests.conftest import start_in_process

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl here")


def self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


async def test_https_page_and_wss_play(tmp_path: Path) -> None:
    from websockets.asyncio.client import connect

    cert, key = self_signed(tmp_path)
    settings = Settings(host="127.0.0.1", port=0, db=f"sqlite:///{tmp_path / 'tls.db'}")
    settings.link.socket = str(tmp_path / "link" / "engine.sock")
    settings.web.tls_cert, settings.web.tls_key = str(cert), str(key)
    app, gateway = await start_in_process(settings)
    try:
        port = gateway.web.port
        trust = ssl.create_default_context(cafile=str(cert))
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, ssl=trust, server_hostname="localhost"
        )
        writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)).decode()
        writer.close()
        assert head.startswith("HTTP/1.1 200") and "Content-Security-Policy" in head
        # plain http on the TLS port gets nothing it can use
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        got = await asyncio.wait_for(reader.read(200), 5)
        writer.close()
        assert b"HTTP/1.1 200" not in got
        url = f"wss://localhost:{port}/ws"
        async with connect(url, ssl=trust, subprotocols=["telnet.mudstandards.org"]) as ws:  # type: ignore[list-item]
            seen = b""
            while b"Name:" not in seen:
                seen += await asyncio.wait_for(ws.recv(), 5)  # type: ignore[operator]
            await ws.send(b"create Tls secretpass\r\n")
            while b"Exits:" not in seen:
                seen += await asyncio.wait_for(ws.recv(), 5)  # type: ignore[operator]
    finally:
        await app.stop()
        await asyncio.wait_for(gateway.stopped.wait(), 5)
