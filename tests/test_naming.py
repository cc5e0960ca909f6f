"""Names: ARM's uniqueString against values published by independent re-implementations (checked by their
authors against the Bicep CLI), and the names the platform's scripts and runbook use."""

from __future__ import annotations

import pytest

from components import naming


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("test",), "rbgf3xv4ufgzg"),
        (("abc",), "cgtzqvhu4i23s"),
        (("a",), "eveiun73364hy"),
        (("hello", "world"), "a7wkljktk6wne"),
        (("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/my-rg",), "bmg7c6xu4tw46"),
    ],
)
def test_unique_string_matches_known_values(args: tuple[str, ...], expected: str) -> None:
    assert naming.unique_string(*args) == expected


def test_unique_string_is_case_sensitive_and_joins_with_a_dash() -> None:
    assert naming.unique_string("Test") != naming.unique_string("test")
    assert naming.unique_string("hello", "world") == naming.unique_string("hello-world")


def test_unique_string_needs_an_argument() -> None:
    with pytest.raises(ValueError, match="at least one argument"):
        naming.unique_string()


def test_names_follow_the_platform() -> None:
    rg_id = naming.resource_group_id("00000000-0000-0000-0000-000000000000", "my-rg")
    assert naming.postgres_server_name("dev", rg_id) == "psql-dev-bmg7c6xu4tw46"
    assert naming.resource_group_name("prod") == "meajudaai-prod"
    assert naming.service_bus_namespace_name("staging") == "sb-MeAjudaAi-staging"
    assert naming.api_name("prod") == "meajudaai-api"
    assert naming.api_name("dev") == "meajudaai-api-dev"
    vault = naming.key_vault_name("staging", rg_id)
    assert vault.startswith("kv-mjai-staging-")
    assert len(vault) <= 24
