"""Callbacks that write lossdoc's run log from other training frameworks (lossdoc.integrations.hf: transformers' Trainer; lossdoc.integrations.lightning: a Lightning Trainer)."""
