"""The claims of PAPER_SPEC §10: pure functions from analysis tables and thresholds to claim rows."""
