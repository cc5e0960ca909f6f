"""Resource names, including ARM's `uniqueString`, so Pulumi names match what Bicep deployed."""

from __future__ import annotations

_MASK32 = 0xFFFFFFFF
_MASK64 = 0xFFFFFFFFFFFFFFFF
_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"


def _rotl32(value: int, shift: int) -> int:
    return ((value << shift) | (value >> (32 - shift))) & _MASK32


def _fmix32(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _MASK32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _MASK32
    return h ^ (h >> 16)


def _mix_k1(k1: int) -> int:
    k1 = (k1 * 0x239B961B) & _MASK32
    return (_rotl32(k1, 15) * 0xAB0E9789) & _MASK32


def _mix_k2(k2: int) -> int:
    k2 = (k2 * 0xAB0E9789) & _MASK32
    return (_rotl32(k2, 17) * 0x239B961B) & _MASK32


def murmur_hash64(data: bytes) -> int:
    """ARM's 64-bit MurmurHash variant: two interleaved 32-bit lanes over 8-byte blocks."""
    h1 = h2 = 0
    length = len(data)
    full = length - length % 8
    for i in range(0, full, 8):
        h1 ^= _mix_k1(int.from_bytes(data[i : i + 4], "little"))
        h1 = (_rotl32(h1, 19) + h2) & _MASK32
        h1 = (h1 * 5 + 0x561CCD1B) & _MASK32
        h2 ^= _mix_k2(int.from_bytes(data[i + 4 : i + 8], "little"))
        h2 = (_rotl32(h2, 13) + h1) & _MASK32
        h2 = (h2 * 5 + 0x0BCAA747) & _MASK32
    tail = data[full:]
    if tail:
        h1 ^= _mix_k1(int.from_bytes(tail[:4], "little"))
        if len(tail) > 4:
            h2 ^= _mix_k2(int.from_bytes(tail[4:], "little"))
    h1 ^= length
    h2 ^= length
    h1 = (h1 + h2) & _MASK32
    h2 = (h2 + h1) & _MASK32
    h1, h2 = _fmix32(h1), _fmix32(h2)
    h1 = (h1 + h2) & _MASK32
    h2 = (h2 + h1) & _MASK32
    return (h2 << 32) | h1


def unique_string(*parts: str) -> str:
    """Bicep's `uniqueString(...)`: 13 base-32 characters of the hash of the '-'-joined arguments.

    Case-sensitive, like ARM: hash an id exactly as ARM renders it.
    """
    if not parts:
        raise ValueError("uniqueString needs at least one argument")
    value = murmur_hash64("-".join(parts).encode("utf-8"))
    chars = []
    for _ in range(13):
        chars.append(_BASE32[value >> 59])
        value = (value << 5) & _MASK64
    return "".join(chars)


def resource_group_id(subscription_id: str, resource_group: str) -> str:
    """`resourceGroup().id` as ARM renders it (the input Bicep hashes for its name suffixes)."""
    return f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"


def resource_group_name(environment: str) -> str:
    """`meajudaai-<env>`, as the platform's Gen-1 deploy scripts name it."""
    return f"meajudaai-{environment}"


def service_bus_namespace_name(environment: str) -> str:
    """`sb-MeAjudaAi-<env>`, exactly as main.bicep passes it to servicebus.bicep."""
    return f"sb-MeAjudaAi-{environment}"


def postgres_server_name(environment: str, rg_id: str) -> str:
    """Gen-2 Bicep's default: `psql-<env>-<uniqueString(resourceGroup().id)>`."""
    return f"psql-{environment}-{unique_string(rg_id)}"


def key_vault_name(environment: str, rg_id: str) -> str:
    """Vault names are global and at most 24 characters, hence the short prefix and a 6-character suffix."""
    return f"kv-mjai-{environment}-{unique_string(rg_id)[:6]}"


def api_name(environment: str) -> str:
    """`meajudaai-api` in prod (the runbook's name), `meajudaai-api-<env>` elsewhere."""
    return "meajudaai-api" if environment == "prod" else f"meajudaai-api-{environment}"


def container_registry_name(image_repository: str) -> str | None:
    """The Azure Container Registry an image repository lives in (`<name>.azurecr.io/...`), if any."""
    host = image_repository.split("/", 1)[0] if "/" in image_repository else ""
    name, _, domain = host.partition(".")
    return name if domain == "azurecr.io" else None


def container_registry_id(subscription_id: str, resource_group: str, registry: str) -> str:
    group = resource_group_id(subscription_id, resource_group)
    return f"{group}/providers/Microsoft.ContainerRegistry/registries/{registry}"
