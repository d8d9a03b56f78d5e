"""UDP GSO's plumbing: the probe, the control message, which sockets may batch."""

from __future__ import annotations

import asyncio
import socket
import struct

import pytest

from mobile_bridge.film import gso


def test_this_kernel_splits_a_batch_and_the_probe_runs_once():
    assert gso.supported() is gso.supported()
    if not gso.supported():
        pytest.skip("this kernel has no UDP GSO")
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx,
    ):
        rx.bind(("127.0.0.1", 0))
        rx.settimeout(5)
        tx.sendmsg([bytes(range(250)) * 2], gso.control(200), 0, rx.getsockname())
        assert [len(rx.recv(1024)) for _ in range(3)] == [200, 200, 100]
    assert gso.control(1340) == [(17, 103, struct.pack("=H", 1340))]
    assert gso.control(1340) is gso.control(1340)  # made once per size


@pytest.mark.asyncio
async def test_only_an_unconnected_udp_socket_or_one_connected_to_the_peer_may_batch():
    endpoint = asyncio.get_running_loop().create_datagram_endpoint
    peer = ("127.0.0.1", 9)
    free, _ = await endpoint(asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0))
    to_peer, _ = await endpoint(asyncio.DatagramProtocol, remote_addr=peer)
    elsewhere, _ = await endpoint(asyncio.DatagramProtocol, remote_addr=("127.0.0.1", 10))
    try:
        sock = gso.datagram_socket(free, peer)
        assert isinstance(sock, socket.socket)
        assert sock.fileno() == free.get_extra_info("socket").fileno()
        assert gso.datagram_socket(to_peer, peer) is not None
        assert gso.datagram_socket(elsewhere, peer) is None
    finally:
        for transport in (free, to_peer, elsewhere):
            transport.close()


def test_a_refusal_is_logged_once(monkeypatch, caplog):
    monkeypatch.setattr(gso, "_noted", False)
    gso.note_refused(OSError(22, "Invalid argument"))
    gso.note_refused(OSError(5, "Input/output error"))
    assert caplog.text.count("film-gso-refused") == 1
