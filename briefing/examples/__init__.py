"""Example records, taken from the seed article, that `briefing init --example` writes."""
