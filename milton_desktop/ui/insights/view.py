"""View ▸ Insights…: one account's best hours, its posts' figures, and Fetch now.

Every read runs on a worker (``ui/tasks.py``); Fetch now runs ``operations.insights``
on one too, and the view reads again when it is done.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from milton_desktop.domain import best_times as ranking
from milton_desktop.domain.clock import Clock, SystemClock
from milton_desktop.operations import insights
from milton_desktop.publishers import registry
from milton_desktop.storage import queries
from milton_desktop.storage.credentials import CredentialStore
from milton_desktop.storage.queries import AccountView
from milton_desktop.ui import style, tones
from milton_desktop.ui.insights.heatmap import Heatmap
from milton_desktop.ui.insights.sparkline import SparklineDelegate
from milton_desktop.ui.insights.table import PostsModel, sorting_proxy
from milton_desktop.ui.tasks import LatestRead, run_in_background
from milton_desktop.ui.wording import describe

log = logging.getLogger("milton.ui.insights")


def fetch_summary(reports: list[insights.AccountFetch]) -> tuple[str, str]:
    """(words, tone) saying what a Fetch now did."""
    if not reports:
        return "No published posts to read figures for yet.", "info"
    lines, tone = [], "ok"
    for r in reports:
        label = registry.label(r.platform)
        parts = [f"{r.taken} post{'s' if r.taken != 1 else ''} measured"]
        if r.gone:
            parts.append(f"{r.gone} no longer on {label}")
        if r.pending:
            parts.append(f"{r.pending} without figures yet")
        if r.wait_until is not None:
            at = r.wait_until.astimezone().strftime("%H:%M")
            parts.append(f"{label} asked to wait: the rest is read after {at}")
            tone = "warning"
        if r.yielded:
            parts.append("stopped to let a post go out; the rest is read on the next pass")
            tone = "warning"
        line = "; ".join(parts) + "."
        if r.error:
            line = f"{line} {r.error[:1].upper()}{r.error[1:]}."
            tone = "error"
        lines.append(line[:1].upper() + line[1:])
    return " ".join(lines), tone


class InsightsDialog(QDialog):
    """The Insights view of one account at a time.

    Signals:
        fetched: a Fetch now finished (its reports).
    """

    fetched = Signal(object)

    def __init__(
        self,
        credentials: CredentialStore,
        parent: QWidget | None = None,
        *,
        clock: Clock | None = None,
        account_id: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("insightsDialog")
        self.setWindowTitle("Insights")
        self.credentials = credentials
        self.clock: Clock = clock or SystemClock()
        self._wanted = account_id
        self.data: insights.AccountInsights | None = None
        self.fetching = False
        self._accounts_read = LatestRead(self)
        self._read = LatestRead(self)

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        account_label = QLabel("&Account:")
        top.addWidget(account_label)
        self.account_combo = QComboBox()
        self.account_combo.setObjectName("insightsAccount")
        self.account_combo.setMinimumWidth(220)
        self.account_combo.currentIndexChanged.connect(self._on_account_combo_changed)
        account_label.setBuddy(self.account_combo)
        top.addWidget(self.account_combo)
        self.zone_label = QLabel()
        self.zone_label.setObjectName("insightsZone")
        style.dim_label(self.zone_label)
        top.addWidget(self.zone_label)
        top.addStretch(1)
        self.progress = QProgressBar()
        self.progress.setObjectName("insightsProgress")
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(140)
        self.progress.setTextVisible(False)
        self.progress.hide()
        top.addWidget(self.progress)
        self.fetch_button = QPushButton("&Fetch now")
        self.fetch_button.setObjectName("insightsFetch")
        self.fetch_button.setToolTip(
            "Read the figures of every published post of this account from the platform now "
            "(the scheduler does it 1 h, 24 h and 7 days after each post)"
        )
        self.fetch_button.clicked.connect(self._on_fetch_button_clicked)
        top.addWidget(self.fetch_button)
        layout.addLayout(top)

        self.result_label = QLabel()
        self.result_label.setObjectName("insightsResult")
        self.result_label.setWordWrap(True)
        self.result_label.hide()
        layout.addWidget(self.result_label)

        self.summary_label = QLabel()
        self.summary_label.setObjectName("insightsSummary")
        self.summary_label.setWordWrap(True)
        bigger = QFont(self.summary_label.font())
        bigger.setPointSizeF(bigger.pointSizeF() * 1.15)
        self.summary_label.setFont(bigger)
        layout.addWidget(self.summary_label)

        self.notes_label = QLabel()
        self.notes_label.setObjectName("insightsNotes")
        self.notes_label.setWordWrap(True)
        self.notes_label.hide()
        layout.addWidget(self.notes_label)

        self.stack = QStackedWidget()
        self.heatmap = Heatmap()
        self.stack.addWidget(self.heatmap)
        self.thin = self._build_thin()
        self.stack.addWidget(self.thin)
        layout.addWidget(self.stack, 3)

        posts_title = QLabel("<b>Posts</b> — the latest figures of each; click a heading to sort")
        layout.addWidget(posts_title)
        self.model = PostsModel(self.clock.now, self)
        self.proxy = sorting_proxy(self.model)
        self.table = QTableView()
        self.table.setObjectName("insightsTable")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(28)
        self.table.horizontalHeader().setHighlightSections(False)
        self.sparklines = SparklineDelegate(self.table)
        layout.addWidget(self.table, 4)
        self.empty_label = QLabel(
            "No figures yet: the scheduler reads them 1 h, 24 h and 7 days after each post; "
            "Fetch now reads them at once."
        )
        self.empty_label.setObjectName("insightsEmpty")
        self.empty_label.setWordWrap(True)
        style.dim_label(self.empty_label)
        self.empty_label.hide()
        layout.addWidget(self.empty_label)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        self.resize(1060, 760)
        self._set_enabled(False)
        self.reload_accounts()

    def _build_thin(self) -> QWidget:
        panel = QWidget()
        panel.setObjectName("insightsThin")
        box = QVBoxLayout(panel)
        box.addStretch(1)
        self.thin_title = QLabel("Too little history to rank the hours yet")
        self.thin_title.setObjectName("insightsThinTitle")
        font = QFont(self.thin_title.font())
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.thin_title.setFont(font)
        self.thin_title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box.addWidget(self.thin_title)
        self.thin_bar = QProgressBar()
        self.thin_bar.setObjectName("insightsThinBar")
        self.thin_bar.setRange(0, ranking.MIN_POSTS)
        self.thin_bar.setFormat("%v of %m measured posts")
        self.thin_bar.setFixedWidth(320)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.thin_bar)
        row.addStretch(1)
        box.addLayout(row)
        self.thin_label = QLabel()
        self.thin_label.setObjectName("insightsThinText")
        self.thin_label.setWordWrap(True)
        self.thin_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        style.dim_label(self.thin_label)
        box.addWidget(self.thin_label)
        box.addStretch(1)
        return panel

    # ------------------------------------------------------------ reading

    def busy(self) -> bool:
        """Whether a read or a fetch has not answered yet."""
        return self._accounts_read.busy() or self._read.busy() or self.fetching

    def reload_accounts(self) -> None:
        self._accounts_read.request(
            queries.list_accounts, self._on_accounts_read, self._on_read_failed
        )

    def _on_accounts_read(self, accounts: list[AccountView]) -> None:
        self.account_combo.blockSignals(True)
        self.account_combo.clear()
        for acc in accounts:
            text = f"{acc.display_name}  ·  {registry.label(acc.platform)}"
            self.account_combo.addItem(style.platform_dot(acc.platform), text, acc.id)
        at = self.account_combo.findData(self._wanted) if self._wanted is not None else 0
        self.account_combo.setCurrentIndex(max(at, 0))
        self.account_combo.blockSignals(False)
        if not accounts:
            self.summary_label.setText(
                "Connect an account under File ▸ Accounts to see its figures."
            )
            self.stack.hide()
            return
        self.reload()

    def account_id(self) -> int | None:
        data = self.account_combo.currentData()
        return int(data) if data is not None else None

    def select_account(self, account_id: int) -> None:
        self._wanted = account_id
        at = self.account_combo.findData(account_id)
        if at >= 0:
            self.account_combo.setCurrentIndex(at)

    def reload(self) -> None:
        acc = self.account_id()
        if acc is None:
            return
        self._set_enabled(False)
        self._read.request(
            lambda: insights.account_insights(acc), self._on_insights_read, self._on_read_failed
        )

    def _on_insights_read(self, data: insights.AccountInsights) -> None:
        self.data = data
        self._wanted = data.account_id
        self._set_enabled(True)
        own = "the account's zone" if data.own_zone else "the app's zone"
        self.zone_label.setText(f"Hours in {data.timezone} ({own})")
        best = data.best
        self.heatmap.set_best(best)
        if best.basis == ranking.HISTORY:
            self.stack.setCurrentWidget(self.heatmap)
            self.summary_label.setText(self._summary(best))
        else:
            self.stack.setCurrentWidget(self.thin)
            self.thin_bar.setValue(min(best.posts, ranking.MIN_POSTS))
            self.thin_label.setText(
                insights.thin_history(best)
                + "\nFetch now reads the figures of the posts published so far."
            )
            self.summary_label.setText(
                f"{data.missing} more measured post{'s' if data.missing != 1 else ''} needed "
                f"before “{data.account}” gets best times."
            )
        self.stack.show()
        self._show_notes(data.notes)
        self.model.set_data(data)
        self.table.setItemDelegateForColumn(self.model.column_of("curve"), self.sparklines)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.model.column_of("text"), QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(self.model.column_of("curve"), QHeaderView.ResizeMode.Fixed)
        self.table.setColumnWidth(self.model.column_of("curve"), 96)
        if self.proxy.sortColumn() < 0 or self.proxy.sortColumn() >= len(self.model.columns):
            self.table.sortByColumn(self.model.column_of("went_out"), Qt.SortOrder.DescendingOrder)
        self.table.setVisible(bool(data.rows))
        self.empty_label.setVisible(not data.rows)

    def _summary(self, best: ranking.BestTimes) -> str:
        top = best.slots[0] if best.slots else None
        what = "interactions per impression" if best.per_impression else "interactions"
        if top is None or top.score <= 1.0:
            return (
                f"From {best.posts} measured posts: no hour has done better than a typical "
                "post yet."
            )
        posts = f"{top.posts} post{'s' if top.posts != 1 else ''}"
        return (
            f"Best hour: <b>{insights.slot_words(top)}</b> — {posts} did "
            f"{top.raw:.1f}× a typical post in {what}. From {best.posts} measured posts."
        )

    def _show_notes(self, notes: list[str]) -> None:
        self.notes_label.setVisible(bool(notes))
        if notes:
            colour = tones.tone(self.palette(), "warning").name()
            self.notes_label.setStyleSheet(f"color: {colour};")
            self.notes_label.setText(
                " ".join(n[:1].upper() + n[1:].rstrip(".") + "." for n in notes)
            )

    def _on_read_failed(self, exc: Exception) -> None:
        log.warning("insights could not be read: %s", exc)
        self._set_enabled(True)
        self._say(f"The figures could not be read: {describe(exc)}", "error")

    def _set_enabled(self, on: bool) -> None:
        self.fetch_button.setEnabled(on and not self.fetching and self.account_id() is not None)

    def _say(self, text: str, tone: str) -> None:
        self.result_label.setText(text)
        self.result_label.setVisible(bool(text))
        if tone in ("ok", "warning", "error"):
            colour = tones.tone(self.palette(), tone).name()
            self.result_label.setStyleSheet(f"color: {colour};")
        else:
            self.result_label.setStyleSheet("")

    # ------------------------------------------------------------ slots

    def _on_account_combo_changed(self, _index: int) -> None:
        self._say("", "info")
        self.reload()

    def _on_fetch_button_clicked(self) -> None:
        self.fetch_now()

    def fetch_now(self) -> None:
        """Read the account's figures from its platform now, on a worker."""
        acc = self.account_id()
        if acc is None or self.fetching:
            return
        self.fetching = True
        self._set_enabled(False)
        self.progress.show()
        label = registry.label(self.data.platform) if self.data is not None else "the platform"
        self._say(f"Reading the figures from {label}…", "info")
        creds, clock = self.credentials, self.clock

        def work() -> list[insights.AccountFetch]:
            return insights.take_snapshots(creds, clock=clock, account=acc, manual=True)

        run_in_background(
            work, parent=self, on_success=self._on_fetch_done, on_failure=self._on_fetch_failed
        )

    def _on_fetch_done(self, reports: Any) -> None:
        self.fetching = False
        self.progress.hide()
        text, tone = fetch_summary(list(reports))
        self._say(text, tone)
        self.fetched.emit(reports)
        self.reload()

    def _on_fetch_failed(self, exc: Exception) -> None:
        self.fetching = False
        self.progress.hide()
        log.warning("fetch now failed: %s", exc)
        self._say(f"The figures could not be read: {describe(exc)}", "error")
        self._set_enabled(True)
