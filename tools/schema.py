"""Pydantic models for the versioned catalogs in ``knowledge/catalog``.

Every row carries ``sources`` (title + URL) and ``as_of`` (the date its figures were
published or last checked). Units live in field names (``memory_gb``,
``price_per_hour_usd``...). Unknown keys are rejected so that a typo in a YAML file
fails loudly instead of silently dropping a figure.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Row):
    """A public document a figure was taken from."""

    title: str = Field(min_length=3)
    url: HttpUrl
    note: str | None = None


class _Sourced(_Row):
    sources: list[Source] = Field(min_length=1)
    as_of: dt.date
    notes: str | None = None


AcceleratorKind = Literal["gpu", "tpu", "npu", "asic", "cpu"]
# "ga": shipping (rentable or buyable); "announced": the vendor has published target figures
# but the part is not shipping. Announced rows answer lookups, never recommendations.
AcceleratorStatus = Literal["ga", "announced"]
# A date as precise as the source gives it: "2025", "2025-10" or "2025-10-14".
_PARTIAL_DATE = r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$"


class Accelerator(_Sourced):
    """One accelerator (per chip / per GPU). TFLOPS figures are dense, never 2:4 sparse."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    name: str
    vendor: str
    kind: AcceleratorKind
    # the public architecture / generation name ("Ampere", "Hopper", "CDNA 3", "TPU v5e",
    # "Trainium2", "Apple M2"); None where no source read names it
    architecture: str | None = Field(default=None, min_length=2, max_length=40)
    aliases: list[str] = Field(default_factory=list)
    memory_gb: float = Field(gt=0, le=2048)
    memory_type: str
    memory_bandwidth_gb_s: float = Field(gt=0, le=50000)
    fp32_tflops: float | None = Field(default=None, gt=0)
    tf32_tflops: float | None = Field(default=None, gt=0)
    bf16_tflops: float | None = Field(default=None, gt=0)
    fp16_tflops: float | None = Field(default=None, gt=0)
    fp8_tflops: float | None = Field(default=None, gt=0)
    int8_tops: float | None = Field(default=None, gt=0)
    fp4_tflops: float | None = Field(default=None, gt=0)
    tdp_w: float | None = Field(default=None, gt=0, le=3000)  # None: not published
    interconnect_name: str | None = None
    interconnect_gb_s: float | None = Field(default=None, ge=0)
    form_factor: str | None = None
    release_year: int | None = Field(default=None, ge=2010, le=2030)
    # first general availability (shipping or rentable), as precise as the source gives it
    available: str | None = Field(default=None, pattern=_PARTIAL_DATE)
    status: AcceleratorStatus = "ga"
    clouds: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _has_some_compute(self) -> Accelerator:
        figures = (
            self.fp32_tflops,
            self.tf32_tflops,
            self.bf16_tflops,
            self.fp16_tflops,
            self.fp8_tflops,
            self.int8_tops,
            self.fp4_tflops,
        )
        if all(v is None for v in figures):
            raise ValueError("at least one compute figure (fp32/tf32/bf16/fp16/fp8/int8/fp4)")
        return self

    @property
    def is_announced(self) -> bool:
        return self.status == "announced"


Provider = Literal["aws", "azure", "gcp", "oci", "coreweave", "lambda", "nebius"]
Geography = Literal["us", "eu", "apac", "other"]


class Region(_Row):
    provider: Provider
    id: str
    name: str
    geography: Geography
    country: str | None = None


