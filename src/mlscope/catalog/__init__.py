"""The price and hardware catalog: packaged, dated data files behind one facade.

Every lookup is case-insensitive, understands aliases, and fails with "did you mean ...".
"""

from mlscope.catalog.core import (
    Accelerator,
    Catalog,
    Instance,
    ResolvedHardware,
    get_catalog,
    reset_catalog,
)
from mlscope.catalog.files import data_file, data_text

__all__ = ["Accelerator", "Catalog", "Instance", "ResolvedHardware", "data_file", "data_text",
           "get_catalog", "reset_catalog"]
