"""Speed of `mlscope billing summary` on a local CUR 2.0 Parquet file (GENERATED line items).

Target: at least 1M line items per second. Prints rows/s of mlscope's summary (normalized view
with the CID effective-cost mapping, groups + currency totals + untagged resources in one scan)
next to a raw DuckDB GROUP BY over the same file, and the ratio; then the same summary under a
256 MB DuckDB memory limit (DuckDB streams the file, so memory stays bounded).

    .venv/bin/python benchmarks/billing_summary_speed.py [ROWS]
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from mlscope.costs.billing.dataset import BillingData

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 4_000_000
REPEATS = 3


def generate(path: Path, n: int, seed: int = 0) -> None:
    """n CUR 2.0 line items: 20 services, 3,000 resources, 5 line item types, 4 env tags."""
    rng = np.random.default_rng(seed)
    chunk = 1_000_000
    writer = None
    start = np.datetime64("2027-01-01T00:00:00", "ms")
    services = np.array([f"Amazon{s}" for s in ("EC2", "SageMaker", "S3", "RDS", "EKS", "ECS",
                         "Lambda", "CloudWatch", "VPC", "DynamoDB", "Glue", "Athena", "MWAA",
                         "Kinesis", "SNS", "SQS", "ECR", "EFS", "Bedrock", "Redshift")])
    types = np.array(["Usage", "SavingsPlanCoveredUsage", "SavingsPlanNegation",
                      "DiscountedUsage", "Tax"])
    envs = ["dev", "qa", "prod", "staging"]
    for offset in range(0, n, chunk):
        m = min(chunk, n - offset)
        cost = rng.lognormal(-3, 1.5, m)
        kind = types[rng.choice(5, m, p=[0.7, 0.1, 0.1, 0.08, 0.02])]
        env_idx = rng.integers(0, 5, m)  # 4 = untagged
        keys, values, offsets = [], [], [0]
        for e in env_idx:
            if e < 4:
                keys += ["user_env", "user_component"]
                values += [envs[e], f"c{e}"]
            offsets.append(len(keys))
        tags = pa.MapArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(keys),
                                       pa.array(values))
        table = pa.table({
            "bill_payer_account_name": pa.array(["payer"] * m),
            "line_item_usage_account_id": pa.array(rng.integers(0, 8, m).astype(str)),
            "line_item_line_item_type": pa.array(kind),
            "line_item_usage_start_date": pa.array(
                start + rng.integers(0, 31 * 24, m).astype("timedelta64[h]")),
            "line_item_product_code": pa.array(services[rng.integers(0, 20, m)]),
            "line_item_usage_type": pa.array(np.char.add("USE1-BoxUsage:m5.",
                                                         rng.integers(1, 9, m).astype(str))),
            "line_item_resource_id": pa.array(np.char.add("i-", rng.integers(0, 3000, m)
                                                          .astype(str))),
            "line_item_currency_code": pa.array(["USD"] * m),
            "line_item_unblended_cost": pa.array(cost),
            "line_item_net_unblended_cost": pa.array(cost),
            "savings_plan_savings_plan_effective_cost": pa.array(cost * 0.7),
            "savings_plan_total_commitment_to_date": pa.array(np.zeros(m)),
            "savings_plan_used_commitment": pa.array(np.zeros(m)),
            "reservation_effective_cost": pa.array(cost * 0.6),
            "pricing_public_on_demand_cost": pa.array(cost * 1.1),
            "product_region_code": pa.array(["us-east-1"] * m),
            "product_instance_type": pa.array(["m5.large"] * m),
            "resource_tags": tags,
        })
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema, compression="zstd")
        writer.write_table(table)
    assert writer is not None
    writer.close()


def timed(fn: object) -> float:
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cur2.parquet"
        t0 = time.perf_counter()
        generate(path, ROWS)
        print(f"generated {ROWS:,} CUR 2.0 line items ({path.stat().st_size / 1e6:.0f} MB "
              f"Parquet) in {time.perf_counter() - t0:.1f} s")
        print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, "
              f"DuckDB {duckdb.__version__}")

        def raw() -> None:
            con = duckdb.connect()
            con.execute(f"SELECT line_item_product_code, SUM(line_item_unblended_cost) "
                        f"FROM read_parquet('{path}') GROUP BY 1").fetchall()
            con.close()

        result: dict[str, object] = {}

        def summary(by: list[str], memory: str | None = None) -> None:
            with BillingData([str(path)], memory_limit=memory) as data:
                result.update(data.summary(by))

        def raw_env() -> None:
            con = duckdb.connect()
            con.execute(f"SELECT line_item_product_code, resource_tags['user_env'], "
                        f"SUM(line_item_unblended_cost) FROM read_parquet('{path}') "
                        f"GROUP BY 1, 2").fetchall()
            con.close()

        t_raw = timed(raw)
        print(f"raw DuckDB GROUP BY service:          {t_raw:6.2f} s  "
              f"{ROWS / t_raw / 1e6:6.1f} M rows/s")
        t_raw_env = timed(raw_env)
        print(f"raw DuckDB GROUP BY service, env tag: {t_raw_env:6.2f} s  "
              f"{ROWS / t_raw_env / 1e6:6.1f} M rows/s")
        for by in (["service"], ["service", "env"], ["day", "account"]):
            t = timed(lambda by=by: summary(by))
            assert result["rows"] == ROWS
            print(f"mlscope billing summary --by {' --by '.join(by):14s} {t:6.2f} s  "
                  f"{ROWS / t / 1e6:6.1f} M rows/s  ratio to raw {t / t_raw:4.1f}x")
        t = timed(lambda: summary(["service"], "256MB"))
        print(f"summary --by service, memory_limit 256MB: {t:6.2f} s  "
              f"{ROWS / t / 1e6:6.1f} M rows/s")
        target = ROWS / timed(lambda: summary(["service"]))
        print(f"target >= 1.0 M rows/s: {'met' if target >= 1e6 else 'NOT met'} "
              f"({target / 1e6:.1f} M rows/s)")


if __name__ == "__main__":
    main()
