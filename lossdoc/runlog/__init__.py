"""The run log: schema lossdoc.run/1, its writer, and readers into one normalised Run."""

SCHEMA = "lossdoc.run/1"
