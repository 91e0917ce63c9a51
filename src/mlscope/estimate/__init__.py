"""Training and inference cost estimation: analytic (known shapes) and empirical (measured)."""
