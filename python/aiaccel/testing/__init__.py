"""Test helpers: aiapy_plugin runs aiapy's own test suite with aiaccel substituted."""
