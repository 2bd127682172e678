"""Asking before something that cannot be undone."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def confirm(
    parent: QWidget,
    name: str,
    title: str,
    question: str,
    detail: str,
    act: str,
    icon: QMessageBox.Icon = QMessageBox.Icon.Warning,
) -> bool:
    """Ask ``question`` with two buttons, ``act`` and "Keep it"; keeping
    things as they are is the default (Enter, Esc). True if ``act`` was chosen."""
    box = QMessageBox(parent)
    box.setObjectName(name)
    box.setIcon(icon)
    box.setWindowTitle(title)
    box.setText(question)
    box.setInformativeText(detail)
    do_it = box.addButton(act, QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton("&Keep it", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(keep)
    box.setEscapeButton(keep)
    box.exec()
    box.deleteLater()
    return box.clickedButton() is do_it
