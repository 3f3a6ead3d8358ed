"""Issue 13's battery of bad inputs (run by ``benchmarks/bad_input_battery.py``)."""
