"""Cloud GPU launch errors: the wall each one is (offering, quota, capacity) and its fix."""

from __future__ import annotations

import pytest
from advisor.tools import load_catalog
from advisor.tools.availability import diagnose_availability, load_cloud_errors

from advisor.dispatch import plan
from advisor.errors import InvalidInputError
from advisor.route import Router
from advisor.verdict import compose

ERRORS = [
    (
        "An error occurred (VcpuLimitExceeded) when calling RunInstances: g5.xlarge",
        "aws-vcpu-quota",
    ),
    ('"Running On-Demand All G and VT instances" is 0 in my account', "aws-vcpu-quota"),
    (
        "Found no quota for g4dn.xlarge on spot, I raised All G and VT Spot Instance Requests",
        "aws-spot-quota",
    ),
    (
        "ResourceLimitExceeded: The account-level service limit 'ml.p3.2xlarge for training job "
        "usage' is 0 Instances",
        "aws-sagemaker-quota",
    ),
    (
        "InsufficientInstanceCapacity: We currently do not have sufficient p4d capacity",
        "aws-insufficient-capacity",
    ),
    (
        "The zone does not have enough resources available: ZONE_RESOURCE_POOL_EXHAUSTED",
        "gcp-zone-exhausted",
    ),
    ("Quota 'GPUS_ALL_REGIONS' exceeded. Limit: 0.0 globally.", "gcp-gpu-quota"),
    (
        "Could not fetch resource: The resource 'projects/p/zones/europe-west2-c/"
        "acceleratorTypes/nvidia-tesla-v100' was not found",
        "gcp-gpu-not-in-zone",
    ),
    (
        "Operation could not be completed as it results in exceeding approved "
        "standardNCASv3_T4 Family Cores quota",
        "azure-family-quota",
    ),
    ("The NC series are greyed out in the portal", "azure-size-unavailable"),
    (
        "Allocation failed (ZonalAllocationFailed) for Standard_ND96asr_v4",
        "azure-allocation-failed",
    ),
    (
        "0/3 nodes are available: 3 Insufficient nvidia.com/gpu. The pod is pending",
        "k8s-no-gpu-node",
    ),
]
WALLS = {
    "aws-vcpu-quota": "quota",
    "aws-spot-quota": "quota",
    "aws-sagemaker-quota": "quota",
    "aws-insufficient-capacity": "capacity",
    "gcp-zone-exhausted": "capacity",
    "gcp-gpu-quota": "quota",
    "gcp-gpu-not-in-zone": "offering",
    "azure-family-quota": "quota",
    "azure-size-unavailable": "offering",
    "azure-allocation-failed": "capacity",
    "k8s-no-gpu-node": "scheduling",
}


def test_every_signature_loads_with_a_source():
    rows = load_cloud_errors()
    assert len(rows) >= 10 and all(r.sources for r in rows)
    assert len({r.id for r in rows}) == len(rows)


@pytest.mark.parametrize(("text", "expected"), ERRORS, ids=[e for _, e in ERRORS])
def test_the_error_quoted_names_its_wall(text, expected):
    r = diagnose_availability(text)
    assert r.inputs["matched"][0] == expected
    assert r.values["wall"].value == WALLS[expected]
    assert "Fix:" in r.headline and r.refs[0].sources


def test_text_without_a_known_error_is_a_typed_error():
    with pytest.raises(InvalidInputError):
        diagnose_availability("my model is slow")
    with pytest.raises(InvalidInputError):
        diagnose_availability("   ")


def test_a_quota_question_is_diagnosed_first_and_answered_as_the_verdict():
    cat = load_catalog()
    q = "I get VcpuLimitExceeded when I start a g5.2xlarge in us-east-1, what do I do?"
    spec = Router(cat).route(q)
    p = plan(q, spec, cat)
    assert [c.tool for c in p.calls] == ["diagnose_availability"]
    result = diagnose_availability(q, spec.provider)
    v = compose(spec, [result])
    assert v is not None and v.text.startswith("This is a quota limit")