class RegionPrice(_Row):
    """Prices of one instance in one region, USD per instance-hour."""

    region: str
    on_demand_usd_per_hour: float = Field(gt=0, le=1000)
    spot_usd_per_hour: float | None = Field(default=None, gt=0, le=1000)
    commit_1y_usd_per_hour: float | None = Field(default=None, gt=0, le=1000)
    commit_3y_usd_per_hour: float | None = Field(default=None, gt=0, le=1000)
    # "capacity_block": no public on-demand price; the figure is a reservation rate
    # (e.g. AWS Capacity Blocks). Rankings skip such rows unless asked for.
    price_basis: Literal["on_demand", "capacity_block"] = "on_demand"
    as_of: dt.date | None = None  # defaults to the instance's as_of
    # the feed this price was imported from (``advisor catalog import``); one of the row's sources
    source_url: HttpUrl | None = None

    @model_validator(mode="after")
    def _discounts_are_discounts(self) -> RegionPrice:
        for name in ("spot_usd_per_hour", "commit_1y_usd_per_hour", "commit_3y_usd_per_hour"):
            value = getattr(self, name)
            if value is not None and value > self.on_demand_usd_per_hour * 1.001:
                raise ValueError(f"{name} ({value}) is above on-demand")
        return self


class PriceChange(_Row):
    """A replaced price: ``date`` is the replaced figure's as_of, ``note`` says what replaced it.

    Instance prices replaced by ``advisor catalog import`` also keep the region and the old
    figures, USD per instance-hour, so that the history can be read without the notes.
    """

    date: dt.date
    note: str
    region: str | None = None
    on_demand_usd_per_hour: float | None = Field(default=None, gt=0, le=1000)
    spot_usd_per_hour: float | None = Field(default=None, gt=0, le=1000)
    commit_1y_usd_per_hour: float | None = Field(default=None, gt=0, le=1000)
    commit_3y_usd_per_hour: float | None = Field(default=None, gt=0, le=1000)


# "available": rentable today. "retired": the provider has ended the size (``retired_on``); the
# row keeps its hardware so that a question about it is answered "retired", never "unknown"
# and never with another size swapped in. A retired row has no current prices (its last
# published price, where a source gave one, is in ``price_history``).
InstanceStatus = Literal["available", "retired"]


class Instance(_Sourced):
    """A cloud instance type (or TPU slice) with its prices by region."""

    provider: Provider
    name: str
    family: str
    aliases: list[str] = Field(default_factory=list)
    accelerator: str | None  # id in accelerators.yaml; None for CPU-only instances
    accelerator_count: int = Field(ge=0, le=1024)
    # None where the provider's price page does not state the figure (GPU clouds often don't)
    vcpus: int | None = Field(default=None, ge=0, le=2048)
    ram_gb: float | None = Field(default=None, ge=0, le=65536)
    network_gbps: float | None = Field(default=None, gt=0, le=100000)
    local_storage_gb: float = Field(default=0, ge=0)
    local_storage_type: Literal["nvme", "ssd", "hdd", "none"] = "none"
    # at least one for an available row; none for a retired row or a hardware_of row
    prices: list[RegionPrice] = Field(default_factory=list)
    available_regions: list[str] = Field(default_factory=list)
    price_history: list[PriceChange] = Field(default_factory=list)
    status: InstanceStatus = "available"
    # the day the provider ended the size, as precise as the source gives it
    retired_on: str | None = Field(default=None, pattern=_PARTIAL_DATE)
    # catalogued sizes of the same provider that the provider names as the move off this one
    successors: list[str] = Field(default_factory=list)
    # set only on rows made at lookup time for another service's name of this hardware
    # (SageMaker ``ml.g5.2xlarge`` -> EC2 ``g5.2xlarge``): the instance whose hardware it is.
    # Such a row carries no prices: the service bills its own rates, not the instance's.
    hardware_of: str | None = None

    @field_validator("retired_on", mode="before")
    @classmethod
    def _day_as_text(cls, value: object) -> object:
        # YAML reads an unquoted 2023-09-06 as a date; keep the partial-date text form
        return value.isoformat() if isinstance(value, dt.date) else value

    @model_validator(mode="after")
    def _accelerator_count_consistent(self) -> Instance:
        if (self.accelerator is None) != (self.accelerator_count == 0):
            raise ValueError("accelerator and accelerator_count must both be set or both empty")
        if self.status == "retired":
            if self.retired_on is None:
                raise ValueError("a retired instance needs retired_on (the date it ended)")
            if self.prices or self.available_regions:
                raise ValueError(
                    "a retired instance has no current prices or regions: move the last price "
                    "to price_history"
                )
        elif self.retired_on is not None:
            raise ValueError("retired_on is set but status is not 'retired'")
        if self.hardware_of is not None and self.prices:
            raise ValueError("a hardware_of row carries no prices of its own")
        if self.status == "available" and self.hardware_of is None and not self.prices:
            raise ValueError("an available instance needs at least one price")
        urls = {str(s.url) for s in self.sources}
        for price in self.prices:
            if price.source_url is not None and str(price.source_url) not in urls:
                raise ValueError(
                    f"prices ({price.region}): source_url {price.source_url} is not in sources"
                )
        return self

    @property
    def is_retired(self) -> bool:
        return self.status == "retired"


