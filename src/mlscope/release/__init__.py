"""Release: registry, gated promotion, approvals, audit log, experiments, monitoring, deploy."""
