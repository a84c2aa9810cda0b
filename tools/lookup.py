"""Public catalog lookups: accept what people type, answer unknown names with suggestions."""

from __future__ import annotations

from .catalog import Catalog, load_catalog
from .schema import Accelerator, Instance, Model, OnPremServer


def get_accelerator(name: str, catalog: Catalog | None = None) -> Accelerator:
    """Find an accelerator: ``get_accelerator("h100")`` -> the H100 SXM row.

    Raises UnknownNameError with a did-you-mean list for an unknown name.
    """
    return (catalog or load_catalog()).accelerator(name)


def get_model(name: str, catalog: Catalog | None = None) -> Model:
    """Find an open model: ``get_model("llama 3 70b")``."""
    return (catalog or load_catalog()).model(name)


def get_instance(
    provider: str | None, name: str, region: str | None = None, catalog: Catalog | None = None
) -> Instance:
    """Find a cloud instance: ``get_instance("aws", "p5")`` -> p5.48xlarge.

    With ``region``, also checks that the instance has a price there.
    """
    cat = catalog or load_catalog()
    inst = cat.instance(provider, name)
    if region is not None:
        from .pricing import price_in_region

        price_in_region(inst, region)
    return inst


def get_server(name: str, catalog: Catalog | None = None) -> OnPremServer:
    """Find an on-prem server configuration: ``get_server("dgx h100")``."""
    return (catalog or load_catalog()).server(name)