AttentionKind = Literal["mha", "gqa", "mqa", "mla"]


class Model(_Sourced):
    """Architecture of an open-weight model, from its published config."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    name: str
    family: str
    developer: str
    kind: Literal["llm", "embedding"] = "llm"
    aliases: list[str] = Field(default_factory=list)
    params_b: float = Field(gt=0, le=5000)
    active_params_b: float = Field(gt=0, le=5000)
    layers: int = Field(gt=0, le=512)
    hidden_size: int = Field(gt=0)
    intermediate_size: int | None = Field(default=None, gt=0)
    attention_heads: int = Field(gt=0)
    kv_heads: int = Field(gt=0)
    head_dim: int = Field(gt=0)
    vocab_size: int = Field(gt=0)
    max_context: int = Field(gt=0)
    attention: AttentionKind
    sliding_window: int | None = Field(default=None, gt=0)
    sliding_window_layers: int = Field(default=0, ge=0)
    kv_lora_rank: int | None = Field(default=None, gt=0)
    qk_rope_head_dim: int | None = Field(default=None, gt=0)
    experts: int | None = Field(default=None, gt=0)
    active_experts: int | None = Field(default=None, gt=0)
    shared_experts: int | None = Field(default=None, ge=0)
    tie_embeddings: bool = False
    # the format the developer released the weights in, when not 16-bit (DeepSeek-V3 in FP8,
    # gpt-oss in MXFP4): what "as published" means for this model
    published_dtype: Literal["fp8", "mxfp4"] | None = None
    training_tokens_t: float | None = Field(default=None, gt=0)
    training_gpu_hours: float | None = Field(default=None, gt=0)
    license: str | None = None
    release_date: dt.date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Model:
        if self.active_params_b > self.params_b * 1.0001:
            raise ValueError("active_params_b is larger than params_b")
        if self.attention_heads % self.kv_heads:
            raise ValueError("attention_heads must be a multiple of kv_heads")
        if self.attention == "mla" and self.kv_lora_rank is None:
            raise ValueError("attention 'mla' needs kv_lora_rank")
        if self.sliding_window_layers > self.layers:
            raise ValueError("sliding_window_layers is larger than layers")
        if self.sliding_window_layers and self.sliding_window is None:
            raise ValueError("sliding_window_layers set but sliding_window missing")
        if (self.experts is None) != (self.active_experts is None):
            raise ValueError("experts and active_experts go together")
        return self

    @property
    def is_moe(self) -> bool:
        return self.experts is not None


class OnPremServer(_Sourced):
    """An on-prem server. A replaced price moves to ``price_history`` (date = its old as_of)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9.\-]*$")
    name: str
    aliases: list[str] = Field(default_factory=list)
    accelerator: str
    accelerator_count: int = Field(gt=0, le=72)
    price_usd: float = Field(gt=0)
    price_low_usd: float = Field(gt=0)
    price_high_usd: float = Field(gt=0)
    power_kw: float = Field(gt=0, le=200)  # maximum system power
    typical_power_kw: float | None = Field(default=None, gt=0, le=200)
    rack_units: int | None = Field(default=None, gt=0)
    price_history: list[PriceChange] = Field(default_factory=list)

    @model_validator(mode="after")
    def _range(self) -> OnPremServer:
        if not self.price_low_usd <= self.price_usd <= self.price_high_usd:
            raise ValueError("need price_low_usd <= price_usd <= price_high_usd")
        return self


