"""The real Paybond Kit client against the real app, served over HTTP.

paybond-kit on PyPI ships only maturin sdists whose Rust part needs crates.io, so it cannot be
pip-installed here. Release 0.6.1 is the last with the harbor-access exchange, and the two modules
this test drives, `paybond_kit/credentials.py` (GatewayHarborTokenProvider, GatewayAuthError) and
`paybond_kit/signal.py` (ServiceAccountSignalSession, which resolves its tenant with GET
/v1/auth/principal and the raw key), need only httpx. So the sdist is downloaded at test time
(checked against its sha256, cached under ~/.cache/charter-tests), those two modules are
extracted to a temporary directory and imported, unchanged, as a synthetic `paybond_kit`
package (without the Kit's native __init__). No Kit code is kept in this repository.

Without network the tests skip, unless CHARTER_REQUIRE_KIT is set: then they fail.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import os
import sys
import tarfile
import types
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from tests.helpers import ADMIN, assert_error, audit, bearer, create_key, create_tenant
from tools.server import running

KIT_VERSION = "0.6.1"
KIT_URL = (
    "https://files.pythonhosted.org/packages/d2/0e/f4947de8690853dbdf49c92a553eaaa2e897c6094fb8acee915a4196e5cb/"
    f"paybond_kit-{KIT_VERSION}.tar.gz"
)
KIT_SHA256 = "5fb6df476c3e7048033ac018a34a9e5578dd7a8ab3df3aabc383c819b7ae4933"
KIT_MODULES = ("credentials.py", "signal.py")
REQUIRE_KIT = bool(os.environ.get("CHARTER_REQUIRE_KIT"))


class KitUnavailable(Exception):
    pass


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "charter-tests"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _sdist() -> bytes:
    """The verified sdist, from the cache or downloaded into it. KitUnavailable when it cannot
    be downloaded; a checksum mismatch is never skipped."""
    cached = _cache_dir() / f"paybond_kit-{KIT_VERSION}.tar.gz"
    if cached.is_file():
        data = cached.read_bytes()
        if _sha256(data) == KIT_SHA256:
            return data
        cached.unlink()  # a damaged cache: fetch again
    try:
        with urllib.request.urlopen(KIT_URL, timeout=60) as response:
            data = response.read()
    except OSError as exc:  # URLError, HTTPError, timeouts
        raise KitUnavailable(f"cannot download {KIT_URL}: {exc}") from None
    digest = _sha256(data)
    if digest != KIT_SHA256:
        pytest.fail(f"{KIT_URL} has sha256 {digest}, expected {KIT_SHA256}: refusing to run it")
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f"{cached.name}.{os.getpid()}.part")
        partial.write_bytes(data)
        os.replace(partial, cached)
    except OSError:
        pass  # an unwritable cache only costs a download next time
    return data


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    """The Kit's credentials and signal modules, imported as paybond_kit.credentials/.signal."""
    try:
        data = _sdist()
    except KitUnavailable as exc:
        if REQUIRE_KIT:
            pytest.fail(f"Paybond Kit {KIT_VERSION} is required (CHARTER_REQUIRE_KIT) but unavailable: {exc}")
        pytest.skip(f"Paybond Kit {KIT_VERSION} unavailable: {exc}")
    package_dir = tmp_path_factory.mktemp("kit") / "paybond_kit"
    package_dir.mkdir()
    archive = tmp_path_factory.mktemp("kit-sdist") / "sdist.tar.gz"
    archive.write_bytes(data)
    with tarfile.open(archive) as tar:
        for name in KIT_MODULES:
            member = tar.getmember(f"paybond_kit-{KIT_VERSION}/src/paybond_kit/{name}")
            source = tar.extractfile(member)
            assert source is not None
            (package_dir / name).write_bytes(source.read())

    def ours(name: str) -> bool:
        return name == "paybond_kit" or name.startswith("paybond_kit.")

    saved = {name: module for name, module in sys.modules.items() if ours(name)}
    for name in saved:
        del sys.modules[name]
    package = types.ModuleType("paybond_kit")
    package.__path__ = [str(package_dir)]
    package.__package__ = "paybond_kit"
    sys.modules["paybond_kit"] = package
    importlib.invalidate_caches()
    try:
        credentials = importlib.import_module("paybond_kit.credentials")
        signal = importlib.import_module("paybond_kit.signal")
        assert Path(credentials.__file__).parent == package_dir
        # signal.py uses the Kit's own error type, by its own import
        assert signal.GatewayAuthError is credentials.GatewayAuthError
        yield SimpleNamespace(credentials=credentials, signal=signal)
    finally:
        for name in [n for n in sys.modules if ours(n)]:
            del sys.modules[name]
        sys.modules.update(saved)


@pytest.fixture
def served(app):
    """The real app on a loopback port, and an admin client talking to it over HTTP."""
    with running(app) as base, httpx.Client(base_url=base, headers=ADMIN, timeout=30) as admin:
        yield SimpleNamespace(base=base, admin=admin)


def _key(admin, scopes=("tenants:read",)) -> tuple[dict, dict]:
    tenant = create_tenant(admin)
    return tenant, create_key(admin, tenant["id"], scopes=list(scopes))


def _get_tenant(served, token: str, tenant_id: str) -> httpx.Response:
    return httpx.get(f"{served.base}/v1/tenants/{tenant_id}", headers=bearer(token), timeout=30)


def _minted(served) -> list[dict]:
    return audit(served.admin, action="auth.token_minted")


