"""Kept-alive connections to webhook receivers: reused for the address the egress guard has just
checked, never for another. A real receiver on loopback tells the connections apart by port."""

from __future__ import annotations

import socket

from services.webhooks import sender


def _send(receiver, pool, address: str = "127.0.0.1") -> sender.Outcome:
    port = receiver.url.split(":")[2].split("/")[0]
    url = f"http://hooks.example:{port}/hooks"
    return sender.send(url, b"{}", {"webhook-id": "msg_1"}, allow_private=True, resolver=lambda h: [address], pool=pool)


def test_deliveries_to_one_address_share_a_connection(receiver):
    pool = sender.Pool()
    outcomes = [_send(receiver, pool) for _ in range(3)]
    assert [o.status_code for o in outcomes] == [200, 200, 200]
    got = receiver.wait(3)
    assert len({r.port for r in got}) == 1
    pool.close()


def test_a_name_that_resolves_elsewhere_gets_a_new_connection_not_the_kept_one(receiver):
    pool = sender.Pool()
    assert _send(receiver, pool).ok
    # the name now resolves to 127.0.0.2, where nothing listens: the connection kept to
    # 127.0.0.1 is not used for it, so the attempt fails and the receiver sees nothing more
    moved = _send(receiver, pool, "127.0.0.2")
    assert moved.status_code is None and "Connection" in (moved.error or "")
    assert len(receiver.received) == 1
    assert _send(receiver, pool).ok  # back at the checked address: the kept connection again
    got = receiver.wait(2)
    assert got[0].port == got[1].port
    pool.close()


def test_a_kept_connection_the_peer_dropped_is_replaced_and_the_message_sent_once(receiver):
    pool = sender.Pool()
    assert _send(receiver, pool).ok
    key = ("http", "hooks.example", int(receiver.url.split(":")[2].split("/")[0]), "127.0.0.1")
    conn = pool.take(key)
    assert conn is not None and conn.sock is not None
    conn.sock.shutdown(socket.SHUT_RDWR)  # as if the receiver had closed it while it was idle
    pool.give(key, conn)
    assert _send(receiver, pool).ok
    got = receiver.wait(2)
    assert len(got) == 2 and got[0].port != got[1].port
    pool.close()
