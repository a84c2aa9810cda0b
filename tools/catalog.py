"""Loading and looking up the versioned catalogs shipped in ``advisor.knowledge``.

The catalogs are YAML files validated by the models in :mod:`advisor.tools.schema`.
A malformed row raises :class:`~advisor.tools.errors.CatalogError` naming the file, the row
(index and id/name) and the field. Loading is cached per directory; pass ``directory``
to use another copy of the catalogs (tests do).
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import os
import pickle
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, HttpUrl, ValidationError

from .errors import CatalogError, UnknownNameError
from .schema import (
    Accelerator,
    AcceleratorCatalog,
    CloudErrorCatalog,
    ErrorSignatureCatalog,
    Instance,
    InstanceCatalog,
    Model,
    ModelCatalog,
    OnPremCatalog,
    OnPremServer,
    Region,
    Source,
    SpeedBenchmarkCatalog,
    StorageCatalog,
    TrainingRunCatalog,
)

SUPPORTED_SCHEMA_VERSION = 1
# libyaml's C parser is ~8x faster than the pure-Python one; both are safe loaders.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
T = TypeVar("T", bound=BaseModel)


def default_catalog_dir() -> Path:
    """The catalog folder shipped inside the installed package."""
    return Path(str(resources.files("advisor.knowledge").joinpath("catalog")))


@dataclass(frozen=True)
class Catalog:
    """All catalogs, loaded and cross-checked."""

    accelerators: tuple[Accelerator, ...]
    regions: tuple[Region, ...]
    instances: tuple[Instance, ...]
    models: tuple[Model, ...]
    onprem: OnPremCatalog
    storage: StorageCatalog
    directory: Path

    # -- lookups -----------------------------------------------------------------
    def accelerator(self, name: str) -> Accelerator:
        if isinstance(name, str):
            for form in accelerator_forms(name):
                hit = self._acc_index.get(form)
                if hit is not None:
                    return hit
        return _lookup("accelerator", name, self.accelerators, _acc_keys)

    def model(self, name: str) -> Model:
        hit = self._model_index.get(_norm(name)) if isinstance(name, str) else None
        return hit or _lookup("model", name, self.models, _model_keys)

    @functools.cached_property
    def _acc_index(self) -> dict[str, Accelerator]:
        return _index(self.accelerators, _acc_keys)

    @functools.cached_property
    def _model_index(self) -> dict[str, Model]:
        return _index(self.models, _model_keys)

    def provider_id(self, provider: str) -> str:
        """The catalog's id for a provider name ("Lambda Labs" -> lambda), or a typed error."""
        prov = _norm(provider)
        prov = _PROVIDER_ALIASES.get(prov, prov)
        providers = sorted({i.provider for i in self.instances})
        if prov not in providers:
            raise UnknownNameError("provider", provider, providers)
        return prov

    def instance(self, provider: str | None, name: str) -> Instance:
        """A catalogued instance by name or alias; SageMaker ``ml.*`` names (or provider
        ``sagemaker``) give the EC2 instance's hardware without its prices."""
        prov = _PROVIDER_ALIASES.get(_norm(provider), _norm(provider)) if provider else None
        if prov in _SAGEMAKER or (prov in (None, "aws") and _is_sagemaker_name(name)):
            return self.sagemaker_instance(name)
        pool: Sequence[Instance] = self.instances
        if prov:
            pool = [i for i in self.instances if i.provider == prov]
            if not pool:
                providers = sorted({i.provider for i in self.instances})
                raise UnknownNameError("provider", str(provider), providers)
        try:
            return _lookup("instance", name, pool, _instance_keys)
        except UnknownNameError as exc:
            raise _family_error(name, pool) or exc from None

    def sagemaker_instance(self, name: str) -> Instance:
        """``ml.g5.2xlarge`` (or ``g5.2xlarge`` asked of SageMaker): the hardware of EC2
        g5.2xlarge, with no prices. SageMaker bills its own rates, which are not catalogued;
        EC2's are never passed off as SageMaker's. Only a catalogued EC2 size's exact name
        resolves: a prefix or family name gets a did-you-mean, never another size."""
        if not isinstance(name, str) or not name.strip():
            raise UnknownNameError("SageMaker instance", str(name), [])
        ec2_name = _SAGEMAKER_PREFIX.sub("", name.strip())
        pool = [i for i in self.instances if i.provider == "aws" and i.hardware_of is None]
        exact = {_norm(i.name): i for i in pool}
        hit = exact.get(_norm(ec2_name))
        if hit is None:
            try:
                near = [_lookup("instance", ec2_name, pool, _instance_keys).name]
            except UnknownNameError as exc:
                near = [s for s in exc.suggestions if _norm(s) in exact]
            raise UnknownNameError("SageMaker instance", name, [f"ml.{n}" for n in near])
        return _sagemaker_row(hit)

    def server(self, name: str) -> OnPremServer:
        return _lookup("server", name, self.onprem.servers, _server_keys)

    def region(self, provider: str, region_id: str) -> Region:
        for r in self.regions:
            if r.provider == provider and r.id == region_id:
                return r
        ids = [r.id for r in self.regions if r.provider == provider]
        raise UnknownNameError("region", region_id, difflib.get_close_matches(region_id, ids, 5))


