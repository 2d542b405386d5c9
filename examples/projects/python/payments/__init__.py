"""A deliberately tiny payments API core used as controlgate example data."""
