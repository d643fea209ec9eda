"""The call statistics panel: every track's figures from ``await client.get_stats()``,
refreshed while it is open, and Copy to put them on the clipboard for a bug report."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QGuiApplication, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from roomcall.aio import TaskSet
from roomcall.sdk import CallStats, TrackStats
from roomcall.ui import signal_bars
from roomcall.ui.room_view import StatsSource

log = logging.getLogger(__name__)

REFRESH_SECONDS = 2.0
"""How often the open panel asks the SDK for fresh figures."""


class StatsPanel(QDialog):
    """A table with one row per track stream (a local track once per member it goes to),
    the network grade of each member under it, and Copy.

    ``name_of(user_id)`` gives a member's display name (the local user's included).
    """

    def __init__(self, source: StatsSource, name_of: Callable[[str], str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._source = source
        self._name_of = name_of
        self._tasks = TaskSet(log, "stats panel")
        self.stats: CallStats | None = None
        """The figures shown now (None before the first answer)."""
        self._shown: list[TrackStats] = []  # the table's rows, in order
        self.refreshes = 0
        """Answers shown so far."""
        self.table = QTableWidget(0, 10, self)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.quality_label = QLabel(self)
        self.quality_label.setWordWrap(True)
        self.copy_button = QPushButton(self)
        self.close_button = QPushButton(self)
        self.copied_label = QLabel(self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.copied_label, 1)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.quality_label)
        layout.addLayout(buttons)
        self.copy_button.clicked.connect(self.copy)
        self.close_button.clicked.connect(self.close)
        self._timer = QTimer(self)
        self._timer.setInterval(int(REFRESH_SECONDS * 1000))
        self._timer.timeout.connect(self._refresh_soon)
        self.resize(900, 400)
        self._retranslate()

    async def refresh(self) -> CallStats:
        """Ask the SDK for the figures and show them."""
        stats = await self._source.get_stats()
        self.stats = stats
        self.refreshes += 1
        self._show(stats)
        return stats

    def text(self) -> str:
        """The figures shown, as plain text (what Copy puts on the clipboard)."""
        lines = [self.tr("roomcall call statistics, {time} UTC, rates over {seconds:.1f} s")
                 .format(time=time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
                         seconds=self.stats.interval if self.stats else 0.0)]
        headers = [self._header(c) for c in range(self.table.columnCount())]
        rows = [[self._cell(r, c) for c in range(self.table.columnCount())]
                for r in range(self.table.rowCount())]
        widths = [max(len(x) for x in column) for column in zip(headers, *rows, strict=True)]
        for row in [headers, *rows]:
            lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
        if self.quality_label.text():
            lines.append(self.quality_label.text())
        return "\n".join(lines) + "\n"

    def copy(self) -> None:
        """Put :meth:`text` on the clipboard."""
        QGuiApplication.clipboard().setText(self.text())
        self.copied_label.setText(self.tr("Copied to the clipboard."))

    def row_of(self, track_id: str, peer_id: str | None = None) -> list[str] | None:
        """The cells of ``track_id``'s row (its stream to ``peer_id``, for a local track)."""
        for index, track in enumerate(self._shown):
            if track.track_id == track_id and (peer_id is None or track.peer_id == peer_id):
                return [self._cell(index, c) for c in range(self.table.columnCount())]
        return None

    # --- Qt --------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        """Start refreshing, the first figures at once."""
        super().showEvent(event)
        self._timer.start()
        self._refresh_soon()

    def hideEvent(self, event: QHideEvent) -> None:
        """Stop asking while nobody looks."""
        self._timer.stop()
        self._tasks.cancel()
        super().hideEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop refreshing."""
        self._timer.stop()
        self._tasks.cancel()
        super().closeEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        """Retranslate when the language changes."""
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    # --- internals -------------------------------------------------------------------------

    def _refresh_soon(self) -> None:
        if not len(self._tasks):  # one question at a time: a slow answer is not queued up
            self._tasks.spawn(self.refresh())

    def _show(self, stats: CallStats) -> None:
        # What this client sends first, then what it receives, by member, video first.
        self._shown = sorted(stats.tracks, key=lambda t: (
            not t.local, self._name_of(t.user_id), self._name_of(t.peer_id), t.kind != "video",
            t.tag))
        self.table.setRowCount(len(self._shown))
        for row, track in enumerate(self._shown):
            for column, value in enumerate(self._cells(track)):
                item = QTableWidgetItem(value)
                if column >= 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
        self.quality_label.setText("\n".join(
            self.tr("Network of {name}: sending {uplink}, receiving {downlink}").format(
                name=self._name_of(user_id), uplink=signal_bars.grade_name(quality.uplink),
                downlink=signal_bars.grade_name(quality.downlink))
            for user_id, quality in sorted(stats.quality.items(),
                                           key=lambda item: self._name_of(item[0]))))

    def _cells(self, t: TrackStats) -> list[str]:
        dash = "—"
        kind = self.tr("video") if t.kind == "video" else self.tr("audio")
        if t.tag:
            kind = f"{kind} ({t.tag})"
        if t.local:
            direction = self.tr("sent to {name}").format(name=self._name_of(t.peer_id)) \
                if t.peer_id else self.tr("sent")
        else:
            direction = self.tr("received")
        loss = dash if t.loss is None else f"{t.loss * 100:.1f} %"
        return [
            self._name_of(t.user_id), kind, direction,
            self.tr("{value} kbit/s").format(value=round(t.bitrate / 1000)),
            dash if t.frame_rate is None else f"{t.frame_rate:.1f}",
            dash if t.width is None or t.height is None else f"{t.width}×{t.height}",
            self.tr("{share} ({lost} lost)").format(share=loss, lost=t.packets_lost),
            dash if t.rtt_ms is None else f"{t.rtt_ms:.0f} ms",
            dash if t.jitter_ms is None else f"{t.jitter_ms:.1f} ms",
            dash if t.concealed is None else f"{t.concealed * 100:.1f} %",
        ]

    def _header(self, column: int) -> str:
        item = self.table.horizontalHeaderItem(column)
        return item.text() if item is not None else ""

    def _cell(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text() if item is not None else ""

    def _retranslate(self) -> None:
        self.setWindowTitle(self.tr("Call statistics"))
        self.table.setHorizontalHeaderLabels([
            self.tr("Member"), self.tr("Track"), self.tr("Direction"), self.tr("Bitrate"),
            self.tr("Frame rate (fps)"), self.tr("Resolution"), self.tr("Loss"), self.tr("RTT"),
            self.tr("Jitter"), self.tr("Concealed")])
        self.copy_button.setText(self.tr("Copy"))
        self.close_button.setText(self.tr("Close"))
        self.copied_label.setText("")
        if self.stats is not None:
            self._show(self.stats)
