"""The first-run guide: three steps from an empty window to a scheduled post.

Shown above the calendar while there is no account or no post yet, until the user
hides it: connect an account, write a post, drag it onto the calendar. Under the
steps, what each platform asks of the user (a developer app of their own, or a
token), in plain words taken from the Platform descriptors, so a new platform is
explained without code here.
"""

from __future__ import annotations

import html
from urllib.parse import urlsplit

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from milton_desktop.publishers import registry
from milton_desktop.publishers.platform import Platform
from milton_desktop.ui import tones

#: where hiding the guide is remembered (the window's UI state, not a preference)
DISMISSED_KEY = "hints/first-run-dismissed"


def platform_needs(platform: Platform) -> str:
    """What connecting ``platform`` takes, in a sentence or two."""
    parts = []
    if platform.oauth is not None and platform.oauth.registers_itself:
        parts.append(
            "Sign in with the browser on your own server (Milton registers itself there: "
            "nothing to set up), or paste an access token."
        )
    elif platform.oauth is not None:
        host = urlsplit(platform.oauth.developer_portal).netloc or platform.oauth.developer_portal
        what = "its client ID and secret" if platform.oauth.needs_client_secret else "its client ID"
        parts.append(
            f"Sign in with the browser through a developer app you create yourself on "
            f"{host} (Milton asks for {what}), or paste an access token."
        )
    else:
        parts.append(platform.no_browser_note or "Paste an access token.")
    parts.append(platform.token_help)
    if platform.rules.requires_media:
        needs = "an image or video"
        if platform.rules.requires_url:
            needs += " at a public link (https://…)"
        parts.append(f"Every {platform.label} post needs {needs}.")
    return " ".join(parts)


class FirstRunGuide(QFrame):
    """A dismissible panel with the first steps; :meth:`refresh` decides if it shows.

    Signals:
        connect_requested: the user pressed "Connect an account…".
        write_requested: the user pressed "Write a post…".
    """

    connect_requested = Signal()
    write_requested = Signal()

    def __init__(self, ui_state: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("firstRunGuide")
        self.setAccessibleName("Getting started")
        self.ui_state = ui_state
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        box = QVBoxLayout(self)
        box.setContentsMargins(14, 10, 10, 10)
        box.setSpacing(6)

        # two rows, so the calendar keeps its room in a small window: the title with
        # the details and Hide, then the steps, each a button or a short line
        top = QHBoxLayout()
        title = QLabel("<b>Getting started</b>: three steps to your first scheduled post")
        title.setObjectName("firstRunTitle")
        title.setWordWrap(True)
        top.addWidget(title, 1)
        self.details_button = QToolButton()
        self.details_button.setObjectName("firstRunDetails")
        self.details_button.setCheckable(True)
        self.details_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.details_button.setArrowType(Qt.ArrowType.RightArrow)
        self.details_button.setText("What each platform needs")
        self.details_button.setAutoRaise(True)
        self.details_button.toggled.connect(self._on_details_button_toggled)
        top.addWidget(self.details_button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide_button = QToolButton()
        self.hide_button.setObjectName("firstRunHide")
        self.hide_button.setText("Hide")
        self.hide_button.setToolTip("Hide this guide (it does not come back)")
        self.hide_button.setAccessibleName("Hide the getting started guide")
        self.hide_button.clicked.connect(self._on_hide_button_clicked)
        top.addWidget(self.hide_button, 0, Qt.AlignmentFlag.AlignTop)
        box.addLayout(top)

        steps = QHBoxLayout()
        steps.setSpacing(8)
        self.connect_button = QPushButton()
        self.connect_button.setObjectName("firstRunConnect")
        self.connect_button.setToolTip(
            f"{registry.labels('or')}: sign in through a developer app of your own, or "
            "paste an access token (see “What each platform needs”)"
        )
        self.connect_button.clicked.connect(self.connect_requested)
        self.write_button = QPushButton()
        self.write_button.setObjectName("firstRunWrite")
        self.write_button.setToolTip(
            "The editor counts characters as each platform does and shows how the post "
            "will look there"
        )
        self.write_button.clicked.connect(self.write_requested)
        self.drag_step = QLabel()
        self.drag_step.setObjectName("firstRunDrag")
        self.drag_step.setWordWrap(True)
        self.drag_step.setToolTip(
            "Drag a draft from Drafts onto a day, or onto an hour in week view. Milton "
            "publishes it at that time while it runs; closing the window keeps it in the tray."
        )
        arrows = []
        for widget in (self.connect_button, None, self.write_button, None, self.drag_step):
            if widget is None:
                arrow = QLabel("→")
                arrow.setAccessibleName("then")
                arrows.append(arrow)
                steps.addWidget(arrow)
            else:
                steps.addWidget(widget, 1 if widget is self.drag_step else 0)
        box.addLayout(steps)

        self.details = QLabel()
        self.details.setObjectName("firstRunPlatforms")
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.hide()
        box.addWidget(self.details)
        self._fill_details()
        self._has_accounts = False
        self._has_posts = False
        self.hide()

    # ------------------------------------------------------------ state

    @property
    def dismissed(self) -> bool:
        return bool(self.ui_state.value(DISMISSED_KEY, False, type=bool))

    def refresh(self, *, has_accounts: bool, has_posts: bool) -> None:
        """Show the guide while a step is left, unless the user hid it."""
        self._has_accounts, self._has_posts = has_accounts, has_posts
        self._paint()
        self.setVisible(not self.dismissed and not (has_accounts and has_posts))

    def _paint(self) -> None:
        palette = self.palette()
        background = tones.mix(
            palette.color(QPalette.ColorRole.Window),
            palette.color(QPalette.ColorRole.Highlight),
            0.10,
        )
        palette.setColor(QPalette.ColorRole.Window, background)
        self.setPalette(palette)
        self.connect_button.setText(
            "✓ 1. Account connected: add another…"
            if self._has_accounts
            else "1. Connect an account…"
        )
        self.write_button.setText(
            "✓ 2. Post written: write another…" if self._has_posts else "2. Write a post…"
        )
        self.drag_step.setText("3. Drag the draft onto a day in the calendar.")
        self.write_button.setDefault(self._has_accounts and not self._has_posts)

    def _fill_details(self) -> None:
        rows = "<br><br>".join(
            f"<b>{html.escape(p.label)}</b>: {html.escape(platform_needs(p))}"
            for p in registry.platforms()
        )
        self.details.setText(rows)

    # ------------------------------------------------------------ slots

    def _on_hide_button_clicked(self) -> None:
        self.ui_state.setValue(DISMISSED_KEY, True)
        self.hide()

    def _on_details_button_toggled(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.details_button.setArrowType(
            Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        )