_PROVIDER_ALIASES = {
    "amazon": "aws",
    "amazonwebservices": "aws",
    "ec2": "aws",
    "microsoft": "azure",
    "microsoftazure": "azure",
    "google": "gcp",
    "googlecloud": "gcp",
    "gce": "gcp",
    "oracle": "oci",
    "lambdalabs": "lambda",
    "lambdacloud": "lambda",
    "lambdaai": "lambda",
    "cw": "coreweave",
    "nebiusai": "nebius",
}


# Amazon SageMaker names EC2 hardware "ml.<instance type>" and prices it on its own.
_SAGEMAKER = {"sagemaker", "amazonsagemaker", "awssagemaker"}
_SAGEMAKER_PREFIX = re.compile(r"^ml[.\-_ ]", re.I)
SAGEMAKER_PRICING = Source(
    title="Amazon SageMaker AI pricing (per-instance rates differ from EC2's)",
    url=HttpUrl("https://aws.amazon.com/sagemaker/pricing/"),
)


_FAMILY_WORDS = re.compile(r"(?:series|family|sizes?|vms?|instances?)$")


def _family_error(name: str, pool: Sequence[Instance]) -> UnknownNameError | None:
    """A family named where a size is wanted ("NC series", "NCv3", "g5 family"): list its
    sizes and ask for one, rather than pick a size. Retired sizes are marked."""
    if not isinstance(name, str):
        return None
    typed = _norm(name)
    wanted = _FAMILY_WORDS.sub("", typed)
    if len(wanted) < 2:
        return None
    # the family as named, then, when it is one or the words say "series", the families it
    # heads ("NC series": NC, NCv2, NCv3, NCasT4_v3, ...)
    exact = [i for i in pool if _norm(i.family) == wanted]
    wider = []
    if exact or wanted != typed:
        wider = [i for i in pool if _norm(i.family).startswith(wanted) and i not in exact]
    rows = exact + wider
    if not rows:
        return None
    labels = [f"{i.name} (retired)" if i.is_retired else i.name for i in rows]
    return UnknownNameError(
        "instance",
        name,
        [i.name for i in rows][:8],
        hint=f"{name!r} names a family, not one size: {', '.join(labels[:8])}"
        + (f" and {len(labels) - 8} more" if len(labels) > 8 else "")
        + ". Name the size.",
    )


def _is_sagemaker_name(name: object) -> bool:
    return isinstance(name, str) and bool(_SAGEMAKER_PREFIX.match(name.strip()))


def _sagemaker_row(ec2: Instance) -> Instance:
    """The SageMaker ``ml.*`` name of an EC2 instance: same hardware, no prices."""
    gpus = f"{ec2.accelerator_count} x {ec2.accelerator}" if ec2.accelerator else "no accelerator"
    data = ec2.model_dump(mode="json")
    data.update(
        name=f"ml.{ec2.name}",
        family=f"ml.{ec2.family}",
        aliases=[],
        prices=[],
        available_regions=[],
        price_history=[],
        successors=[],
        hardware_of=ec2.name,
        sources=[*data["sources"], SAGEMAKER_PRICING.model_dump(mode="json")],
        notes=(
            f"Amazon SageMaker's name for the hardware of EC2 {ec2.name} ({gpus}, "
            f"{ec2.vcpus} vCPUs, {ec2.ram_gb:g} GiB). SageMaker bills its own per-instance "
            "rates, which differ from EC2's and are not catalogued, so this row has no prices "
            "(EC2's are not SageMaker's). Where SageMaker offers it is not catalogued either."
            if ec2.ram_gb is not None
            else f"Amazon SageMaker's name for the hardware of EC2 {ec2.name} ({gpus}). "
            "SageMaker bills its own rates, which are not catalogued: this row has no prices."
        ),
    )
    return Instance.model_validate(data)


