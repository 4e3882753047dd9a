"""Campaign planning: rate cards and quotes, a brief's plans (tier allocations and creator
selections, derived from the catalog or given), their lifecycle, and the `plan` commands."""
