"""Audio peaks per source file (table `waveforms`, revision 0005): computed once, a few KB per
minute (`pipeline.waveform.peaks_to_bytes`)."""

from __future__ import annotations

from clips_metadata.engine import Repository
from clips_metadata.rows import utc_now
from clips_metadata.tables import WaveformRow
from pipeline.waveform import Peaks, peaks_from_bytes, peaks_to_bytes


class WaveformsRepo(Repository):
    def get(self, source_sha256: str) -> Peaks | None:
        with self.db.read() as s:
            row = s.get(WaveformRow, source_sha256)
            return peaks_from_bytes(row.peaks) if row is not None else None

    def put(self, source_sha256: str, peaks: Peaks) -> None:
        """Store (or replace) the peaks of a source."""
        with self.db.transaction() as s:
            row = s.get(WaveformRow, source_sha256)
            if row is None:
                s.add(WaveformRow(source_sha256=source_sha256, peaks=peaks_to_bytes(peaks),
                                  created_at=utc_now()))
            else:
                row.peaks = peaks_to_bytes(peaks)
