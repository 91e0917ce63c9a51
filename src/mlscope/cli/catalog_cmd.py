"""`mlscope catalog list|show|import`."""

from __future__ import annotations

from dataclasses import asdict

import click

from mlscope.cli.output import Table, console, fmt_money, json_option, print_json
from mlscope.errors import UnknownNameError


@click.group()
def catalog() -> None:
    """Accelerators, AWS instances and their prices (dated, with sources)."""


@catalog.command("list")
@click.option("--kind", type=click.Choice(["accelerators", "instances"]), default="accelerators",
              show_default=True)
@click.option("--region", help="Only instances in this region.")
@click.option("--service", type=click.Choice(["ec2", "sagemaker"]), help="Only this service.")
@click.option("--accelerator", help="Only instances carrying this accelerator.")
@json_option
def list_cmd(kind: str, region: str | None, service: str | None, accelerator: str | None,
             as_json: bool) -> None:
    """List accelerators (default) or instances with prices."""
    from mlscope.catalog import get_catalog

    cat = get_catalog()
    if kind == "accelerators":
        accs = sorted(cat.accelerators.values(), key=lambda a: a.name)
        if as_json:
            print_json({"dates": cat.dates, "accelerators": [asdict(a) for a in accs]})
            return
        t = Table(title=f"Accelerators (catalog {cat.dates.get('accelerators')})")
        for col in ("name", "aliases", "bf16 TFLOPS", "memory GB", "GB/s", "TDP W"):
            t.add_column(col)
        for a in accs:
            t.add_row(a.name, ", ".join(a.aliases), f"{a.peak_bf16_tflops or '-'}",
                      f"{a.memory_gb:g}", f"{a.bandwidth_gbs or '-'}", f"{a.tdp_w or '-'}")
        console().print(t)
        return
    if region and region not in cat.regions():
        raise UnknownNameError("region", region, cat.regions())
    acc_name = cat.accelerator(accelerator).name if accelerator else None
    instances = [i for i in cat.instances if (not region or i.region == region)
            and (not service or i.service == service)
            and (not acc_name or i.accelerator == acc_name)]
    instances.sort(key=lambda i: (i.service, i.instance_type, i.region))
    if as_json:
        print_json({"dates": cat.dates, "instances": [asdict(i) for i in instances]})
        return
    t = Table(title=f"AWS instances ({len(instances)} rows; prices "
              f"{cat.dates.get('instances')})")
    for col in ("instance", "region", "vCPU", "GiB", "accelerators", "on-demand/h", "spot/h",
                "prices"):
        t.add_column(col)
    for i in instances:
        carried = f"{i.accelerator_count:g} x {i.accelerator}" if i.accelerator else "-"
        t.add_row(i.instance_type, i.region, str(i.vcpus), f"{i.memory_gib:g}", carried,
                  fmt_money(i.on_demand_usd_hr), fmt_money(i.spot_usd_hr), i.price_quality)
    console().print(t)


@catalog.command()
@click.argument("name")
@json_option
def show(name: str, as_json: bool) -> None:
    """Show an accelerator or an instance type (with its prices in every region)."""
    from mlscope.catalog import get_catalog

    cat = get_catalog()
    acc = cat.find_accelerator(name)
    if acc is not None:
        carriers = sorted({i.instance_type for i in cat.instances if i.accelerator == acc.name})
        if as_json:
            print_json({"accelerator": asdict(acc), "instances": carriers})
            return
        c = console()
        c.print(f"[bold]{acc.name}[/bold] ({acc.generation}); aliases: {', '.join(acc.aliases)}")
        c.print(f"  peak dense: bf16 {acc.peak_bf16_tflops} / fp8 {acc.peak_fp8_tflops} / "
                f"fp32 {acc.peak_fp32_tflops} TFLOPS; {acc.memory_gb:g} GB at "
                f"{acc.bandwidth_gbs} GB/s; TDP {acc.tdp_w} W")
        c.print(f"  on AWS: {', '.join(carriers) or 'not offered'}")
        c.print(f"  source: {acc.source} ({acc.date}) {acc.note}")
        return
    inst = cat.find_instance(name)
    if inst is None:
        raise UnknownNameError("accelerator or instance", name,
                               cat.accelerator_names() + cat.instance_types())
    rows = [i for i in cat.instances if i.instance_type == inst.instance_type]
    if as_json:
        print_json({"instance_type": inst.instance_type, "regions": [asdict(i) for i in rows]})
        return
    t = Table(title=f"{inst.instance_type}: {inst.vcpus} vCPU, {inst.memory_gib:g} GiB, "
              f"{inst.accelerator_count:g} x {inst.accelerator or 'no accelerator'}")
    for col in ("region", "on-demand/h", "spot/h", "prices", "date"):
        t.add_column(col)
    for i in rows:
        t.add_row(i.region, fmt_money(i.on_demand_usd_hr), fmt_money(i.spot_usd_hr),
                  i.price_quality, i.date)
    c = console()
    c.print(t)
    for source in sorted({i.source for i in rows}):
        c.print(f"[dim]source: {source}[/dim]")


@catalog.command("import")
@click.argument("file", type=click.Path())
@json_option
def import_cmd(file: str, as_json: bool) -> None:
    """Import prices from a SkyPilot vms.csv or an AWS Price List offer JSON file (offline)."""
    from mlscope.catalog.importers import import_prices

    result = import_prices(file)
    if as_json:
        print_json({**asdict(result), "overlay": str(result.overlay)})
    else:
        click.echo(f"Imported {result.rows} prices ({result.format}, {result.new_types} new "
                   f"instance types) dated {result.publication_date or result.imported_at}; "
                   f"stored in {result.overlay}")