class NetworkOption(_Sourced):
    id: str
    name: str
    fabric: Literal["infiniband", "roce", "ethernet", "nvlink"]
    gbps_per_port: float = Field(gt=0)
    usd_per_node: float = Field(ge=0)
    usd_per_node_low: float | None = Field(default=None, ge=0)
    usd_per_node_high: float | None = Field(default=None, ge=0)


class ElectricityRate(_Sourced):
    region: str
    aliases: list[str] = Field(default_factory=list)
    usd_per_kwh: float = Field(gt=0, le=2)
    carbon_g_per_kwh: float | None = Field(default=None, ge=0, le=1500)
    price_history: list[PriceChange] = Field(default_factory=list)


class ColocationRate(_Sourced):
    region: str
    aliases: list[str] = Field(default_factory=list)
    usd_per_kw_month: float = Field(gt=0, le=2000)
    price_history: list[PriceChange] = Field(default_factory=list)


class OnPremDefaults(_Sourced):
    pue: float = Field(ge=1.0, le=3.0)
    pue_low: float = Field(ge=1.0, le=3.0)
    pue_high: float = Field(ge=1.0, le=3.0)
    staff_usd_per_fte_year: float = Field(gt=0)
    nodes_per_fte: float = Field(gt=0)
    amortization_years: float = Field(gt=0, le=10)
    maintenance_pct_per_year: float = Field(ge=0, le=50)
    facility_overhead_pct: float = Field(default=0, ge=0, le=100)


class OnPremCatalog(_Row):
    schema_version: int
    servers: list[OnPremServer]
    network: list[NetworkOption]
    electricity: list[ElectricityRate]
    colocation: list[ColocationRate]
    defaults: OnPremDefaults


class StorageTier(_Sourced):
    provider: Provider
    id: str
    name: str
    tier: Literal["object", "object-infrequent", "object-archive", "block", "file", "nvme"]
    usd_per_gb_month: float = Field(ge=0, le=5)
    throughput_gb_s_note: str | None = None


class EgressRate(_Sourced):
    provider: Provider
    usd_per_gb: float = Field(ge=0, le=1)
    free_gb_month: float = Field(default=0, ge=0)


class StorageCatalog(_Row):
    schema_version: int
    tiers: list[StorageTier]
    egress: list[EgressRate]


class AcceleratorCatalog(_Row):
    schema_version: int
    accelerators: list[Accelerator]


class InstanceCatalog(_Row):
    schema_version: int
    regions: list[Region]
    instances: list[Instance]


class ModelCatalog(_Row):
    schema_version: int
    models: list[Model]


__all__ = [
    "Accelerator",
    "AcceleratorCatalog",
    "AcceleratorStatus",
    "ColocationRate",
    "EgressRate",
    "ElectricityRate",
    "Instance",
    "InstanceCatalog",
    "InstanceStatus",
    "Model",
    "ModelCatalog",
    "NetworkOption",
    "OnPremCatalog",
    "OnPremDefaults",
    "OnPremServer",
    "PriceChange",
    "Region",
    "RegionPrice",
    "Source",
    "StorageCatalog",
    "StorageTier",
]


class _Patterned(_Row):
    """A row matched against text by case-insensitive regular expressions."""

    patterns: list[str] = Field(min_length=1)

    def first_match(self, text: str) -> int | None:
        """Where the earliest of this row's patterns occurs in ``text``, or None."""
        at = [m.start() for p in self.patterns if (m := re.search(p, text, re.I))]
        return min(at) if at else None


