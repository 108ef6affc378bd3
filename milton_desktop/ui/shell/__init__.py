"""The main window, the tray, notices and the single-instance hand-off."""
