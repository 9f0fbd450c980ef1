"""Timelines for editing suites (OTIO, FCP 7 XML, FCPXML, EDL), their import, and takedown lists.

Import the submodules (`build`, `write`, `read`, `withdrawal`, `records`): opentimelineio loads
only when a function needs it.
"""
