"""The status bar's word on the link to the other tills (the event log's follower)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from storeapp.domain.events.follow import FollowState, FollowStatus

#: What the label says in each of the follower's states, and its tooltip.
LINK_TEXT = {
    FollowState.CONNECTING: ("connecting…", "Reaching the database to follow the other tills."),
    FollowState.LIVE: ("live", "Woken by PostgreSQL at each commit (LISTEN/NOTIFY)."),
    FollowState.POLLING: (
        "following",
        "Reading the shared SQLite file's event log 10 times a second.",
    ),
    FollowState.RECONNECTING: (
        "reconnecting…",
        "The database cannot be reached. Sales made elsewhere meanwhile are caught up "
        "from this till's place in the event log once it is back.",
    ),
    FollowState.STOPPED: ("stopped", ""),
}


class LinkLabel(QLabel):
    """``Other tills: live`` (or following, reconnecting…), the reason in its tooltip."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__("Other tills: connecting…", parent)
        self.setObjectName("linkLabel")

    def show_status(self, status: FollowStatus) -> None:
        """GUI thread only (the composition root hands it over through the bridge)."""
        text, tip = LINK_TEXT.get(status.state, (status.state.value, ""))
        if status.detail:
            tip = f"{tip}\n{status.detail}" if tip else status.detail
        self.setText(f"Other tills: {text}")
        self.setToolTip(f"{tip}\nEvent log position: {status.cursor}")