def test_the_kit_exchanges_a_key_at_harbor_access(kit, served, store):
    assert kit.credentials._DEFAULT_HARBOR_ACCESS_PATH == "/v1/auth/harbor-access"
    tenant, created = _key(served.admin)

    async def drive():
        provider = kit.credentials.GatewayHarborTokenProvider(
            gateway_base_url=served.base, api_key=created["plaintext"]
        )
        try:
            tenant_id = await provider.ensure_initial()
            first = await provider.bearer()
            cached = await provider.bearer()  # within expires_in minus the Kit's 90 s skew
            await provider.force_rotate()
            rotated = await provider.bearer()
            return tenant_id, provider.tenant_id, first, cached, rotated
        finally:
            await provider.aclose()

    tenant_id, remembered, first, cached, rotated = asyncio.run(drive())
    assert tenant_id == remembered == tenant["id"]
    assert cached == first, "the Kit re-exchanged at once: expires_in is not above its 90 s skew"
    assert rotated != first
    for token in (first, rotated):
        r = _get_tenant(served, token, tenant_id)
        assert r.status_code == 200, r.text
        assert r.json()["id"] == tenant["id"]
    events = _minted(served)
    assert len(events) == 2 and {e["target_id"] for e in events} == {created["api_key"]["id"]}


def test_the_kit_calls_the_harbor_access_path(kit, served, store):
    """The same exchange, with a recording httpx client handed to the Kit, to see what it sent."""
    tenant, created = _key(served.admin)
    sent: list[httpx.Request] = []

    async def record(request: httpx.Request):
        sent.append(request)

    async def drive():
        async with httpx.AsyncClient(timeout=30, event_hooks={"request": [record]}) as http:
            provider = kit.credentials.GatewayHarborTokenProvider(
                gateway_base_url=served.base + "/", api_key=f"  {created['plaintext']}\n", http_client=http
            )
            tenant_id = await provider.ensure_initial()
            return tenant_id, await provider.bearer()

    tenant_id, token = asyncio.run(drive())
    assert tenant_id == tenant["id"]
    assert [(r.method, r.url.path) for r in sent] == [("POST", "/v1/auth/harbor-access")]
    assert sent[0].headers["authorization"] == f"Bearer {created['plaintext']}"
    assert _get_tenant(served, token, tenant_id).status_code == 200


def test_the_kit_is_refused_with_a_revoked_key(kit, served, store):
    tenant, created = _key(served.admin)
    GatewayAuthError = kit.credentials.GatewayAuthError

    async def mint():
        provider = kit.credentials.GatewayHarborTokenProvider(
            gateway_base_url=served.base, api_key=created["plaintext"]
        )
        await provider.ensure_initial()
        return provider, await provider.bearer()

    async def after_revocation(provider):
        try:
            cached = await provider.bearer()  # the Kit still holds its token
            with pytest.raises(GatewayAuthError) as rotate:
                await provider.force_rotate()
            return cached, rotate.value
        finally:
            await provider.aclose()

    async def fresh():
        provider = kit.credentials.GatewayHarborTokenProvider(
            gateway_base_url=served.base, api_key=created["plaintext"]
        )
        try:
            with pytest.raises(GatewayAuthError) as initial:
                await provider.ensure_initial()
            return initial.value
        finally:
            await provider.aclose()

    loop = asyncio.new_event_loop()
    try:
        provider, token = loop.run_until_complete(mint())
        assert _get_tenant(served, token, tenant["id"]).status_code == 200
        assert served.admin.delete(f"/v1/api-keys/{created['api_key']['id']}").status_code == 204
        cached, on_rotate = loop.run_until_complete(after_revocation(provider))
    finally:
        loop.close()
    # the token the Kit already holds stops working at once
    assert cached == token
    assert_error(_get_tenant(served, cached, tenant["id"]), 401, "token_revoked")
    assert on_rotate.status_code == 401
    error = asyncio.run(fresh())
    assert isinstance(error, GatewayAuthError) and error.status_code == 401
    assert "invalid_api_key" in (error.body_text or "")
    assert len(_minted(served)) == 1  # the revoked key minted nothing


def test_the_kit_signal_session_resolves_its_tenant_with_the_raw_key(kit, served, store):
    tenant, created = _key(served.admin)
    GatewayAuthError = kit.credentials.GatewayAuthError

    async def open_session(api_key: str):
        session = await kit.signal.ServiceAccountSignalSession.open(gateway_base_url=served.base, api_key=api_key)
        try:
            return session.signal.tenant_id
        finally:
            await session.aclose()

    async def refused(api_key: str):
        with pytest.raises(GatewayAuthError) as info:
            await open_session(api_key)
        return info.value

    assert asyncio.run(open_session(created["plaintext"])) == tenant["id"]
    # the principal the Kit asked for is the raw key's
    me = httpx.get(f"{served.base}/v1/auth/principal", headers=bearer(created["plaintext"]), timeout=30)
    assert me.status_code == 200 and me.json()["kind"] == "api_key" and me.json()["tenant_id"] == tenant["id"]
    assert _minted(served) == []  # resolving the tenant mints no token

    unknown = asyncio.run(refused("bp_" + "C" * 22))
    assert unknown.status_code == 401 and "invalid_api_key" in (unknown.body_text or "")

    # a frozen tenant's key is refused as well
    frozen_tenant, frozen_key = _key(served.admin)
    assert asyncio.run(open_session(frozen_key["plaintext"])) == frozen_tenant["id"]
    assert served.admin.post(f"/v1/tenants/{frozen_tenant['id']}/cancel").status_code == 200
    assert asyncio.run(refused(frozen_key["plaintext"])).status_code == 401

    # and a revoked one
    assert served.admin.delete(f"/v1/api-keys/{created['api_key']['id']}").status_code == 204
    revoked = asyncio.run(refused(created["plaintext"]))
    assert revoked.status_code == 401