class CloudError(_Patterned):
    """A cloud GPU launch error: the wall it is (offering, quota, capacity, scheduling)."""

    id: str
    provider: Literal["aws", "gcp", "azure"] | None
    wall: Literal["offering", "quota", "capacity", "scheduling"]
    patterns: list[str] = Field(min_length=1)
    meaning: str = Field(min_length=20)
    fix: str = Field(min_length=20)
    as_of: dt.date
    sources: list[Source] = Field(min_length=1)


class CloudErrorCatalog(_Row):
    schema_version: int
    errors: list[CloudError]


class ErrorSignature(_Patterned):
    """An error message or log line people paste (NCCL, CUDA, vLLM, llama.cpp): its meaning and
    the fix, from the documentation or a maintainer's answer."""

    id: str
    area: Literal["network", "memory", "compatibility", "storage", "software"]
    patterns: list[str] = Field(min_length=1)
    # lines as the software prints them: each must match this signature first (a test checks)
    examples: list[str] = Field(min_length=1)
    meaning: str = Field(min_length=20, max_length=600)
    fix: str = Field(min_length=20, max_length=600)
    check: str | None = None
    as_of: dt.date
    sources: list[Source] = Field(min_length=1)


class ErrorSignatureCatalog(_Row):
    schema_version: int
    signatures: list[ErrorSignature]


class TrainingRun(_Row):
    """A training run as its developer published it; every figure is as the source states."""

    id: str
    model: str
    names: list[str] = Field(min_length=1)
    stage: Literal["pretraining", "fine-tuning", "total"]
    accelerator: str | None = None
    gpus: int | None = Field(default=None, gt=0)
    gpu_hours: float | None = Field(default=None, gt=0)
    wall_clock_days: float | None = Field(default=None, gt=0)
    tokens: float | None = Field(default=None, gt=0)
    cost_usd: float | None = Field(default=None, gt=0)
    note: str | None = None
    quote: str = Field(min_length=3)
    as_of: dt.date
    sources: list[Source] = Field(min_length=1)


class TrainingRunCatalog(_Row):
    schema_version: int
    runs: list[TrainingRun]


class SpeedBenchmark(_Row):
    """A published llama.cpp measurement: one model in one format on one device, batch 1.

    ``tg_tokens_per_s`` is decode (``n_gen`` tokens generated from an empty context),
    ``pp_tokens_per_s`` prompt processing (an ``n_prompt``-token prompt); each as the source
    prints it, absent when the source has none."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._\-]*$")
    model: str  # id in models.yaml
    quant: str  # format key of advisor.tools.quant
    bits_per_weight: float = Field(gt=1, le=32)
    accelerator: str  # id in accelerators.yaml
    backend: Literal["cuda", "rocm", "vulkan", "metal", "cpu"]
    build: str | None = None
    n_prompt: int | None = Field(default=None, gt=0, le=1_000_000)
    n_gen: int | None = Field(default=None, gt=0, le=1_000_000)
    tg_tokens_per_s: float | None = Field(default=None, gt=0, le=100_000)
    pp_tokens_per_s: float | None = Field(default=None, gt=0, le=1_000_000)
    provenance: Literal["primary", "transcription"]
    note: str | None = None
    as_of: dt.date
    sources: list[Source] = Field(min_length=1)
    split: Literal["fit", "heldout"]

    @model_validator(mode="after")
    def _measured(self) -> SpeedBenchmark:
        if self.tg_tokens_per_s is None and self.pp_tokens_per_s is None:
            raise ValueError("a benchmark needs tg_tokens_per_s, pp_tokens_per_s or both")
        if self.tg_tokens_per_s is not None and self.n_gen is None:
            raise ValueError("tg_tokens_per_s needs n_gen (tokens generated)")
        if self.pp_tokens_per_s is not None and self.n_prompt is None:
            raise ValueError("pp_tokens_per_s needs n_prompt (prompt tokens)")
        return self


class SpeedBenchmarkCatalog(_Row):
    schema_version: int
    benchmarks: list[SpeedBenchmark]