def _norm(text: str) -> str:
    """Normalise a name for matching: lowercase, alphanumerics only."""
    # "+" is a word in product names ("Command R+", "Xeon 8480+"): keep it as "plus"
    return re.sub(r"[^a-z0-9.]", "", text.lower().replace("+", "plus")).replace(".", "")


_VENDOR_WORDS = re.compile(r"^(?:nvidia|tesla|geforce|amd|radeon|instinct|intel|apple)+")


def accelerator_forms(name: str) -> list[str]:
    """Normalised spellings of an accelerator name: as typed, '80G' as '80GB', no vendor word."""
    base = _norm(name)
    forms = [base, re.sub(r"(\d)g$", r"\1gb", base), re.sub(r"(\d)g(?=[a-z])", r"\1gb", base)]
    forms += [_VENDOR_WORDS.sub("", f) for f in list(forms)]
    return [f for f in dict.fromkeys(forms) if f]


def _acc_keys(a: Accelerator) -> list[str]:
    return [a.id, a.name, *a.aliases]


def _model_keys(m: Model) -> list[str]:
    return [m.id, m.name, *m.aliases]


def _instance_keys(i: Instance) -> list[str]:
    return [i.name, *i.aliases]


def _server_keys(s: OnPremServer) -> list[str]:
    return [s.id, s.name, *s.aliases]


def _display(row: Any) -> str:
    return str(getattr(row, "name", getattr(row, "id", row)))


def _index(rows: Sequence[T], keys: Any) -> dict[str, T]:
    index: dict[str, T] = {}
    for row in rows:
        for key in keys(row):
            index.setdefault(_norm(key), row)
    return index


def _extends(key: str, wanted: str) -> bool:
    """``key`` starts with ``wanted`` without continuing a trailing number of it."""
    if not wanted or not key.startswith(wanted) or key == wanted:
        return False
    # After a number only a size unit may follow ("405" -> "405b"); "h20" -> "h200",
    # "l40" -> "l40s" and "mi250" -> "mi250x" are other products.
    return not (wanted[-1].isdigit() and key[len(wanted)] not in "bm")


def _lookup(kind: str, name: str, rows: Sequence[T], keys: Any) -> T:
    if not isinstance(name, str) or not name.strip():
        raise UnknownNameError(kind, str(name), [_display(r) for r in rows[:5]])
    wanted = _norm(name)
    index = _index(rows, keys)
    if wanted in index:
        return index[wanted]
    # A unique prefix match ("llama 3.1 405" -> "llama-3.1-405b"), but never one that
    # extends a number: "h20" is not "h200", "l40" is not "l40s" (another product).
    partial = {id(r): r for k, r in index.items() if _extends(k, wanted)}
    if len(partial) == 1:
        return next(iter(partial.values()))
    close = difflib.get_close_matches(wanted, list(index), n=8, cutoff=0.6)
    # Names that complete what was typed come first: "5060 Ti" names the 8 GB and 16 GB cards.
    completions = [k for k in index if _extends(k, wanted)]
    suggestions: list[str] = []
    for key in completions + close + [k for k in index if wanted in k or k in wanted]:
        label = _display(index[key])
        if label not in suggestions:
            suggestions.append(label)
    raise UnknownNameError(kind, name, suggestions[:5])


# Parsed catalog files are kept in the user's cache folder, keyed by a hash of the file's
# bytes: building the Python objects is most of a cold start's catalog time (about 170 ms
# for the 12 files on 2 cores), reading the cached copy a tenth of it. Any edit changes the
# hash; a cache that cannot be written is skipped. ADVISOR_CACHE_DIR moves it; "off" stops it.
YAML_CACHE_KEPT = 64


def yaml_cache_dir() -> Path | None:
    """Where parsed catalog files are cached, or None when ADVISOR_CACHE_DIR is "off"."""
    where = os.environ.get("ADVISOR_CACHE_DIR", "")
    if where.lower() == "off":
        return None
    if where:
        return Path(where) / "yaml"
    # beside the index's default data folder (~/.cache/ai-infra-advisor), never inside it:
    # a data folder is copied and backed up whole
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ai-infra-advisor-catalog" / "yaml"


