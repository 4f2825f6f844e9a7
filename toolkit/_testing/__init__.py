"""Fault hooks for the test suites (``faults``): each reads one environment variable and
does nothing when it is unset."""
