"""The calendar: month, week, day and list views, drafts, upcoming, undo."""