def _cached_yaml(raw: bytes) -> tuple[Path | None, Any]:
    folder = yaml_cache_dir()
    if folder is None:
        return None, None
    key = hashlib.blake2b(raw, digest_size=16).hexdigest()
    path = folder / f"{key}.pickle"
    try:
        with path.open("rb") as fh:
            return path, pickle.load(fh)  # noqa: S301 - our own cache of our own files
    except (OSError, pickle.PickleError, EOFError, AttributeError, ValueError):
        return path, None


def _store_yaml(path: Path | None, data: Any) -> None:
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(data, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)  # whole or not at all, also with two processes at once
        kept = sorted(path.parent.glob("*.pickle"), key=lambda p: p.stat().st_mtime)
        for old in kept[:-YAML_CACHE_KEPT]:
            old.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only or full cache folder: parse each time


def _read_yaml(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise CatalogError(f"Catalog file missing: {path}.", hint="reinstall the package") from exc
    cache, data = _cached_yaml(raw)
    if data is not None:
        return data
    try:
        data = yaml.load(raw.decode("utf-8"), Loader=_SafeLoader)  # noqa: S506 - a safe loader
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path.name}: not valid YAML: {exc}") from exc
    _store_yaml(cache, data)
    return data


def _describe_error(path: Path, data: Any, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors()[:5]:
        loc = list(err["loc"])
        where = ".".join(str(p) for p in loc)
        # Name the row by its id/name when the location points into a list.
        row_label = ""
        if len(loc) >= 2 and isinstance(loc[0], str) and isinstance(loc[1], int):
            try:
                row = data[loc[0]][loc[1]]
                ident = row.get("id") or row.get("name") or row.get("region")
                row_label = f" (row {loc[1]}: {ident})"
            except (KeyError, IndexError, TypeError, AttributeError):
                pass
            field = ".".join(str(p) for p in loc[2:]) or "<row>"
            where = f"{loc[0]}[{loc[1]}]{row_label}, field {field}"
        lines.append(f"{where}: {err['msg']}")
    more = len(exc.errors()) - 5
    if more > 0:
        lines.append(f"... and {more} more")
    return f"{path.name}: " + "; ".join(lines)


def _validate(path: Path, model: type[T]) -> T:
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise CatalogError(f"{path.name}: expected a mapping at the top level")
    version = data.get("schema_version")
    if version != SUPPORTED_SCHEMA_VERSION:
        raise CatalogError(
            f"{path.name}: schema_version {version!r} is not supported "
            f"(this release reads {SUPPORTED_SCHEMA_VERSION})."
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise CatalogError(_describe_error(path, data, exc)) from exc


def _check_unique(path: str, items: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for item in items:
        if item in seen:
            raise CatalogError(f"{path}: duplicate {what} {item!r}")
        seen.add(item)


def _cross_check(
    accs: AcceleratorCatalog,
    insts: InstanceCatalog,
    models: ModelCatalog,
    onprem: OnPremCatalog,
) -> None:
    _check_unique("accelerators.yaml", (a.id for a in accs.accelerators), "id")
    _check_unique("models.yaml", (m.id for m in models.models), "id")
    _check_unique(
        "instances-*.yaml", (f"{i.provider}/{i.name}" for i in insts.instances), "instance"
    )
    acc_ids = {a.id for a in accs.accelerators}
    # An announced part is not shipping: no instance or server can carry it.
    announced = {a.id for a in accs.accelerators if a.is_announced}
    region_ids = {(r.provider, r.id) for r in insts.regions}
    by_name = {(i.provider, i.name): i for i in insts.instances}
    for inst in insts.instances:
        label = f"instances-{inst.provider}.yaml: {inst.name}"
        if inst.accelerator is not None and inst.accelerator not in acc_ids:
            raise CatalogError(f"{label}, field accelerator: unknown id {inst.accelerator!r}")
        if inst.accelerator in announced:
            raise CatalogError(
                f"{label}, field accelerator: {inst.accelerator!r} is announced, not shipping"
            )
        for price in inst.prices:
            if (inst.provider, price.region) not in region_ids:
                raise CatalogError(
                    f"{label}, field prices.region: {price.region!r} is not in regions"
                )
        for change in inst.price_history:
            if change.region is not None and (inst.provider, change.region) not in region_ids:
                raise CatalogError(
                    f"{label}, field price_history.region: {change.region!r} is not in regions"
                )
        for region in inst.available_regions:
            if (inst.provider, region) not in region_ids:
                raise CatalogError(
                    f"{label}, field available_regions: {region!r} is not in regions"
                )
        for field, names in (("successors", inst.successors), ("hardware_of", [inst.hardware_of])):
            for other in names:
                target = by_name.get((inst.provider, other)) if other else None
                if other and (target is None or target.is_retired):
                    raise CatalogError(
                        f"{label}, field {field}: {other!r} is not a catalogued, available "
                        f"{inst.provider} instance"
                    )
    for n, server in enumerate(onprem.servers):
        if server.accelerator not in acc_ids:
            raise CatalogError(
                f"onprem.yaml: servers[{n}] ({server.id}), field accelerator: "
                f"unknown id {server.accelerator!r}"
            )
        if server.accelerator in announced:
            raise CatalogError(
                f"onprem.yaml: servers[{n}] ({server.id}), field accelerator: "
                f"{server.accelerator!r} is announced, not shipping"
            )


def _merge_instances(directory: Path) -> InstanceCatalog:
    """Instances live in one file per provider: ``instances-<provider>.yaml``."""
    files = sorted(directory.glob("instances-*.yaml"))
    if not files:
        raise CatalogError(f"No instances-*.yaml file in {directory}.")
    regions: list[Region] = []
    instances: list[Instance] = []
    for path in files:
        part = _validate(path, InstanceCatalog)
        regions.extend(part.regions)
        instances.extend(part.instances)
    _check_unique("instances-*.yaml", (f"{r.provider}/{r.id}" for r in regions), "region")
    return InstanceCatalog(
        schema_version=SUPPORTED_SCHEMA_VERSION, regions=regions, instances=instances
    )


_FILE_MODELS: dict[str, type[BaseModel]] = {
    "accelerators": AcceleratorCatalog,
    "cloud": CloudErrorCatalog,  # cloud-errors.yaml (read by tools.availability)
    "error": ErrorSignatureCatalog,  # error-signatures.yaml (read by tools.diagnose)
    "instances": InstanceCatalog,
    "models": ModelCatalog,
    "onprem": OnPremCatalog,
    "speed": SpeedBenchmarkCatalog,  # speed-benchmarks.yaml (read by tools.speedcal)
    "storage": StorageCatalog,
    "training": TrainingRunCatalog,  # training-runs.yaml (read by tools.published)
}


def check_patterns(path: Path, rows: Sequence[Any]) -> None:
    """Every row's regular expressions compile, or a CatalogError naming file, row and pattern."""
    for row in rows:
        for pattern in row.patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise CatalogError(f"{path}: {row.id}: bad pattern {pattern!r}: {exc}") from exc


def validate_file(path: str | Path) -> BaseModel:
    """Validate one catalog file on its own (no cross-file checks)."""
    p = Path(path)
    key = p.stem.split("-")[0]
    if key not in _FILE_MODELS:
        raise CatalogError(f"{p.name}: not a catalog file name ({', '.join(_FILE_MODELS)})")
    return _validate(p, _FILE_MODELS[key])


@functools.lru_cache(maxsize=8)
def _load(directory: Path) -> Catalog:
    accs = _validate(directory / "accelerators.yaml", AcceleratorCatalog)
    insts = _merge_instances(directory)
    models = _validate(directory / "models.yaml", ModelCatalog)
    onprem = _validate(directory / "onprem.yaml", OnPremCatalog)
    storage = _validate(directory / "storage.yaml", StorageCatalog)
    _cross_check(accs, insts, models, onprem)
    return Catalog(
        accelerators=tuple(accs.accelerators),
        regions=tuple(insts.regions),
        instances=tuple(insts.instances),
        models=tuple(models.models),
        onprem=onprem,
        storage=storage,
        directory=directory,
    )


def load_catalog(directory: str | Path | None = None) -> Catalog:
    """Load (once, cached) and validate every catalog file in ``directory``."""
    path = Path(directory) if directory is not None else default_catalog_dir()
    return _load(path.resolve())


def clear_cache() -> None:
    _load.cache_clear()


if __name__ == "__main__":  # python -m advisor.tools.catalog FILE... | (no args: whole catalog)
    import sys

    try:
        for arg in sys.argv[1:]:
            validate_file(arg)
            print(f"ok: {arg}")
        if len(sys.argv) == 1:
            cat = load_catalog()
            print(
                f"ok: {len(cat.accelerators)} accelerators, {len(cat.instances)} instances, "
                f"{len(cat.models)} models, {len(cat.onprem.servers)} on-prem servers"
            )
    except CatalogError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
