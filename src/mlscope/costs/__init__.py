"""Cost control: environment run-rates, off-hours schedules, budget risk, diffs and exports."""
