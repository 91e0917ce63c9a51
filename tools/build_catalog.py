"""Rebuild mlscope's packaged catalog from the sourced facts in ../shared/reference/.

Run by hand when the reference facts change; the package never reads shared/ at run time.
`python tools/build_catalog.py [REFERENCE_DIR] [--fit-only]` also refits the utilization model
on catalog/data/published_runs.csv and writes catalog/data/utilization_fit.json.
Each output row keeps its source and a date so that every estimate can cite them.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
_ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
_DEFAULT_REFS = [HERE.parent.parent / "shared" / "reference",
                 HERE.parent.parent.parent / "shared" / "reference"]  # main or a worktree
REF = Path(_ARGS[0]) if _ARGS else next((p for p in _DEFAULT_REFS if p.is_dir()),
                                        _DEFAULT_REFS[0])
OUT = HERE.parent / "src" / "mlscope" / "catalog" / "data"

CATALOG_DATE = "2026-11-26"

# Hardware generation drives the utilization prior (older parts and non-NVIDIA stacks reach a
# smaller share of their peak in practice).
GENERATION = {
    "K80": "kepler", "T4": "turing", "V100": "volta", "A10G": "ampere", "L4": "ada",
    "L40S": "ada", "A100": "ampere", "H100": "hopper", "H800": "hopper", "H200": "hopper",
    "B200": "blackwell", "Gaudi2": "gaudi", "MI300X": "cdna3", "MI250": "cdna2", "A800": "ampere",
    "Trainium1": "trainium",
    "Trainium2": "trainium", "Inferentia2": "inferentia", "TPU-v2": "tpu", "TPU-v3": "tpu",
    "TPU-v4": "tpu", "TPU-v5e": "tpu", "TPU-v5p": "tpu", "Apple": "apple", "Raspberry": "cpu",
}
EXTRA_ALIASES = {
    "A100-SXM4-40GB": ["A100-SXM4", "A100-40G"],
    "A100-SXM4-80GB": ["A100-80G", "A100-SXM4-80G"],
    "H100-SXM5-80GB": ["H100-80GB", "H100-SXM5"],
    "H100-PCIE-80GB": ["H100-PCIe-80GB"],
    "H200-SXM-141GB": ["H200-141GB"],
    "V100-SXM2-32GB": ["V100-SXM2"],
    "Trainium1": ["Trainium", "trn1-chip"],
    "Trainium2": ["trn2-chip"],
    "Inferentia2": ["inf2-chip"],
    "TPU-v3": ["TPUv3", "v3"],
    "TPU-v4": ["TPUv4", "v4"],
    "TPU-v5e": ["TPUv5e", "v5e"],
    "TPU-v5p": ["TPUv5p", "v5p"],
    "Gaudi2": ["HL-225"],
    "MI300X": ["AMD-MI300X"],
}
# p3.* carry the 16 GB V100, which the reference table lacks; A800 and MI250X trained many
# published runs (Chinese labs' A800 clusters, LUMI and Frontier), so a user can name them.
EXTRA_ACCELERATORS = [
    {
        "name": "V100-SXM2-16GB", "aliases": "V100-16GB", "peak_dense_bf16_tflops": "125",
        "peak_dense_fp8_tflops": "", "peak_fp32_tflops": "15.7", "peak_tf32_tflops": "",
        "memory_gb": "16", "memory_bandwidth_gbs": "900", "tdp_w": "300",
        "note": "fp16 tensor peak (no bf16); the GPU of p3.2xlarge/8xlarge/16xlarge",
        "source": "NVIDIA Tesla V100 datasheet",
    },
    {
        "name": "A800-SXM4-80GB", "aliases": "A800;A800-80GB", "peak_dense_bf16_tflops": "312",
        "peak_dense_fp8_tflops": "", "peak_fp32_tflops": "19.5", "peak_tf32_tflops": "156",
        "memory_gb": "80", "memory_bandwidth_gbs": "2039", "tdp_w": "400",
        "note": "export variant of the A100 SXM4 80GB: same die, compute and memory, NVLink "
                "cut from 600 to 400 GB/s",
        "source": "NVIDIA statement of 2022-11-07 (A800 = A100 with 400 GB/s NVLink); "
                  "A100 80GB datasheet figures",
    },
    {
        "name": "MI250X", "aliases": "AMD-MI250X", "peak_dense_bf16_tflops": "383",
        "peak_dense_fp8_tflops": "", "peak_fp32_tflops": "47.9", "peak_tf32_tflops": "",
        "memory_gb": "128", "memory_bandwidth_gbs": "3200", "tdp_w": "560",
        "note": "one OAM module of two GCDs (ROCm shows each GCD as a GPU: count modules)",
        "source": "AMD Instinct MI250X specifications (peak FP16/BF16 383 TFLOPS, 128 GB HBM2e, "
                  "3.2 TB/s, 560 W peak board power)",
    },
]
# Reference accelerator names in the EC2 table -> catalog names, using accelerator memory
# per device to tell V100 16 GB (p3) from 32 GB (p3dn).
EC2_ACCEL = {
    "T4": "T4", "A10G": "A10G", "L4": "L4", "L40S": "L40S", "A100": "A100-SXM4-40GB",
    "A100-80GB": "A100-SXM4-80GB", "H100": "H100-SXM5-80GB", "H200": "H200-SXM-141GB",
    "B200": "B200", "V100": "V100-SXM2-16GB", "V100-32GB": "V100-SXM2-32GB",
    "Trainium": "Trainium1", "Inferentia2": "Inferentia2",
}
# What each accelerator is for: the config search proposes "training" parts only (a user may
# still name any accelerator). Inference-class parts: AWS positions Inferentia, T4 (g4dn) and
# L4 (g6) for inference; K80, Apple and Raspberry Pi rows are for other estimates.
INFERENCE_ONLY = ("Inferentia", "K80", "Apple", "Raspberry")
INFERENCE_PARTS = {"T4", "L4"}
# Network per instance (Gbps), whether it has EFA, and the link between its accelerators, from
# the AWS EC2 accelerated-computing instance specifications page (docs.aws.amazon.com/ec2/
# latest/instancetypes/ac.html). Multi-node training needs EFA at >= 400 Gbps (p4d class).
INTERCONNECT = {
    "p3.2xlarge": (10, False, "single"), "p3.8xlarge": (10, False, "nvlink"),
    "p3.16xlarge": (25, False, "nvlink"), "p3dn.24xlarge": (100, True, "nvlink"),
    "p4d.24xlarge": (400, True, "nvswitch"), "p4de.24xlarge": (400, True, "nvswitch"),
    "p5.4xlarge": (100, False, "single"), "p5.48xlarge": (3200, True, "nvswitch"),
    "p5e.48xlarge": (3200, True, "nvswitch"), "p5en.48xlarge": (3200, True, "nvswitch"),
    "p6-b200.48xlarge": (3200, True, "nvswitch"), "p6-b300.48xlarge": (6400, True, "nvswitch"),
    "g4dn.xlarge": (25, False, "single"), "g4dn.2xlarge": (25, False, "single"),
    "g4dn.4xlarge": (25, False, "single"), "g4dn.12xlarge": (50, True, "pcie"),
    "g5.xlarge": (10, False, "single"), "g5.2xlarge": (10, False, "single"),
    "g5.4xlarge": (25, False, "single"), "g5.16xlarge": (25, False, "single"),
    "g5.12xlarge": (40, True, "pcie"), "g5.48xlarge": (100, True, "pcie"),
    "g6.xlarge": (10, False, "single"), "g6.16xlarge": (25, False, "single"),
    "g6.12xlarge": (40, True, "pcie"), "g6f.2xlarge": (10, False, "single"),
    "g6e.xlarge": (20, False, "single"), "g6e.4xlarge": (20, False, "single"),
    "g6e.8xlarge": (25, False, "single"), "g6e.16xlarge": (35, False, "single"),
    "g6e.12xlarge": (100, True, "pcie"), "g6e.48xlarge": (400, True, "pcie"),
    "trn1.2xlarge": (12.5, False, "single"), "trn1.32xlarge": (800, True, "neuronlink"),
    "trn1n.32xlarge": (1600, True, "neuronlink"), "inf1.2xlarge": (25, False, "single"),
    "inf2.xlarge": (15, False, "single"), "inf2.8xlarge": (25, False, "single"),
    "inf2.24xlarge": (50, False, "neuronlink"), "inf2.48xlarge": (100, False, "neuronlink"),
}

# Typical SageMaker markup over EC2 for instances without a quoted SageMaker price: the median
# of the secondary quotes in the reference table (1.15-1.40). Rows derived this way are labelled.
SAGEMAKER_MARKUP = 1.25


def _rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader((REF / name).read_text().splitlines()))


def generation(name: str) -> str:
    for prefix, gen in GENERATION.items():
        if name.startswith(prefix):
            return gen
    return "other"


def build_accelerators() -> None:
    rows = _rows("accelerators.csv") + EXTRA_ACCELERATORS
    fields = ["name", "aliases", "generation", "peak_dense_bf16_tflops", "peak_dense_fp8_tflops",
              "peak_fp32_tflops", "peak_tf32_tflops", "memory_gb", "memory_bandwidth_gbs",
              "tdp_w", "use", "note", "source", "date"]
    with open(OUT / "accelerators.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for r in rows:
            aliases = [a for a in r["aliases"].split(";") if a] + EXTRA_ALIASES.get(r["name"], [])
            out = {k: r.get(k, "") for k in fields}
            out["aliases"] = ";".join(aliases)
            out["generation"] = generation(r["name"])
            out["use"] = ("inference" if r["name"].startswith(INFERENCE_ONLY)
                          or r["name"] in INFERENCE_PARTS else "training")
            out["date"] = CATALOG_DATE
            w.writerow(out)


def build_instances() -> None:
    ec2 = _rows("aws_ec2_prices.csv")
    sm = {(r["ml_instance_type"], r["region"]): r
          for r in _rows("sagemaker_prices_secondary.csv")}
    fields = ["instance_type", "service", "region", "vcpus", "memory_gib", "accelerator",
              "accelerator_count", "price_on_demand_usd_hr", "price_spot_usd_hr",
              "price_quality", "source", "date", "network_gbps", "efa", "intra_node"]
    with open(OUT / "aws_instances.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        for r in ec2:
            acc = EC2_ACCEL.get(r["accelerator_name"], r["accelerator_name"])
            count = r["accelerator_count"] or "0"
            net = INTERCONNECT.get(r["instance_type"])
            base = {
                "region": r["region"], "vcpus": r["vcpus"], "memory_gib": r["memory_gib"],
                "accelerator": acc, "accelerator_count": count,
                "network_gbps": f"{net[0]:g}" if net else "", "efa": "yes" if net and net[1]
                else ("no" if net else ""), "intra_node": net[2] if net else "",
            }
            source = f'{r["source_file"]} ({r["source_date"]})'
            w.writerow({**base, "instance_type": r["instance_type"], "service": "ec2",
                        "price_on_demand_usd_hr": r["price_on_demand_usd_hr"],
                        "price_spot_usd_hr": r["price_spot_usd_hr"],
                        "price_quality": "catalog", "source": source, "date": CATALOG_DATE})
            ml = "ml." + r["instance_type"]
            quote = sm.get((ml, r["region"]))
            od = r["price_on_demand_usd_hr"]
            if quote and not quote["caveat"].startswith("pre"):
                price, quality = quote["sagemaker_price_usd_hr"], "secondary-rough"
                src = f'{quote["source_of_sagemaker_price"]} ({quote["caveat"]})'
            elif od:
                price = f"{float(od) * SAGEMAKER_MARKUP:.4f}"
                quality = "derived-rough"
                src = (f"EC2 on-demand x {SAGEMAKER_MARKUP} typical SageMaker markup (rough; "
                       "import the AmazonSageMaker offer file for real prices)")
            else:
                continue
            # SageMaker managed spot training bills the EC2 spot rate plus markup; keep it rough.
            spot = r["price_spot_usd_hr"]
            spot_ml = f"{float(spot) * SAGEMAKER_MARKUP:.4f}" if spot else ""
            w.writerow({**base, "instance_type": ml, "service": "sagemaker",
                        "price_on_demand_usd_hr": price, "price_spot_usd_hr": spot_ml,
                        "price_quality": quality, "source": src, "date": CATALOG_DATE})


def copy_table(name: str) -> None:
    rows = _rows(name)
    with open(OUT / name, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=[*rows[0].keys(), "date"])
        w.writeheader()
        for r in rows:
            w.writerow({**r, "date": CATALOG_DATE})


def build_utilization_fit() -> None:
    """Fit utilization on the packaged runs once, here, so no estimate refits it at run time."""
    import json

    sys.path.insert(0, str(HERE.parent / "src"))
    from mlscope.catalog import reset_catalog
    from mlscope.estimate.utilization import FIT_FILE, build_fit_file

    reset_catalog()
    (OUT / FIT_FILE).write_text(json.dumps(build_fit_file(), indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    if "--fit-only" not in sys.argv:
        build_accelerators()
        build_instances()
        copy_table("aws_storage_transfer_prices.csv")
    build_utilization_fit()
    print(f"catalog written to {OUT}")
