"""Prefect flows, tasks and the command line: the composition root that wires stages to the store."""
