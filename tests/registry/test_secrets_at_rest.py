"""No plaintext API key, nor any part of its secret, is anywhere in the database: not in its\nrow, and not in the answer kept for an Idempotency-Key replay (sealed under CHARTER_SECRET_KEY)."""

import pytest
import sqlalchemy as sa

from tests.helpers import create_tenant


@pytest.mark.parametrize("store", ["sqlite", "postgres"], indirect=True)
def test_no_plaintext_secret_in_any_table(store, client):
    t = create_tenant(client)
    keyed = {"Idempotency-Key": "secret-check"}
    body = {"tenant_id": t["id"], "name": "secret-check"}
    plaintext = client.post("/v1/api-keys", json=body, headers=keyed).json()["plaintext"]
    # the answer is kept for replays (sealed), so the plaintext is served again but not stored
    assert client.post("/v1/api-keys", json=body, headers=keyed).json()["plaintext"] == plaintext
    assert client.post("/v1/internal/api-keys/verify", json={"key": plaintext}).json()["valid"]
    secret_part = plaintext[11:]  # what the stored display prefix does not show
    dump = []
    with store.engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                dump.append(" ".join(str(v) for v in row))
    text = "\n".join(dump)
    assert "secret-check" in text and plaintext[:11] in text  # the dump really holds the key row
    assert plaintext not in text and secret_part not in text
    assert "sha256|" in text
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM kept_answers")).scalar_one() >= 1
