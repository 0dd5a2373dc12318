"""Test helpers: aiapy_plugin runs aiapy's own test suite with aiaccel substituted;
assert_matches_reference checks a Python implementation of a stage against aiaccel's reference."""


def assert_matches_reference(fn, stage="register", cases="quick", **kwargs):
    """Fails (AssertionError naming each failed case, why and its repro line) unless ``fn`` matches the
    reference on every case of ``stage`` by the tolerance table (or ``bound=``); see aiaccel.validate.check."""
    from aiaccel.validate import check

    result = check(fn, stage=stage, cases=cases, **kwargs)
    if not result.passed:
        raise AssertionError(f"{getattr(fn, '__name__', fn)} does not match aiaccel's reference ({stage}):\n{result.summary()}")
    return result
